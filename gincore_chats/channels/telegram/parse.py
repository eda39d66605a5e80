"""Telegram ``Update`` JSON -> value objects. Pure: no I/O, no Flask, no models.

A message's external id is ``"<chat id>:<message id>"``: Telegram numbers messages per chat, so
the message id alone is not unique within one bot (one source).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..base import (
    InboundButtonPress,
    InboundEdit,
    InboundMedia,
    InboundMessage,
    ParsedWebhook,
    ReachabilityChange,
    Sender,
)

#: ``my_chat_member`` statuses after which the bot can write to the chat again ...
REACHABLE_STATUSES = ("member", "administrator", "creator")
#: ... and those after which it cannot, with what managers are told.
UNREACHABLE_STATUSES = {
    "kicked": "The customer blocked the bot on Telegram.",
    "left": "The bot was removed from this Telegram chat.",
}


def external_id(chat_id: Any, message_id: Any) -> str:
    return f"{chat_id}:{message_id}"


def split_external_id(value: str) -> tuple[str, int]:
    """(chat id, message id) from :func:`external_id`; ValueError for anything else."""
    chat, _, message = value.rpartition(":")
    if not chat:
        raise ValueError(f"not a Telegram message id: {value!r}")
    return chat, int(message)


def parse_update(raw_body: bytes) -> ParsedWebhook:
    update = json.loads(raw_body)
    if not isinstance(update, dict) or "update_id" not in update:
        raise ValueError("not a Telegram Update")
    if isinstance(update.get("message"), dict):
        return ParsedWebhook(messages=(parse_message(update["message"]),))
    if isinstance(update.get("edited_message"), dict):
        edit = parse_edit(update["edited_message"])
        return ParsedWebhook(edits=(edit,)) if edit else ParsedWebhook(ignored=("edited_media",))
    if isinstance(update.get("my_chat_member"), dict):
        change = parse_member_change(update["my_chat_member"])
        if change is not None:
            return ParsedWebhook(reachability=(change,))
        status = (update["my_chat_member"].get("new_chat_member") or {}).get("status", "")
        return ParsedWebhook(ignored=(f"my_chat_member:{status}",))
    if isinstance(update.get("callback_query"), dict):
        press = parse_callback_query(update["callback_query"])
        if press is not None:
            return ParsedWebhook(button_presses=(press,))
    kinds = [k for k in update if k != "update_id"]
    return ParsedWebhook(ignored=(kinds[0] if kinds else "empty",))


def parse_callback_query(query: dict[str, Any]) -> InboundButtonPress | None:
    """A pressed inline-keyboard button; None without the fields a reply needs."""
    sender = query.get("from")
    if not isinstance(sender, dict) or "id" not in sender or "id" not in query:
        return None
    # The conversation is found by the chat, as for messages (a private chat's id is the
    # user's id, but a group's is not).
    chat = (query.get("message") or {}).get("chat") or {}
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip()
    return InboundButtonPress(
        callback_id=str(query["id"]),
        sender=Sender(
            id=str(chat.get("id", sender["id"])),
            name=name or None,
            username=sender.get("username"),
            language=sender.get("language_code"),
        ),
        data=str(query.get("data") or "")[:64],
    )


def parse_member_change(update: dict[str, Any]) -> ReachabilityChange | None:
    """The bot's own membership in a chat changed: ``kicked`` is a user blocking the bot (every
    send fails with 403 from then on), ``member`` that user restarting it."""
    chat_id = (update.get("chat") or {}).get("id")
    status = (update.get("new_chat_member") or {}).get("status")
    if chat_id is None or not isinstance(status, str):
        return None
    date = update.get("date")
    at = datetime.fromtimestamp(date, UTC) if isinstance(date, int | float) else None
    if status in UNREACHABLE_STATUSES:
        return ReachabilityChange(str(chat_id), False, UNREACHABLE_STATUSES[status], at)
    if status in REACHABLE_STATUSES:
        return ReachabilityChange(str(chat_id), True, None, at)
    return None  # "restricted" and the like: the bot is still in the chat


def sender_of(message: dict[str, Any]) -> Sender:
    chat = message.get("chat") or {}
    user = message.get("from") or {}
    if chat.get("type", "private") == "private":
        full = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
        name = full or (f"@{user['username']}" if user.get("username") else None)
    else:
        # A group talks to the bot as one customer: replies go to the chat, not to a person.
        name = chat.get("title")
    return Sender(
        id=str(chat.get("id", user.get("id"))),
        name=name,
        username=user.get("username") or chat.get("username"),
        language=user.get("language_code"),
    )


def _media(message: dict[str, Any]) -> tuple[tuple[InboundMedia, ...], str | None]:
    """Files in the message, and a text for what has no text of its own."""
    if message.get("photo"):
        largest = message["photo"][-1]  # sizes come smallest first
        return (
            InboundMedia("image", largest["file_id"], "image/jpeg", None, largest.get("file_size")),
        ), None
    for key, kind in (
        ("animation", "video"),
        ("video", "video"),
        ("video_note", "video"),
        ("voice", "audio"),
        ("audio", "audio"),
        ("document", "file"),
    ):
        item = message.get(key)
        if isinstance(item, dict) and item.get("file_id"):
            mime = item.get("mime_type") or ("audio/ogg" if key == "voice" else None)
            return (
                InboundMedia(
                    kind, item["file_id"], mime, item.get("file_name"), item.get("file_size")
                ),
            ), None
    sticker = message.get("sticker")
    if isinstance(sticker, dict):
        emoji = sticker.get("emoji") or ""
        media = InboundMedia("sticker", sticker["file_id"], None, None, sticker.get("file_size"))
        return (media,), f"[sticker {emoji}]".replace(" ]", "]")
    if isinstance(message.get("venue"), dict):
        venue = message["venue"]
        loc = venue.get("location") or {}
        return (), f"📍 {venue.get('title', '')}, {venue.get('address', '')} {_map(loc)}".strip()
    if isinstance(message.get("location"), dict):
        return (), f"📍 Location: {_map(message['location'])}"
    if isinstance(message.get("contact"), dict):
        contact = message["contact"]
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        return (), f"👤 Contact: {name}, {contact.get('phone_number', '')}".strip(", ")
    known = ("poll", "dice", "game", "invoice", "story")
    kind = next((k for k in known if k in message), "message")
    return (), f"[unsupported {kind}]"


def _map(location: dict[str, Any]) -> str:
    lat, lon = location.get("latitude"), location.get("longitude")
    return f"{lat}, {lon} https://www.openstreetmap.org/?mlat={lat}&mlon={lon}"


def parse_message(message: dict[str, Any]) -> InboundMessage:
    chat_id = (message.get("chat") or {}).get("id")
    text = message.get("text") or message.get("caption")
    media: tuple[InboundMedia, ...] = ()
    fallback: str | None = None
    if not message.get("text"):
        media, fallback = _media(message)
    reply = message.get("reply_to_message")
    date = message.get("date")
    return InboundMessage(
        external_id=external_id(chat_id, message["message_id"]),
        sender=sender_of(message),
        text=text,
        media=media,
        fallback_text=fallback,
        reply_to_external_id=external_id(chat_id, reply["message_id"])
        if isinstance(reply, dict) and "message_id" in reply
        else None,
        sent_at=datetime.fromtimestamp(date, UTC) if isinstance(date, int | float) else None,
    )


def parse_edit(message: dict[str, Any]) -> InboundEdit | None:
    text = message.get("text") or message.get("caption")
    if not text:
        return None
    chat_id = (message.get("chat") or {}).get("id")
    return InboundEdit(external_id=external_id(chat_id, message["message_id"]), text=text)
