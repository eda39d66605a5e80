"""WhatsApp webhook parsing with the reference's payloads (§2.2) and every other message type."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gincore_chats.channels.base import DeliveryUpdate, InboundMedia, InboundMessage, ParsedWebhook
from gincore_chats.channels.whatsapp import WhatsAppChannel
from gincore_chats.channels.whatsapp.parse import parse_webhook

from .helpers import dumps, load, raw, wa_body, wa_change, wa_message

WAMID_TEXT = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
WAMID_STATUS = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
CONTACT = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}


def only_message(parsed: ParsedWebhook) -> InboundMessage:
    assert len(parsed.messages) == 1, parsed
    return parsed.messages[0]


def test_text_message() -> None:
    message = only_message(WhatsAppChannel().parse(raw("wa_text.json")))
    assert message.external_id == WAMID_TEXT
    assert message.text == "Does it come in another color?"
    assert message.sender.id == "16505551234"
    assert message.sender.name == "Sheena Nelson"
    assert message.sender.phone == "+16505551234"
    assert message.sent_at == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)
    assert message.media == () and message.fallback_text is None
    assert message.is_echo is False and message.reply_to_external_id is None


def test_image_message_keeps_the_media_id() -> None:
    message = only_message(parse_webhook(raw("wa_image.json")))
    assert message.text == "Here is the scratch"
    assert message.media == (
        InboundMedia(kind="image", ref="1003383421387256", mime_type="image/jpeg"),
    )


def test_document_message() -> None:
    message = only_message(parse_webhook(raw("wa_document.json")))
    assert message.external_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQ1RTc3QzRFRjlGODRCQjFFOTIA"
    assert message.text == "Receipt"
    assert message.media == (
        InboundMedia(
            kind="file",
            ref="1234567890987654",
            mime_type="application/pdf",
            filename="receipt-5521.pdf",
        ),
    )


def test_delivered_status() -> None:
    parsed = parse_webhook(raw("wa_status_delivered.json"))
    assert parsed.messages == ()
    assert parsed.deliveries == (
        DeliveryUpdate(status="delivered", recipient_id="16505551234", external_id=WAMID_STATUS),
    )


def test_failed_status_carries_the_error_title_and_details() -> None:
    parsed = parse_webhook(wa_body(wa_change(statuses=[load("wa_status_failed_item.json")])))
    (update,) = parsed.deliveries
    assert update.status == "failed"
    assert update.external_id == WAMID_STATUS
    assert update.recipient_id == "16505551234"
    assert update.error is not None
    assert "Re-engagement message (131047)" in update.error
    assert "more than 24 hours have passed" in update.error


@pytest.mark.parametrize(
    ("status", "expected"),
    [("sent", "sent"), ("delivered", "delivered"), ("read", "read"), ("played", "read")],
)
def test_status_values(status: str, expected: str) -> None:
    item = {**load("wa_status_failed_item.json"), "status": status}
    del item["errors"]
    (update,) = parse_webhook(wa_body(wa_change(statuses=[item]))).deliveries
    assert (update.status, update.error) == (expected, None)


def test_unknown_status_is_ignored_not_guessed() -> None:
    item = {**load("wa_status_failed_item.json"), "status": "deleted"}
    parsed = parse_webhook(wa_body(wa_change(statuses=[item])))
    assert parsed.deliveries == () and parsed.ignored == ("status:deleted",)


def test_batch_with_several_entries_and_changes() -> None:
    text, image, document = (
        load(name)["entry"][0]["changes"][0]
        for name in ("wa_text.json", "wa_image.json", "wa_document.json")
    )
    status = load("wa_status_delivered.json")["entry"][0]["changes"][0]
    failed = wa_change(statuses=[load("wa_status_failed_item.json")])
    template = {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102290129340398", "changes": [text, image, template]},
            {"id": "102290129340398", "changes": [status, document, failed]},
        ],
    }
    parsed = parse_webhook(dumps(body))
    assert [m.external_id for m in parsed.messages] == [
        WAMID_TEXT,
        "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQ0OEE2QjJGMTY2RjVGMTFCNAA=",
        "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQ1RTc3QzRFRjlGODRCQjFFOTIA",
    ]
    assert [d.status for d in parsed.deliveries] == ["delivered", "failed"]
    assert parsed.ignored == ("field:message_template_status_update",)


def test_two_messages_in_one_change_get_their_own_senders() -> None:
    second = {"profile": {"name": "Ana"}, "wa_id": "4915112345678"}
    body = wa_body(
        wa_change(
            contacts=[CONTACT, second],
            messages=[
                wa_message("text", {"body": "one"}),
                {**wa_message("text", {"body": "two"}), "from": "4915112345678", "id": "wamid.2"},
            ],
        )
    )
    parsed = parse_webhook(body)
    assert [(m.sender.id, m.sender.name, m.text) for m in parsed.messages] == [
        ("16505551234", "Sheena Nelson", "one"),
        ("4915112345678", "Ana", "two"),
    ]


def test_ids_stay_strings_even_when_sent_as_numbers() -> None:
    # Meta sends strings; a number (a fake server, a future change) must keep every digit.
    big = 98765432109876543210
    message = {**wa_message("text", {"body": "hi"}), "from": big, "id": "wamid.N"}
    contact = {"profile": {"name": "Big"}, "wa_id": big}
    parsed = parse_webhook(wa_body(wa_change(contacts=[contact], messages=[message])))
    assert parsed.messages[0].sender.id == "98765432109876543210"
    assert parsed.messages[0].sender.name == "Big"
    document = only_message(parse_webhook(raw("wa_document.json")))
    assert isinstance(document.media[0].ref, str) and document.media[0].ref == "1234567890987654"


def test_unknown_fields_are_accepted() -> None:
    body = load("wa_text.json")
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["identity_key_hash"] = "abc"
    body["entry"][0]["changes"][0]["value"]["messages"][0]["brand_new_field"] = {"x": 1}
    body["entry"][0]["time"] = 1749416383
    assert only_message(parse_webhook(dumps(body))).text == "Does it come in another color?"


def test_quoted_reply_has_the_quoted_wamid() -> None:
    msg = wa_message(
        "text", {"body": "this one"}, context={"from": "15550783881", "id": WAMID_TEXT}
    )
    parsed = parse_webhook(wa_body(wa_change(contacts=[CONTACT], messages=[msg])))
    assert only_message(parsed).reply_to_external_id == WAMID_TEXT


def parse_one(kind: str, content: dict, **extra: object) -> InboundMessage:
    msg = wa_message(kind, content, **extra)
    return only_message(parse_webhook(wa_body(wa_change(contacts=[CONTACT], messages=[msg]))))


@pytest.mark.parametrize(
    ("kind", "content", "media"),
    [
        (
            "audio",
            {"mime_type": "audio/ogg; codecs=opus", "id": "111", "voice": True},
            InboundMedia(kind="audio", ref="111", mime_type="audio/ogg; codecs=opus"),
        ),
        (
            "video",
            {"mime_type": "video/mp4", "id": "222", "caption": None},
            InboundMedia(kind="video", ref="222", mime_type="video/mp4"),
        ),
        (
            "sticker",
            {"mime_type": "image/webp", "id": "333", "animated": False},
            InboundMedia(kind="sticker", ref="333", mime_type="image/webp"),
        ),
    ],
)
def test_other_media_types(kind: str, content: dict, media: InboundMedia) -> None:
    message = parse_one(kind, content)
    assert message.media == (media,)
    assert message.text is None


def test_sticker_has_a_fallback_text() -> None:
    assert parse_one("sticker", {"mime_type": "image/webp", "id": "333"}).fallback_text == "Sticker"


def test_location_becomes_text_with_a_maps_link() -> None:
    message = parse_one(
        "location",
        {"latitude": 48.2082, "longitude": 16.3738, "name": "Shop", "address": "Ring 1, Wien"},
    )
    assert message.text is None
    assert message.fallback_text is not None
    assert "Shop, Ring 1, Wien" in message.fallback_text
    assert "48.2082, 16.3738" in message.fallback_text
    assert (
        "https://www.google.com/maps/search/?api=1&query=48.2082,16.3738" in message.fallback_text
    )


def test_shared_contact_card() -> None:
    card = {
        "name": {"formatted_name": "John Smith", "first_name": "John"},
        "phones": [{"phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "CELL"}],
        "emails": [{"email": "john@example.com", "type": "WORK"}],
    }
    msg = wa_message("contacts", [card])  # the message's "contacts" is the list of cards
    parsed = parse_webhook(wa_body(wa_change(contacts=[CONTACT], messages=[msg])))
    text = only_message(parsed).fallback_text or ""
    assert "John Smith" in text and "+1 (650) 555-1234" in text and "john@example.com" in text


def test_reaction_points_at_the_message_reacted_to() -> None:
    message = parse_one("reaction", {"message_id": WAMID_STATUS, "emoji": "\U0001f44d"})
    assert message.fallback_text == "Reacted \U0001f44d to a message"
    assert message.reply_to_external_id == WAMID_STATUS


def test_removed_reaction_is_ignored() -> None:
    msg = wa_message("reaction", {"message_id": WAMID_STATUS, "emoji": ""})
    parsed = parse_webhook(wa_body(wa_change(contacts=[CONTACT], messages=[msg])))
    assert parsed.messages == () and parsed.ignored == ("reaction_removed",)


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (
            {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes, please"}},
            "Yes, please",
        ),
        (
            {"type": "list_reply", "list_reply": {"id": "r1", "title": "Blue", "description": "x"}},
            "Blue",
        ),
    ],
)
def test_interactive_replies_become_the_tapped_title(content: dict, text: str) -> None:
    assert parse_one("interactive", content).text == text


def test_template_quick_reply_button() -> None:
    assert (
        parse_one("button", {"payload": "STOP", "text": "Stop promotions"}).text
        == "Stop promotions"
    )


@pytest.mark.parametrize("kind", ["unsupported", "brand_new_type"])
def test_unsupported_types_say_so(kind: str) -> None:
    message = parse_one(kind, {}, errors=[{"code": 131051, "title": "Message type unknown"}])
    assert message.external_id == f"wamid.TEST-{kind}"
    assert message.fallback_text is not None and "cannot be shown" in message.fallback_text
    assert kind in message.fallback_text


def test_order_and_system_messages_have_text() -> None:
    order = parse_one("order", {"catalog_id": "1", "product_items": [{}, {}]})
    assert order.fallback_text == "Sent an order with 2 item(s)"
    system = parse_one("system", {"body": "User changed number", "type": "user_changed_number"})
    assert system.fallback_text == "User changed number"


def test_one_broken_item_does_not_lose_the_rest() -> None:
    broken = {"type": "text", "text": {"body": "no id, no sender"}}
    good = wa_message("text", {"body": "fine"})
    parsed = parse_webhook(wa_body(wa_change(contacts=[CONTACT], messages=[broken, "junk", good])))
    assert [m.text for m in parsed.messages] == ["fine"]
    assert parsed.ignored == ("message_without_id", "message_without_id")


def test_routing_by_phone_number_id() -> None:
    body = raw("wa_text.json")
    assert len(WhatsAppChannel().parse(body, account_id="106540352242922").messages) == 1
    other = WhatsAppChannel().parse(body, account_id="999")
    assert other.messages == () and other.ignored == ("other_number:106540352242922",)


def test_other_objects_and_broken_bodies() -> None:
    assert parse_webhook(dumps({"object": "page", "entry": []})).ignored == ("object:page",)
    with pytest.raises(ValueError):
        parse_webhook(b"not json")
    with pytest.raises(ValueError):
        parse_webhook(json.dumps([1, 2]).encode())
