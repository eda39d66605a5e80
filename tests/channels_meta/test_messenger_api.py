"""Messenger Send API, profile, media and Page subscription against the fake Graph API."""

from __future__ import annotations

import json
import socket
import traceback
from datetime import UTC, datetime, timedelta

import pytest

from gincore_chats.channels.base import (
    ChannelConfig,
    ChannelError,
    InboundMedia,
    OutboundAttachment,
    OutboundMessage,
    Sender,
)
from gincore_chats.channels.messenger import MessengerChannel

from .fake_graph import TOKEN, FakeGraph, graph_error
from .helpers import load

PAGE = "106540352242922"
PSID = "6783234567890123"
CREDS = {
    "page_access_token": TOKEN,
    "app_secret": "test_app_secret",
    "verify_token": "v",
    "page_id": PAGE,
}
MS = MessengerChannel()
PATH = f"/v21.0/{PAGE}/messages"


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_text_is_the_documented_body_with_the_token_in_the_query(
    config: ChannelConfig, graph: FakeGraph
) -> None:
    expected = load("ms_send_text.json")
    result = MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text="Hi! How can I help?"))
    (call,) = graph.requests
    assert (call.method, call.path) == ("POST", PATH)
    assert call.query == {"access_token": TOKEN}
    assert "authorization" not in call.headers
    assert call.json() == expected
    assert result.external_id.startswith("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM")


def test_documented_success_body_gives_the_mid(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(200, load("ms_send_success.json"))  # the reference's answer, verbatim
    result = MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text="hi"))
    assert result.external_id == load("ms_send_success.json")["message_id"]


def test_file_by_url_is_the_documented_body(config: ChannelConfig, graph: FakeGraph) -> None:
    attachment = OutboundAttachment(
        kind="file",
        url="https://cdn.example.com/docs/invoice-5521.pdf",
        filename="invoice-5521.pdf",
        mime_type="application/pdf",
    )
    MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, attachments=(attachment,)))
    assert graph.requests[0].json() == load("ms_send_file.json")


def test_text_and_image_are_two_messages_text_first(
    config: ChannelConfig, graph: FakeGraph
) -> None:
    img = OutboundAttachment(
        kind="image",
        url="https://cdn.example.com/p/blue.jpg",
        filename="b.jpg",
        mime_type="image/jpeg",
    )
    result = MS.send(
        config, CREDS, OutboundMessage(recipient_id=PSID, text="Blue:", attachments=(img,))
    )
    text_call, image_call = graph.requests
    assert text_call.json()["message"] == {"text": "Blue:"}
    documented = load("ms_send_image.json")["message"]["attachment"]
    sent = image_call.json()["message"]["attachment"]
    assert (sent["type"], sent["payload"]["url"]) == (
        documented["type"],
        documented["payload"]["url"],
    )
    assert image_call.json()["messaging_type"] == "RESPONSE"
    assert image_call.json()["recipient"] == {"id": PSID}
    assert result.external_id == result.extra["external_ids"][0] != result.extra["external_ids"][1]


def test_long_text_is_split_at_2000(config: ChannelConfig, graph: FakeGraph) -> None:
    text = "\n".join(["line of text " * 10] * 30)  # about 3900 characters
    MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text=text))
    texts = [r.json()["message"]["text"] for r in graph.requests]
    assert len(texts) == 2 and all(len(t) <= 2000 for t in texts)


def test_failed_attachment_after_text_is_incomplete(
    config: ChannelConfig, graph: FakeGraph
) -> None:
    graph.fail_next(400, graph_error(100, "(#100) Upload failed", subcode=2018109), skip=1)
    img = OutboundAttachment(
        kind="image",
        url="https://cdn.example.com/big.jpg",
        filename="b.jpg",
        mime_type="image/jpeg",
    )
    result = MS.send(
        config, CREDS, OutboundMessage(recipient_id=PSID, text="Look:", attachments=(img,))
    )
    assert result.extra["external_ids"] == [result.external_id]
    assert "larger than Messenger allows" in result.extra["incomplete"]


def test_upload_is_multipart_with_filedata(config: ChannelConfig, graph: FakeGraph) -> None:
    data = b"\x89PNG fake"
    img = OutboundAttachment(
        kind="image", url="/tmp/p.png", filename="p.png", mime_type="image/png", data=data
    )
    MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, attachments=(img,)))
    (call,) = graph.requests
    assert call.path == PATH and call.query == {"access_token": TOKEN}
    form = call.form()
    assert json.loads(form["recipient"].text) == {"id": PSID}
    assert form["messaging_type"].text == "RESPONSE"
    message = json.loads(form["message"].text)
    assert (
        message["attachment"]["type"] == "image" and "url" not in message["attachment"]["payload"]
    )
    assert (form["filedata"].filename, form["filedata"].content_type, form["filedata"].data) == (
        "p.png",
        "image/png",
        data,
    )


