"""Graph error envelope → ChannelError: what is retried, when, and what the manager reads."""

from __future__ import annotations

import pytest

from gincore_chats.channels.base import ChannelError
from gincore_chats.channels.meta.errors import GraphError, error_from_response

from .fake_graph import graph_error
from .helpers import load


def test_pair_rate_limit_from_the_reference() -> None:
    error = error_from_response(400, load("wa_error_131056.json"))
    assert isinstance(error, ChannelError)
    assert (error.code, error.retry_after, error.permanent) == (131056, 6.0, False)
    assert error.fbtrace_id == "A1b2C3d4E5f"
    assert "pair rate limit hit" in error.reason
    assert "too many messages sent from this phone number" in error.reason  # error_data.details


def test_messenger_window_error_from_the_reference() -> None:
    error = error_from_response(400, load("ms_error_window.json"))
    assert isinstance(error, GraphError)
    assert (error.code, error.subcode, error.permanent, error.retry_after) == (
        10,
        2018278,
        True,
        None,
    )
    assert "HUMAN_AGENT" in error.reason and "24-hour" in error.reason
    assert "outside of allowed window" in error.reason


@pytest.mark.parametrize(
    ("status", "code", "subcode", "wait"),
    [
        (400, 4, None, 60.0),
        (400, 80007, None, 60.0),
        (400, 613, None, 60.0),
        (429, 130429, None, 5.0),
        (400, 131056, None, 6.0),
        (400, 131048, None, 60.0),
        (400, 4, 2018022, 60.0),
        (400, 80004, None, 60.0),
    ],
)
def test_rate_limits_are_retried_later(
    status: int, code: int, subcode: int | None, wait: float
) -> None:
    error = error_from_response(status, graph_error(code, f"(#{code}) limit", subcode=subcode))
    assert (error.retry_after, error.permanent) == (wait, False)
    assert "rate limit" in error.reason


def test_retry_after_header_wins() -> None:
    error = error_from_response(429, graph_error(130429, "limit"), {"Retry-After": "17"})
    assert error.retry_after == 17.0


@pytest.mark.parametrize(
    ("code", "subcode", "words"),
    [
        (131047, None, "24 hours"),
        (190, None, "access token"),
        (0, None, "access token"),
        (100, None, "Meta error 100"),
        (131008, None, "Meta error 131008"),
        (551, None, "isn't receiving messages"),
        (10, None, "permission"),
        (200, None, "permission"),
        (131026, None, "could not deliver"),
        (131051, None, "does not support"),
        (368, None, "policy"),
        (100, 2018001, "no user"),
        (100, 2018109, "larger"),
    ],
)
def test_permanent_errors_have_a_reason_for_the_manager(
    code: int, subcode: int | None, words: str
) -> None:
    error = error_from_response(400, graph_error(code, f"(#{code}) text", subcode=subcode))
    assert error.permanent is True and error.retry_after is None
    assert words in error.reason
    assert f"(#{code}) text" in error.reason  # Meta's own words stay for support


def test_instagram_window_without_subcode_reads_as_window() -> None:
    error = error_from_response(
        400, graph_error(10, "(#10) This message is sent outside of allowed window.")
    )
    assert error.permanent and "24-hour" in error.reason


@pytest.mark.parametrize("code", [1, 2, 1200, 131000])
def test_temporary_errors_are_retried_with_backoff(code: int) -> None:
    error = error_from_response(500 if code == 1 else 400, graph_error(code, "Temporary failure"))
    assert (error.permanent, error.retry_after) == (False, None)


def test_unknown_code_is_retried_not_dropped() -> None:
    error = error_from_response(400, graph_error(987654, "Something new"))
    assert (error.permanent, error.retry_after) == (False, None)
    assert "Meta error 987654: Something new" in error.reason


def test_is_transient_flag_is_honoured() -> None:
    body = graph_error(100, "flaky")
    body["error"]["is_transient"] = True
    assert error_from_response(400, body).permanent is False


@pytest.mark.parametrize(
    ("status", "permanent", "wait"),
    [
        (502, False, None),
        (503, False, None),
        (401, True, None),
        (403, True, None),
        (429, False, 60.0),
    ],
)
def test_answers_without_an_envelope(status: int, permanent: bool, wait: float | None) -> None:
    error = error_from_response(status, None)
    assert (error.permanent, error.retry_after) == (permanent, wait)
    assert f"HTTP {status}" in error.reason or "rate limit" in error.reason


def test_retry_after_zero_means_retry_now() -> None:
    error = error_from_response(400, graph_error(4, "limit"), {"Retry-After": "0"})
    assert error.retry_after == 0


def test_a_person_who_blocked_the_page_makes_the_customer_unreachable() -> None:
    blocked = error_from_response(
        400, graph_error(551, "This person isn't available right now.", subcode=1545041)
    )
    assert (blocked.permanent, blocked.unreachable) == (True, True)
    window = error_from_response(400, load("ms_error_window.json"))
    assert (window.permanent, window.unreachable) == (True, False)  # they may write again
