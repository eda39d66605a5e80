"""Instagram webhook parsing with the reference's payloads (§5.2)."""

from __future__ import annotations

from datetime import UTC, datetime

from gincore_chats.channels.base import DeliveryUpdate, InboundMedia, ParsedWebhook
from gincore_chats.channels.instagram import InstagramChannel
from gincore_chats.channels.instagram.parse import parse_webhook

from .helpers import dumps, envelope, load, raw

IG_ACCOUNT = "17841405726653026"
IGSID = "1234567890123456"


def event(**payload: object) -> dict[str, object]:
    return {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ACCOUNT},
        "timestamp": 1700000000123,
        **payload,
    }


def parse_events(*events: dict[str, object]) -> ParsedWebhook:
    return parse_webhook(dumps(envelope("instagram", IG_ACCOUNT, list(events))))


def test_text_message() -> None:
    (message,) = InstagramChannel().parse(raw("ig_text.json")).messages
    assert message.external_id == load("ig_text.json")["entry"][0]["messaging"][0]["message"]["mid"]
    assert message.text == "Do you ship to Austria?"
    assert message.sender.id == IGSID
    assert message.sent_at == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert message.is_echo is False


def test_image_attachment() -> None:
    (message,) = parse_webhook(raw("ig_image.json")).messages
    assert message.media == (
        InboundMedia(
            kind="image",
            ref="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17900000000000000&signature=AbC123",
        ),
    )


def test_read_receipt_names_one_mid() -> None:
    parsed = parse_webhook(raw("ig_read.json"))
    assert parsed.deliveries == (
        DeliveryUpdate(
            status="read",
            recipient_id=IGSID,
            external_id="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE\u2026",
        ),
    )


def test_echo_swaps_sender_and_recipient() -> None:
    echo = {
        "sender": {"id": IG_ACCOUNT},
        "recipient": {"id": IGSID},
        "timestamp": 1700000000999,
        "message": {"mid": "aWdf_echo", "text": "Yes, we ship to Austria.", "is_echo": True},
    }
    (message,) = parse_events(echo).messages
    assert (message.is_echo, message.sender.id) == (True, IGSID)


def test_batch_with_several_entries() -> None:
    first, second = load("ig_text.json")["entry"][0], load("ig_image.json")["entry"][0]
    first["messaging"].append(load("ig_read.json")["entry"][0]["messaging"][0])
    second["messaging"].append(event(message={"mid": "aWdf_2", "text": "and Germany?"}))
    parsed = parse_webhook(dumps({"object": "instagram", "entry": [first, second]}))
    assert [m.text for m in parsed.messages] == ["Do you ship to Austria?", None, "and Germany?"]
    assert [d.status for d in parsed.deliveries] == ["read"]


def test_deleted_and_unsupported_messages() -> None:
    parsed = parse_events(
        event(message={"mid": "aWdf_del", "is_deleted": True}),
        event(message={"mid": "aWdf_uns", "is_unsupported": True}),
    )
    (unsupported,) = parsed.messages
    assert unsupported.external_id == "aWdf_uns"
    assert unsupported.fallback_text is not None and "Instagram" in unsupported.fallback_text
    assert parsed.ignored == ("message_deleted",)


def test_shares_and_story_mentions_become_links() -> None:
    parsed = parse_events(
        event(
            message={
                "mid": "a1",
                "attachments": [{"type": "share", "payload": {"url": "https://ig/p/1"}}],
            }
        ),
        event(
            message={
                "mid": "a2",
                "attachments": [{"type": "story_mention", "payload": {"url": "https://ig/s/2"}}],
            }
        ),
        event(
            message={
                "mid": "a3",
                "attachments": [
                    {"type": "ig_reel", "payload": {"url": "https://ig/r/3", "title": "Demo"}}
                ],
            }
        ),
    )
    assert [m.fallback_text for m in parsed.messages] == [
        "Shared a post\nhttps://ig/p/1",
        "Mentioned you in their story\nhttps://ig/s/2",
        "Shared a reel: Demo\nhttps://ig/r/3",
    ]
    assert all(m.media == () for m in parsed.messages)


def test_reactions() -> None:
    parsed = parse_events(
        event(reaction={"mid": "aWdf_1", "action": "react", "reaction": "love", "emoji": "\u2764"}),
        event(reaction={"mid": "aWdf_1", "action": "unreact"}),
    )
    (message,) = parsed.messages
    assert message.reply_to_external_id == "aWdf_1" and parsed.ignored == ("unreact",)


def test_account_routing_and_ids_as_strings() -> None:
    assert InstagramChannel().parse(raw("ig_text.json"), account_id="1").messages == ()
    body = load("ig_text.json")
    body["entry"][0]["id"] = 17841405726653026  # larger than 2**53: must keep every digit
    body["entry"][0]["messaging"][0]["sender"]["id"] = 1234567890123456789
    (message,) = InstagramChannel().parse(dumps(body), account_id=IG_ACCOUNT).messages
    assert message.sender.id == "1234567890123456789"


def test_comments_changes_are_not_messages() -> None:
    body = {
        "object": "instagram",
        "entry": [{"id": IG_ACCOUNT, "time": 1, "changes": [{"field": "comments", "value": {}}]}],
    }
    parsed = parse_webhook(dumps(body))
    assert parsed.messages == () and parsed.ignored == ("field:comments",)
