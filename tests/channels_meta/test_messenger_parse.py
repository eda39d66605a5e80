"""Messenger webhook parsing with the reference's payloads (§4.2): messages, attachments,
echoes, receipts (watermarks), edits, postbacks, reactions and batches."""

from __future__ import annotations

from datetime import UTC, datetime

from gincore_chats.channels.base import (
    DeliveryUpdate,
    InboundEdit,
    InboundMedia,
    InboundMessage,
    ParsedWebhook,
)
from gincore_chats.channels.messenger import MessengerChannel
from gincore_chats.channels.messenger.parse import parse_webhook

from .helpers import dumps, envelope, load, raw

PAGE = "106540352242922"
PSID = "6783234567890123"
DELIVERED_MID = (
    "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
)


def event(**payload: object) -> dict[str, object]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": 1458692752478,
        **payload,
    }


def parse_events(*events: dict[str, object]) -> ParsedWebhook:
    return parse_webhook(dumps(envelope("page", PAGE, list(events))))


def test_text_message() -> None:
    parsed = MessengerChannel().parse(raw("ms_text.json"))
    assert parsed.messages == (
        InboundMessage(
            external_id="m_1457764197618:41d102a3e1ae206a38",
            sender=parsed.messages[0].sender,
            text="hello, world!",
            sent_at=datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC),
        ),
    )
    assert parsed.messages[0].sender.id == PSID and parsed.messages[0].sender.name is None


def test_image_and_file_attachments_keep_their_urls() -> None:
    (message,) = parse_webhook(raw("ms_attachments.json")).messages
    assert message.external_id == "m_cAAJdkrCd2ORnva8ErFhjGm0X_Q"
    assert message.text is None and message.fallback_text is None
    assert message.media == (
        InboundMedia(
            kind="image",
            ref="https://scontent.xx.fbcdn.net/v/t1.15752-9/12345_n.jpg?_nc_cat=1&oh=abc&oe=65F00000",
        ),
        InboundMedia(
            kind="file",
            ref="https://cdn.fbsbx.com/v/t59.2708-21/invoice-5521.pdf?_nc_cat=1&oh=def&oe=65F00000",
        ),
    )


def test_delivery_watermark_and_mids() -> None:
    parsed = parse_webhook(dumps(envelope("page", PAGE, [load("ms_delivery_event.json")])))
    assert parsed.deliveries == (
        DeliveryUpdate(
            status="delivered",
            recipient_id=PSID,  # the customer received *our* message
            external_id=DELIVERED_MID,
            upto=datetime(2016, 3, 22, 17, 47, 36, 253000, tzinfo=UTC),
        ),
    )
    assert parsed.messages == ()


def test_delivery_without_mids_is_a_watermark_only() -> None:
    parsed = parse_events(event(delivery={"watermark": 1458668856253}))
    assert parsed.deliveries == (
        DeliveryUpdate(
            status="delivered",
            recipient_id=PSID,
            upto=datetime(2016, 3, 22, 17, 47, 36, 253000, tzinfo=UTC),
        ),
    )


def test_read_watermark() -> None:
    parsed = parse_webhook(dumps(envelope("page", PAGE, [load("ms_read_event.json")])))
    assert parsed.deliveries == (
        DeliveryUpdate(
            status="read",
            recipient_id=PSID,
            upto=datetime(2016, 3, 22, 17, 47, 36, 253000, tzinfo=UTC),
        ),
    )


def test_echo_is_marked_and_names_the_customer() -> None:
    # Meta's echo: sender is the Page, recipient is the customer.
    echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": PSID},
        "timestamp": 1458692752478,
        "message": {
            "is_echo": True,
            "app_id": 1517776481860111,
            "metadata": "console",
            "mid": "m_echo1",
            "text": "We have it in blue.",
        },
    }
    (message,) = parse_events(echo).messages
    assert message.is_echo is True
    assert message.sender.id == PSID
    assert message.text == "We have it in blue."


def test_customer_message_is_not_an_echo() -> None:
    (message,) = parse_webhook(raw("ms_text.json")).messages
    assert message.is_echo is False


