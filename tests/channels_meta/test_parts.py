"""Splitting long replies and reporting partly sent messages."""

from __future__ import annotations

import pytest

from gincore_chats.channels.base import ChannelError
from gincore_chats.channels.meta.parts import send_parts, split_text


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello", 10) == ["hello"]


def test_split_prefers_line_breaks_and_spaces() -> None:
    assert split_text("aaaa bbbb\ncccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]


def test_split_hard_cuts_a_word_longer_than_the_limit() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_by_bytes_never_cuts_a_character() -> None:
    chunks = split_text("\u00e9" * 7, 5, in_bytes=True)  # 2 bytes each
    assert chunks == ["\u00e9\u00e9", "\u00e9\u00e9", "\u00e9\u00e9", "\u00e9"]


def test_send_parts_raises_when_nothing_went_out() -> None:
    def fail() -> str:
        raise ChannelError("down", retry_after=5)

    with pytest.raises(ChannelError) as caught:
        send_parts([fail, lambda: "never"])
    assert caught.value.retry_after == 5
    with pytest.raises(ChannelError):
        send_parts([])


def test_send_parts_reports_what_is_missing() -> None:
    def fail() -> str:
        raise ChannelError("no second part")

    result = send_parts([lambda: "m1", fail, lambda: "m3"])
    assert result.external_id == "m1"
    assert result.extra == {"external_ids": ["m1"], "incomplete": "no second part"}
    assert send_parts([lambda: "a", lambda: "b"]).extra == {"external_ids": ["a", "b"]}
    assert send_parts([lambda: "a"]).extra == {}
