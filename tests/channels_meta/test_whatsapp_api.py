"""WhatsApp sends, uploads, downloads against the fake Graph API: exact bytes on the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gincore_chats.channels.base import (
    ChannelConfig,
    ChannelError,
    InboundMedia,
    OutboundAttachment,
    OutboundMessage,
)
from gincore_chats.channels.whatsapp import WhatsAppChannel

from .fake_graph import TOKEN, FakeGraph, graph_error
from .helpers import load

PHONE_ID = "106540352242922"
CREDS = {
    "access_token": TOKEN,
    "app_secret": "test_app_secret",
    "verify_token": "v",
    "phone_number_id": PHONE_ID,
    "business_account_id": "102290129340398",
}
TO = "16505551234"
WA = WhatsAppChannel()
MESSAGES_PATH = f"/v21.0/{PHONE_ID}/messages"


def image(url: str = "https://cdn.example.com/p/blue.jpg", **kw: Any) -> OutboundAttachment:
    fields = {"kind": "image", "url": url, "filename": "blue.jpg", "mime_type": "image/jpeg"}
    return OutboundAttachment(**{**fields, **kw})


def pdf(**kw: Any) -> OutboundAttachment:
    fields = {
        "kind": "file",
        "url": "https://cdn.example.com/docs/invoice-5521.pdf",
        "filename": "invoice-5521.pdf",
        "mime_type": "application/pdf",
    }
    return OutboundAttachment(**{**fields, **kw})


def test_text_reply_is_exactly_the_documented_body(config: ChannelConfig, graph: FakeGraph) -> None:
    expected = load("wa_send_text.json")
    result = WA.send(
        config,
        CREDS,
        OutboundMessage(
            recipient_id=TO,
            text=expected["text"]["body"],
            reply_to_external_id=expected["context"]["message_id"],
        ),
    )
    (call,) = graph.requests
    assert (call.method, call.path) == ("POST", MESSAGES_PATH)
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in call.query
    assert call.headers["content-type"] == "application/json"
    assert call.json() == expected
    assert isinstance(call.json()["to"], str)
    assert result.external_id.startswith("wamid.") and result.extra == {}


def test_documented_success_body_gives_the_wamid(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(200, load("wa_send_success.json"))  # the reference's answer, verbatim
    result = WA.send(config, CREDS, OutboundMessage(recipient_id=TO, text="hi"))
    assert result.external_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def test_image_by_link_with_caption_is_one_message(config: ChannelConfig, graph: FakeGraph) -> None:
    WA.send(
        config, CREDS, OutboundMessage(recipient_id=TO, text="Blue variant", attachments=(image(),))
    )
    (call,) = graph.requests
    assert call.json() == load("wa_send_image.json")


def test_document_upload_then_send(config: ChannelConfig, graph: FakeGraph) -> None:
    data = b"%PDF-1.4 invoice"
    result = WA.send(
        config,
        CREDS,
        OutboundMessage(
            recipient_id=TO,
            text="Your invoice",
            attachments=(pdf(url="/tmp/invoice-5521.pdf", data=data),),
        ),
    )
    upload, send = graph.requests
    assert (upload.method, upload.path) == ("POST", f"/v21.0/{PHONE_ID}/media")
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    form = upload.form()
    assert form["messaging_product"].text == "whatsapp"
    assert form["type"].text == "application/pdf"
    assert (form["file"].filename, form["file"].content_type, form["file"].data) == (
        "invoice-5521.pdf",
        "application/pdf",
        data,
    )
    media_id = next(iter(graph.media))
    assert graph.media[media_id] == (data, "application/pdf")
    documented = load("wa_send_document.json")
    documented["document"]["id"] = media_id
    assert send.json() == documented
    assert result.external_id.startswith("wamid.")


def test_text_too_long_for_a_caption_goes_first(config: ChannelConfig, graph: FakeGraph) -> None:
    long_text = "x" * 1025
    result = WA.send(
        config, CREDS, OutboundMessage(recipient_id=TO, text=long_text, attachments=(image(),))
    )
    text_call, image_call = graph.requests
    assert text_call.json()["text"]["body"] == long_text
    assert "caption" not in image_call.json()["image"]
    assert (
        len(result.extra["external_ids"]) == 2
        and result.external_id == result.extra["external_ids"][0]
    )


def test_images_whatsapp_cannot_show_go_as_documents(
    config: ChannelConfig, graph: FakeGraph
) -> None:
    gif = image(url="https://cdn.example.com/a.gif", filename="a.gif", mime_type="image/gif")
    WA.send(config, CREDS, OutboundMessage(recipient_id=TO, attachments=(gif,)))
    body = graph.requests[0].json()
    assert body["type"] == "document"
    assert body["document"] == {"link": "https://cdn.example.com/a.gif", "filename": "a.gif"}


def test_pair_rate_limit_then_success(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(400, load("wa_error_131056.json"))
    message = OutboundMessage(recipient_id=TO, text="hi")
    with pytest.raises(ChannelError) as caught:
        WA.send(config, CREDS, message)
    assert (caught.value.retry_after, caught.value.permanent, caught.value.code) == (
        6.0,
        False,
        131056,
    )
    assert WA.send(config, CREDS, message).external_id.startswith("wamid.")
    assert len(graph.calls("POST", "/messages")) == 2


def test_throughput_limit_429(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(429, graph_error(130429, "(#130429) Rate limit hit"))
    with pytest.raises(ChannelError) as caught:
        WA.send(config, CREDS, OutboundMessage(recipient_id=TO, text="hi"))
    assert caught.value.retry_after == 5.0 and not caught.value.permanent


def test_24_hour_window_failure_from_the_api(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(
        400,
        graph_error(
            131047,
            "Re-engagement message",
            details="Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        ),
    )
    with pytest.raises(ChannelError) as caught:
        WA.send(config, CREDS, OutboundMessage(recipient_id=TO, text="hi"))
    assert caught.value.permanent and caught.value.retry_after is None
    assert "24 hours" in caught.value.reason and caught.value.code == 131047


def test_closed_window_is_refused_before_calling(config: ChannelConfig, graph: FakeGraph) -> None:
    old = datetime.now(UTC) - timedelta(hours=25)
    with pytest.raises(ChannelError) as caught:
        WA.send(
            config, CREDS, OutboundMessage(recipient_id=TO, text="hi", customer_last_message_at=old)
        )
    assert caught.value.permanent and caught.value.code == 131047
    assert graph.requests == []
    recent = datetime.now(UTC) - timedelta(hours=23)
    WA.send(
        config, CREDS, OutboundMessage(recipient_id=TO, text="hi", customer_last_message_at=recent)
    )
    assert len(graph.requests) == 1


def test_wrong_token_is_permanent(config: ChannelConfig, graph: FakeGraph) -> None:
    with pytest.raises(ChannelError) as caught:
        WA.send(
            config,
            {**CREDS, "access_token": "expired"},
            OutboundMessage(recipient_id=TO, text="hi"),
        )
    assert caught.value.permanent and caught.value.code == 190
    assert "access token" in caught.value.reason


def test_failed_upload_sends_nothing(config: ChannelConfig, graph: FakeGraph) -> None:
    graph.fail_next(400, graph_error(131053, "Media upload error"), path_contains="/media")
    message = OutboundMessage(
        recipient_id=TO, text="x" * 2000, attachments=(pdf(url="/tmp/x.pdf", data=b"1"),)
    )
    with pytest.raises(ChannelError) as caught:
        WA.send(config, CREDS, message)
    assert caught.value.permanent
    assert graph.calls("POST", "/messages") == []


def test_partial_failure_is_reported_not_retried(config: ChannelConfig, graph: FakeGraph) -> None:
    # The text went out; raising would make the job send it again with the image.
    graph.fail_next(
        500, graph_error(131000, "Something went wrong"), path_contains="/messages", skip=1
    )
    message = OutboundMessage(recipient_id=TO, text="x" * 2000, attachments=(image(),))
    result = WA.send(config, CREDS, message)
    assert result.extra["external_ids"] == [result.external_id]
    assert "Something went wrong" in result.extra["incomplete"]


def test_long_text_is_split_at_4096(config: ChannelConfig, graph: FakeGraph) -> None:
    text = ("word " * 1000).strip()  # 4999 characters
    result = WA.send(config, CREDS, OutboundMessage(recipient_id=TO, text=text))
    bodies = [r.json()["text"]["body"] for r in graph.requests]
    assert len(bodies) == 2 and all(len(b) <= 4096 for b in bodies)
    assert " ".join(bodies) == text
    assert len(result.extra["external_ids"]) == 2


def test_nothing_to_send_and_missing_credentials(config: ChannelConfig, graph: FakeGraph) -> None:
    with pytest.raises(ChannelError) as caught:
        WA.send(config, CREDS, OutboundMessage(recipient_id=TO))
    assert caught.value.permanent
    creds = {k: v for k, v in CREDS.items() if k != "phone_number_id"}
    with pytest.raises(ChannelError) as caught:
        WA.send(config, creds, OutboundMessage(recipient_id=TO, text="hi"))
    assert caught.value.permanent and "phone_number_id" in caught.value.reason
    assert graph.requests == []


def test_graph_version_comes_from_config(graph: FakeGraph) -> None:
    graph.version = "v19.0"
    config = ChannelConfig(graph_api_base=graph.base_url, graph_api_version="v19.0")
    WA.send(config, CREDS, OutboundMessage(recipient_id=TO, text="hi"))
    assert graph.requests[0].path == f"/v19.0/{PHONE_ID}/messages"


def test_media_download_is_two_authenticated_steps(config: ChannelConfig, graph: FakeGraph) -> None:
    data = b"\xff\xd8\xff jpeg bytes"
    media_id = graph.add_media(data, "image/jpeg")
    got = WA.fetch_media(config, CREDS, InboundMedia(kind="image", ref=media_id), 10_000)
    assert (got.data, got.mime_type) == (data, "image/jpeg")
    info, download = graph.requests
    assert (info.method, info.path) == ("GET", f"/v21.0/{media_id}")
    assert (download.method, download.path) == ("GET", f"/lookaside/{media_id}")
    assert info.headers["authorization"] == download.headers["authorization"] == f"Bearer {TOKEN}"


def test_document_download_keeps_the_webhook_file_name(
    config: ChannelConfig, graph: FakeGraph
) -> None:
    media_id = graph.add_media(b"%PDF", "application/pdf")
    media = InboundMedia(
        kind="file", ref=media_id, mime_type="application/pdf", filename="receipt-5521.pdf"
    )
    assert WA.fetch_media(config, CREDS, media, 100).filename == "receipt-5521.pdf"


def test_media_over_the_limit_is_not_downloaded(config: ChannelConfig, graph: FakeGraph) -> None:
    media_id = graph.add_media(b"x" * 2048, "video/mp4")
    with pytest.raises(ChannelError) as caught:
        WA.fetch_media(config, CREDS, InboundMedia(kind="video", ref=media_id), 1024)
    assert caught.value.permanent
    assert [r.path for r in graph.requests] == [f"/v21.0/{media_id}"]  # file_size said enough


def test_mark_read(config: ChannelConfig, graph: FakeGraph) -> None:
    WA.mark_read(config, CREDS, "wamid.HBgLabc")
    (call,) = graph.requests
    assert call.path == MESSAGES_PATH
    assert call.json() == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.HBgLabc",
    }


def test_connect_subscribes_the_app_to_the_waba(config: ChannelConfig, graph: FakeGraph) -> None:
    line = WA.connect(config, CREDS, "https://chat.example.com/chats/hooks/abc")
    (call,) = graph.requests
    assert (call.method, call.path) == ("POST", "/v21.0/102290129340398/subscribed_apps")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert "https://chat.example.com/chats/hooks/abc" in line


def test_validate_credentials() -> None:
    WA.validate_credentials(CREDS)
    with pytest.raises(ValueError, match="phone number ID"):
        WA.validate_credentials({**CREDS, "phone_number_id": "+1 555 0783881"})