def test_batch_of_entries_and_events() -> None:
    text = load("ms_text.json")["entry"][0]
    files = load("ms_attachments.json")["entry"][0]
    text["messaging"].append(load("ms_delivery_event.json"))
    files["messaging"].append(load("ms_read_event.json"))
    files["messaging"].append(
        event(message={"mid": "m_echo2", "text": "echo", "is_echo": True})
        | {"sender": {"id": PAGE}, "recipient": {"id": PSID}}
    )
    parsed = parse_webhook(dumps({"object": "page", "entry": [text, files]}))
    assert [(m.external_id, m.is_echo) for m in parsed.messages] == [
        ("m_1457764197618:41d102a3e1ae206a38", False),
        ("m_cAAJdkrCd2ORnva8ErFhjGm0X_Q", False),
        ("m_echo2", True),
    ]
    assert [d.status for d in parsed.deliveries] == ["delivered", "read"]


def test_message_edit() -> None:
    parsed = parse_events(
        event(message_edit={"mid": "m_1", "text": "hello, world?", "num_edit": 1})
    )
    assert parsed.edits == (InboundEdit(external_id="m_1", text="hello, world?"),)
    assert parsed.messages == ()


def test_reply_and_quick_reply() -> None:
    parsed = parse_events(
        event(
            message={
                "mid": "m_2",
                "text": "Blue",
                "quick_reply": {"payload": "COLOR_BLUE"},
                "reply_to": {"mid": "m_1"},
            }
        )
    )
    (message,) = parsed.messages
    assert (message.text, message.reply_to_external_id) == ("Blue", "m_1")


def test_postback_is_the_tapped_button() -> None:
    parsed = parse_events(event(postback={"title": "Get Started", "payload": "GS", "mid": "m_pb"}))
    (message,) = parsed.messages
    assert (message.external_id, message.text, message.sender.id) == ("m_pb", "Get Started", PSID)


def test_postback_without_mid_has_a_stable_id() -> None:
    body = envelope("page", PAGE, [event(postback={"title": "Menu", "payload": "M"})])
    first = parse_webhook(dumps(body)).messages[0].external_id
    assert first == parse_webhook(dumps(body)).messages[0].external_id  # redelivery dedupes
    assert first == f"postback:{PSID}:1458692752478"


def test_reaction() -> None:
    parsed = parse_events(
        event(reaction={"mid": "m_1", "action": "react", "reaction": "love", "emoji": "\u2764"})
    )
    (message,) = parsed.messages
    assert message.fallback_text == "Reacted \u2764 to a message"
    assert message.reply_to_external_id == "m_1"
    unreact = parse_events(event(reaction={"mid": "m_1", "action": "unreact"}))
    assert unreact.messages == () and unreact.ignored == ("unreact",)


def test_sticker_location_and_shared_link() -> None:
    sticker = {
        "type": "image",
        "payload": {"url": "https://x/s.png", "sticker_id": 369239263222822},
    }
    location = {
        "type": "location",
        "title": "Pin",
        "payload": {"coordinates": {"lat": 1.5, "long": 2.5}},
    }
    link = {
        "type": "fallback",
        "title": "Our shop",
        "url": "https://shop.example/p/1",
        "payload": None,
    }
    parsed = parse_events(
        event(message={"mid": "m_s", "attachments": [sticker]}),
        event(message={"mid": "m_l", "attachments": [location]}),
        event(message={"mid": "m_f", "attachments": [link]}),
    )
    s, loc, f = parsed.messages
    assert s.media == (InboundMedia(kind="sticker", ref="https://x/s.png"),)
    assert s.fallback_text == "Sticker"
    assert loc.fallback_text is not None and "1.5, 2.5" in loc.fallback_text
    assert "maps/search/?api=1&query=1.5,2.5" in loc.fallback_text
    assert f.fallback_text == "Shared a link: Our shop\nhttps://shop.example/p/1"


def test_empty_message_says_it_cannot_be_shown() -> None:
    (message,) = parse_events(event(message={"mid": "m_x"})).messages
    assert message.fallback_text is not None and "cannot be shown" in message.fallback_text


def test_ignored_events_and_other_pages() -> None:
    parsed = parse_events(event(optin={"ref": "x"}), event(referral={"ref": "ad"}))
    assert parsed.ignored == ("optin", "referral") and parsed.messages == ()
    body = raw("ms_text.json")
    assert len(MessengerChannel().parse(body, account_id=PAGE).messages) == 1
    assert MessengerChannel().parse(body, account_id="42").messages == ()
    assert parse_webhook(dumps({"object": "instagram", "entry": []})).ignored == (
        "object:instagram",
    )


def test_ids_stay_strings() -> None:
    body = envelope("page", PAGE, [event(message={"mid": "m_n", "text": "x"})])
    body["entry"][0]["messaging"][0]["sender"]["id"] = 9007199254740993  # 2**53 + 1
    (message,) = parse_webhook(dumps(body)).messages
    assert message.sender.id == "9007199254740993"