@pytest.mark.parametrize(
    ("option", "last", "expected"),
    [
        ("yes", ago(days=3), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
        ("yes", ago(hours=2), {"messaging_type": "RESPONSE"}),
        ("yes", None, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
        ("", None, {"messaging_type": "RESPONSE"}),
        ("no", ago(hours=2), {"messaging_type": "RESPONSE"}),
    ],
)
def test_messaging_type_and_human_agent_tag(
    config: ChannelConfig, graph: FakeGraph, option: str, last: datetime | None, expected: dict
) -> None:
    message = OutboundMessage(recipient_id=PSID, text="hi", customer_last_message_at=last)
    MS.send(config, {**CREDS, "human_agent_tag": option}, message)
    body = graph.requests[0].json()
    assert {k: body[k] for k in ("messaging_type", "tag") if k in body} == expected


@pytest.mark.parametrize(
    ("option", "last", "words"),
    [("", ago(hours=25), "enable it"), ("yes", ago(days=8), "more than 7 days old")],
)
def test_closed_window_is_refused_before_calling(
    config: ChannelConfig, graph: FakeGraph, option: str, last: datetime, words: str
) -> None:
    message = OutboundMessage(recipient_id=PSID, text="hi", customer_last_message_at=last)
    with pytest.raises(ChannelError) as caught:
        MS.send(config, {**CREDS, "human_agent_tag": option}, message)
    assert caught.value.permanent and graph.requests == []
    assert words in caught.value.reason


def test_window_error_from_the_api(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(400, load("ms_error_window.json"))
    with pytest.raises(ChannelError) as caught:
        MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text="hi"))
    assert caught.value.permanent and caught.value.code == 10
    assert "outside of allowed window" in caught.value.reason


def test_user_unavailable_is_permanent(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(400, graph_error(551, "This person isn't available right now."))
    with pytest.raises(ChannelError) as caught:
        MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text="hi"))
    assert caught.value.permanent and caught.value.code == 551


def test_rate_limit_then_success(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(400, graph_error(613, "Calls to this api have exceeded the rate limit."))
    message = OutboundMessage(recipient_id=PSID, text="hi")
    with pytest.raises(ChannelError) as caught:
        MS.send(config, CREDS, message)
    assert caught.value.retry_after == 60.0 and not caught.value.permanent
    assert MS.send(config, CREDS, message).external_id.startswith("m_")


def test_wrong_token(config: ChannelConfig, graph: FakeGraph) -> None:
    with pytest.raises(ChannelError) as caught:
        MS.send(
            config,
            {**CREDS, "page_access_token": "nope"},
            OutboundMessage(recipient_id=PSID, text="x"),
        )
    assert caught.value.permanent and caught.value.code == 190


def test_unreachable_api_never_leaks_the_page_token() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ChannelConfig(graph_api_base=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ChannelError) as caught:
        MS.send(config, CREDS, OutboundMessage(recipient_id=PSID, text="hi"))
    assert not caught.value.permanent
    shown = "".join(traceback.format_exception(caught.value)) + caught.value.reason
    assert TOKEN not in shown


def test_profile(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.profiles[PSID] = {
        "first_name": "Peter",
        "last_name": "Chang",
        "profile_pic": "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1",
    }
    sender = MS.profile(config, CREDS, PSID)
    assert sender == Sender(
        id=PSID,
        name="Peter Chang",
        avatar_url="https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1",
    )
    (call,) = graph.requests
    assert (call.method, call.path) == ("GET", f"/v21.0/{PSID}")
    assert call.query == {"fields": "first_name,last_name,profile_pic", "access_token": TOKEN}


def test_attachment_download_sends_no_token(config: ChannelConfig, graph: FakeGraph) -> None:
    url = graph.cdn_url("invoice-5521.pdf", b"%PDF-1.4", "application/pdf")
    got = MS.fetch_media(config, CREDS, InboundMedia(kind="file", ref=url), 1000)
    assert (got.data, got.mime_type, got.filename) == (
        b"%PDF-1.4",
        "application/pdf",
        "invoice-5521.pdf",
    )
    (call,) = graph.requests
    assert "authorization" not in call.headers and "access_token" not in call.query


def test_attachment_download_limits(config: ChannelConfig, graph: FakeGraph) -> None:
    url = graph.cdn_url("big.mp4", b"x" * 5000, "video/mp4")
    with pytest.raises(ChannelError) as caught:
        MS.fetch_media(config, CREDS, InboundMedia(kind="video", ref=url), 4999)
    assert caught.value.permanent
    expired = f"{graph.base_url}/cdn/gone.jpg"
    with pytest.raises(ChannelError) as caught:
        MS.fetch_media(config, CREDS, InboundMedia(kind="image", ref=expired), 4999)
    assert caught.value.permanent and "404" in caught.value.reason


def test_streamed_download_is_cut_at_the_limit(config: ChannelConfig, graph: FakeGraph) -> None:
    url = graph.cdn_url("stream.mp4", b"y" * 5000, "video/mp4", chunked=True)
    media = InboundMedia(kind="video", ref=url)
    assert MS.fetch_media(config, CREDS, media, 5000).data == b"y" * 5000
    with pytest.raises(ChannelError) as caught:
        MS.fetch_media(config, CREDS, media, 4999)
    assert caught.value.permanent and "larger than 4999 bytes" in caught.value.reason


def test_connect_installs_the_app_on_the_page(config: ChannelConfig, graph: FakeGraph) -> None:
    line = MS.connect(config, CREDS, "https://chat.example.com/hooks/m")
    (call,) = graph.requests
    assert (call.method, call.path) == ("POST", f"/v21.0/{PAGE}/subscribed_apps")
    assert call.query["access_token"] == TOKEN
    fields = call.query["subscribed_fields"].split(",")
    for field in (
        "messages",
        "messaging_postbacks",
        "message_deliveries",
        "message_reads",
        "message_echoes",
    ):
        assert field in fields
    assert "https://chat.example.com/hooks/m" in line


def test_validate_credentials() -> None:
    MS.validate_credentials({**CREDS, "human_agent_tag": "yes"})
    with pytest.raises(ValueError, match="Page ID"):
        MS.validate_credentials({**CREDS, "page_id": "my-shop"})
    with pytest.raises(ValueError, match="yes or no"):
        MS.validate_credentials({**CREDS, "human_agent_tag": "maybe"})
