"""Viber callback JSON -> value objects. Pure.

``message_token`` is a 64-bit integer (e.g. 4912661846655238145 > 2**53). Python's ``json``
reads it exactly, and it is turned into a string at once, so no float ever holds it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..base import (
    DeliveryUpdate,
    InboundMedia,
    InboundMessage,
    ParsedWebhook,
    ReachabilityChange,
    Sender,
)

#: Receipt events and the delivery state each means.
RECEIPTS = {"delivered": "delivered", "seen": "read", "failed": "failed"}
UNSUBSCRIBED = "The customer unsubscribed from the bot on Viber."


def parse_callback(raw_body: bytes) -> ParsedWebhook:
    data = json.loads(raw_body)
    if not isinstance(data, dict) or "event" not in data:
        raise ValueError("not a Viber callback")
    event = str(data["event"])
    if event == "message" and isinstance(data.get("message"), dict):
        return ParsedWebhook(messages=(parse_message(data),))
    if event in RECEIPTS and data.get("message_token") is not None:
        update = DeliveryUpdate(
            status=RECEIPTS[event],
            recipient_id=str(data.get("user_id") or ""),
            external_id=str(data["message_token"]),
            error=str(data.get("desc") or "Viber could not deliver the message")
            if event == "failed"
            else None,
        )
        return ParsedWebhook(deliveries=(update,))
    at = _time(data.get("timestamp"))
    if event == "unsubscribed" and data.get("user_id"):
        # Sends fail with status 6 from now on, until the user writes or subscribes again.
        change = ReachabilityChange(str(data["user_id"]), False, UNSUBSCRIBED, at)
        return ParsedWebhook(reachability=(change,))
    if event == "subscribed" and isinstance(data.get("user"), dict) and data["user"].get("id"):
        change = ReachabilityChange(str(data["user"]["id"]), True, None, at)
        return ParsedWebhook(reachability=(change,))
    # "webhook" (set_webhook's check), "conversation_started" (not a subscription).
    return ParsedWebhook(ignored=(event,))


def _time(timestamp: Any) -> datetime | None:
    """Viber times are epoch milliseconds."""
    return (
        datetime.fromtimestamp(timestamp / 1000, UTC)
        if isinstance(timestamp, int | float)
        else None
    )


def sender_of(user: dict[str, Any]) -> Sender:
    return Sender(
        id=str(user["id"]),
        name=user.get("name") or None,
        language=user.get("language") or None,
        avatar_url=user.get("avatar") or None,
    )


def _map(location: dict[str, Any]) -> str:
    lat, lon = location.get("lat"), location.get("lon")
    return f"{lat}, {lon} https://www.openstreetmap.org/?mlat={lat}&mlon={lon}"


def parse_message(data: dict[str, Any]) -> InboundMessage:
    message = data["message"]
    kind = message.get("type")
    text: str | None = message.get("text") or None
    media: tuple[InboundMedia, ...] = ()
    fallback: str | None = None
    # The field is "file_size" in the documentation; some payloads say "size".
    size = message.get("file_size", message.get("size"))
    if kind in ("picture", "video", "file") and message.get("media"):
        media_kind = {"picture": "image", "video": "video", "file": "file"}[kind]
        media = (InboundMedia(media_kind, message["media"], None, message.get("file_name"), size),)
    elif kind == "sticker":
        if message.get("media"):
            media = (InboundMedia("sticker", message["media"]),)
        fallback = "[sticker]"
    elif kind == "url":
        text = message.get("media") or text
    elif kind == "location" and isinstance(message.get("location"), dict):
        fallback = f"📍 Location: {_map(message['location'])}"
    elif kind == "contact" and isinstance(message.get("contact"), dict):
        contact = message["contact"]
        fallback = f"👤 Contact: {contact.get('name', '')}, {contact.get('phone_number', '')}"
    elif kind != "text":
        fallback = f"[unsupported {kind or 'message'}]"
    return InboundMessage(
        external_id=str(data["message_token"]),
        sender=sender_of(data["sender"]),
        text=text,
        media=media,
        fallback_text=fallback,
        sent_at=_time(data.get("timestamp")),
    )
