"""The generic source's push format -> value objects. Pure; errors say what to fix.

::

    {"messages": [{"id": "crm-1001",
                   "sender": {"id": "cust-42", "name": "Anna", "username": "anna",
                              "language": "en", "avatar_url": "https://...", "phone": "+43..."},
                   "text": "Hello",
                   "attachments": [{"type": "image", "url": "https://...", "filename": "a.png",
                                    "mime_type": "image/png", "size": 1234}],
                   "reply_to": "gincore-msg-17",
                   "sent_at": "2024-05-01T10:00:00Z"}],
     "deliveries": [{"message_id": "gincore-msg-18", "status": "read", "recipient_id": "cust-42"}]}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..base import DeliveryUpdate, InboundMedia, InboundMessage, ParsedWebhook, Sender

MAX_ITEMS = 100
#: Field limits (characters), documented in docs/channels.rst. Ids stay far below what a
#: database index entry holds (PostgreSQL: 2704 bytes), and fit Instagram's ~300-character ids
#: for systems that relay them.
ID_LIMIT = 500
NAME_LIMIT = 1000
LANGUAGE_LIMIT = 35  # RFC 5646 asks implementations to support tags this long
URL_LIMIT = 2000
FILENAME_LIMIT = 255
MIME_LIMIT = 255  # RFC 6838: type and subtype of at most 127 characters each
PHONE_LIMIT = 64
MEDIA_KINDS = ("image", "file", "audio", "video")
STATUSES = ("sent", "delivered", "read", "failed")


def _text(item: dict[str, Any], key: str, where: str, limit: int, required: bool = False) -> Any:
    value = item.get(key)
    if value is None:
        if required:
            raise ValueError(f"{where}.{key} is required.")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # ids may come as numbers; they are kept as strings
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key} must be a string.")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{where}.{key} must not be empty.")
    if len(value) > limit:
        raise ValueError(f"{where}.{key} is longer than {limit} characters.")
    return value or None


def _sent_at(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}.sent_at must be an ISO 8601 time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _media(item: Any, where: str) -> InboundMedia:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object.")
    kind = item.get("type")
    if kind not in MEDIA_KINDS:
        raise ValueError(f"{where}.type must be one of {', '.join(MEDIA_KINDS)}.")
    url = _text(item, "url", where, URL_LIMIT, required=True)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{where}.url must be an http(s) URL.")
    size = item.get("size")
    return InboundMedia(
        kind,
        url,
        _text(item, "mime_type", where, MIME_LIMIT),
        _text(item, "filename", where, FILENAME_LIMIT),
        size if isinstance(size, int) and size >= 0 else None,
    )


def _message(item: Any, where: str) -> InboundMessage:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object.")
    sender = item.get("sender")
    if not isinstance(sender, dict):
        raise ValueError(f"{where}.sender must be an object with an id.")
    who = f"{where}.sender"
    attachments = item.get("attachments") or []
    if not isinstance(attachments, list):
        raise ValueError(f"{where}.attachments must be a list.")
    media = tuple(_media(a, f"{where}.attachments[{i}]") for i, a in enumerate(attachments[:10]))
    text = _text(item, "text", where, 100_000)
    if not text and not media:
        raise ValueError(f"{where} needs a text or attachments.")
    return InboundMessage(
        external_id=_text(item, "id", where, ID_LIMIT, required=True),
        sender=Sender(
            id=_text(sender, "id", who, ID_LIMIT, required=True),
            name=_text(sender, "name", who, NAME_LIMIT),
            username=_text(sender, "username", who, NAME_LIMIT),
            language=_text(sender, "language", who, LANGUAGE_LIMIT),
            avatar_url=_text(sender, "avatar_url", who, URL_LIMIT),
            phone=_text(sender, "phone", who, PHONE_LIMIT),
        ),
        text=text,
        media=media,
        reply_to_external_id=_text(item, "reply_to", where, ID_LIMIT),
        sent_at=_sent_at(item.get("sent_at"), where),
    )


def _delivery(item: Any, where: str) -> DeliveryUpdate:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object.")
    status = item.get("status")
    if status not in STATUSES:
        raise ValueError(f"{where}.status must be one of {', '.join(STATUSES)}.")
    return DeliveryUpdate(
        status=status,
        recipient_id=_text(item, "recipient_id", where, ID_LIMIT) or "",
        external_id=_text(item, "message_id", where, ID_LIMIT, required=True),
        error=_text(item, "error", where, 1000),
    )


def parse_push(raw_body: bytes) -> ParsedWebhook:
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise ValueError('The body must be a JSON object with "messages" and/or "deliveries".')
    messages = data.get("messages") or []
    deliveries = data.get("deliveries") or []
    if not isinstance(messages, list) or not isinstance(deliveries, list):
        raise ValueError('"messages" and "deliveries" must be lists.')
    if not messages and not deliveries:
        raise ValueError('Nothing to do: send "messages" and/or "deliveries".')
    if len(messages) + len(deliveries) > MAX_ITEMS:
        raise ValueError(f"At most {MAX_ITEMS} items per request.")
    return ParsedWebhook(
        messages=tuple(_message(m, f"messages[{i}]") for i, m in enumerate(messages)),
        deliveries=tuple(_delivery(d, f"deliveries[{i}]") for i, d in enumerate(deliveries)),
    )
