"""Instagram sends for both setups (§5.3): which host, which auth, which body."""

from __future__ import annotations

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
from gincore_chats.channels.instagram import InstagramChannel

from .fake_graph import TOKEN, FakeGraph, graph_error
from .helpers import load

IG_ID = "17841405726653026"
PAGE = "106540352242922"
IGSID = "1234567890123456"
IG_LOGIN = {
    "access_token": TOKEN,
    "app_secret": "s",
    "verify_token": "v",
    "instagram_account_id": IG_ID,
}
FB_LOGIN = {**IG_LOGIN, "page_id": PAGE}
IG = InstagramChannel()
PIC = OutboundAttachment(
    kind="image",
    url="https://cdn.example.com/p/blue.jpg",
    filename="blue.jpg",
    mime_type="image/jpeg",
)


def test_instagram_login_text(config: ChannelConfig, graph: FakeGraph, ig_graph: FakeGraph) -> None:
    result = IG.send(
        config, IG_LOGIN, OutboundMessage(recipient_id=IGSID, text="Yes, we ship to Austria.")
    )
    (call,) = ig_graph.requests
    assert graph.requests == []  # graph.instagram.com, not graph.facebook.com
    assert (call.method, call.path) == ("POST", f"/v21.0/{IG_ID}/messages")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.query == {}
    # The documented body: no messaging_type with Instagram Login.
    assert call.json() == {
        "recipient": {"id": IGSID},
        "message": {"text": "Yes, we ship to Austria."},
    }
    assert result.external_id.startswith("m_")


def test_instagram_login_image_is_the_documented_body(
    config: ChannelConfig, ig_graph: FakeGraph
) -> None:
    IG.send(config, IG_LOGIN, OutboundMessage(recipient_id=IGSID, attachments=(PIC,)))
    assert ig_graph.requests[0].json() == load("ig_send_image.json")


def test_documents_go_as_links_in_text(config: ChannelConfig, ig_graph: FakeGraph) -> None:
    doc = OutboundAttachment(
        kind="file",
        url="https://files.example.com/inv.pdf",
        filename="inv.pdf",
        mime_type="application/pdf",
    )
    IG.send(
        config,
        IG_LOGIN,
        OutboundMessage(recipient_id=IGSID, text="Invoice:", attachments=(doc, PIC)),
    )
    text_call, image_call = ig_graph.requests
    assert text_call.json()["message"] == {
        "text": "Invoice:\ninv.pdf: https://files.example.com/inv.pdf"
    }
    assert image_call.json()["message"]["attachment"]["type"] == "image"


def test_text_is_split_at_1000_bytes(config: ChannelConfig, ig_graph: FakeGraph) -> None:
    text = "\u00e9" * 700  # 700 characters, 1400 bytes
    IG.send(config, IG_LOGIN, OutboundMessage(recipient_id=IGSID, text=text))
    texts = [r.json()["message"]["text"] for r in ig_graph.requests]
    assert [len(t.encode()) for t in texts] == [1000, 400]
    assert "".join(texts) == text


def test_files_without_a_public_link_are_refused_up_front(
    config: ChannelConfig, ig_graph: FakeGraph
) -> None:
    local = OutboundAttachment(
        kind="image", url="/tmp/p.png", filename="p.png", mime_type="image/png", data=b"x"
    )
    with pytest.raises(ChannelError) as caught:
        IG.send(
            config, IG_LOGIN, OutboundMessage(recipient_id=IGSID, text="hi", attachments=(local,))
        )
    assert caught.value.permanent and ig_graph.requests == []


def test_facebook_login_uses_the_page(
    config: ChannelConfig, graph: FakeGraph, ig_graph: FakeGraph
) -> None:
    IG.send(config, FB_LOGIN, OutboundMessage(recipient_id=IGSID, text="Hello"))
    (call,) = graph.requests
    assert ig_graph.requests == []
    assert call.path == f"/v21.0/{PAGE}/messages"
    assert call.query == {"access_token": TOKEN} and "authorization" not in call.headers
    assert call.json() == {
        "recipient": {"id": IGSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello"},
    }


def test_human_agent_tag_after_24_hours(config: ChannelConfig, ig_graph: FakeGraph) -> None:
    last = datetime.now(UTC) - timedelta(days=2)
    message = OutboundMessage(
        recipient_id=IGSID, text="Back in stock", customer_last_message_at=last
    )
    IG.send(config, {**IG_LOGIN, "human_agent_tag": "true"}, message)
    body = ig_graph.requests[0].json()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    with pytest.raises(ChannelError):
        IG.send(config, IG_LOGIN, message)  # without the option the window is closed
    assert len(ig_graph.requests) == 1


def test_window_error_and_rate_limit(config: ChannelConfig, ig_graph: FakeGraph) -> None:
    ig_graph.fail_next(
        400, graph_error(10, "(#10) This message is sent outside of allowed window.")
    )
    ig_graph.fail_next(400, graph_error(4, "(#4) Application request limit reached"))
    message = OutboundMessage(recipient_id=IGSID, text="hi")
    with pytest.raises(ChannelError) as first:
        IG.send(config, IG_LOGIN, message)
    assert first.value.permanent and "24-hour" in first.value.reason
    with pytest.raises(ChannelError) as second:
        IG.send(config, IG_LOGIN, message)
    assert second.value.retry_after == 60.0 and not second.value.permanent
    assert IG.send(config, IG_LOGIN, message).external_id


def test_profile_on_the_instagram_host(
    config: ChannelConfig, graph: FakeGraph, ig_graph: FakeGraph
) -> None:
    ig_graph.profiles[IGSID] = {
        "name": None,
        "username": "peter.chang",
        "profile_pic": "https://x/p.jpg",
    }
    assert IG.profile(config, IG_LOGIN, IGSID) == Sender(
        id=IGSID, name=None, username="peter.chang", avatar_url="https://x/p.jpg"
    )
    (call,) = ig_graph.requests
    assert call.path == f"/v21.0/{IGSID}"
    assert call.query == {"fields": "name,username,profile_pic", "access_token": TOKEN}
    assert graph.requests == []


def test_connect_turns_on_account_webhooks(config: ChannelConfig, ig_graph: FakeGraph) -> None:
    line = IG.connect(config, IG_LOGIN, "https://chat.example.com/hooks/ig")
    (call,) = ig_graph.requests
    assert (call.method, call.path) == ("POST", f"/v21.0/{IG_ID}/subscribed_apps")
    assert call.query == {
        "subscribed_fields": "messages,messaging_seen,message_reactions",
        "access_token": TOKEN,
    }
    assert "https://chat.example.com/hooks/ig" in line


def test_attachment_download_sends_no_token(config: ChannelConfig, graph: FakeGraph) -> None:
    url = graph.cdn_url("asset", b"jpegdata", "image/jpeg")
    got = IG.fetch_media(config, IG_LOGIN, InboundMedia(kind="image", ref=url), 100)
    assert (got.data, got.mime_type, got.filename) == (b"jpegdata", "image/jpeg", None)
    assert "authorization" not in graph.requests[0].headers


def test_validate_credentials() -> None:
    IG.validate_credentials(FB_LOGIN)
    with pytest.raises(ValueError, match="Instagram professional account ID"):
        IG.validate_credentials({**IG_LOGIN, "instagram_account_id": "@shop"})
