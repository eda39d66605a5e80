"""WhatsApp Cloud API webhooks (reference §2.2) → :class:`ParsedWebhook`. Pure: bytes in."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..base import DeliveryUpdate, InboundMedia, InboundMessage, ParsedWebhook, Sender
from ..meta.payload import (
    as_dict,
    as_list,
    as_str,
    from_unix,
    load_body,
    location_text,
    sort_into,
    unsupported_text,
)

# WhatsApp media type -> our InboundMedia.kind.
MEDIA_KINDS = {
    "image": "image",
    "document": "file",
    "audio": "audio",
    "video": "video",
    "sticker": "sticker",
}
# "played" (voice notes, newer versions) implies the customer opened the message.
STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "played": "read",
    "failed": "failed",
}


def parse_webhook(raw_body: bytes, *, phone_number_id: str | None = None) -> ParsedWebhook:
    """Every message and status in every ``entry[]`` / ``changes[]`` item.

    ``phone_number_id``: when given, changes addressed to another number of the same app are
    ignored; one app-level callback URL receives events for all of the app's numbers.
    """
    body = load_body(raw_body)
    messages: list[InboundMessage] = []
    deliveries: list[DeliveryUpdate] = []
    ignored: list[str] = []
    if body.get("object") != "whatsapp_business_account":
        return ParsedWebhook(ignored=(f"object:{body.get('object')}",))
    for entry in as_list(body.get("entry")):
        for change in as_list(as_dict(entry).get("changes")):
            change = as_dict(change)
            if change.get("field") != "messages":
                ignored.append(f"field:{change.get('field')}")
                continue
            value = as_dict(change.get("value"))
            receiver = as_str(as_dict(value.get("metadata")).get("phone_number_id"))
            if phone_number_id and receiver != str(phone_number_id):
                ignored.append(f"other_number:{receiver}")
                continue
            names = _contact_names(value)
            sort_into(value.get("messages"), partial(_message, names=names), messages, ignored)
            sort_into(value.get("statuses"), _status, deliveries, ignored)
            for error in as_list(value.get("errors")):
                ignored.append(f"error:{as_dict(error).get('code')}")
    return ParsedWebhook(
        messages=tuple(messages), deliveries=tuple(deliveries), ignored=tuple(ignored)
    )


def _contact_names(value: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in as_list(value.get("contacts")):
        contact = as_dict(contact)
        wa_id = as_str(contact.get("wa_id"))
        name = as_str(as_dict(contact.get("profile")).get("name"))
        if wa_id and name:
            names[wa_id] = name
    return names


def _sender(wa_id: str, names: dict[str, str]) -> Sender:
    # wa_id is normally the number in E.164 without "+"; keep phone only when it is one.
    phone = f"+{wa_id}" if wa_id.isdigit() else None
    return Sender(id=wa_id, name=names.get(wa_id), phone=phone)


def _message(msg: dict[str, Any], names: dict[str, str]) -> InboundMessage | str:
    external_id = as_str(msg.get("id"))
    wa_id = as_str(msg.get("from"))
    if not external_id or not wa_id:
        return "message_without_id"
    kind = as_str(msg.get("type")) or "unknown"
    if kind == "request_welcome":
        # The customer opened the chat for the first time; nothing to show yet.
        return "request_welcome"
    context = as_dict(msg.get("context"))
    base: dict[str, Any] = {
        "external_id": external_id,
        "sender": _sender(wa_id, names),
        "sent_at": from_unix(msg.get("timestamp")),
        "reply_to_external_id": as_str(context.get("id")),
    }
    content = as_dict(msg.get(kind))

    if kind == "text":
        return InboundMessage(text=as_str(content.get("body")), **base)
    if kind in MEDIA_KINDS:
        media_id = as_str(content.get("id"))
        if not media_id:
            return InboundMessage(fallback_text=unsupported_text("WhatsApp", kind), **base)
        media = InboundMedia(
            kind=MEDIA_KINDS[kind],
            ref=media_id,  # resolved through GET /<media id> (§2.4), never a URL field
            mime_type=as_str(content.get("mime_type")),
            filename=as_str(content.get("filename")),
        )
        fallback = "Sticker" if kind == "sticker" else None
        return InboundMessage(
            text=as_str(content.get("caption")), media=(media,), fallback_text=fallback, **base
        )
    if kind == "location":
        text = location_text(
            content.get("latitude"),
            content.get("longitude"),
            as_str(content.get("name")),
            as_str(content.get("address")),
        )
        return InboundMessage(fallback_text=text, **base)
    if kind == "contacts":
        return InboundMessage(fallback_text=_contacts_text(as_list(msg.get("contacts"))), **base)
    if kind == "reaction":
        emoji = as_str(content.get("emoji"))
        if not emoji:
            return "reaction_removed"
        base["reply_to_external_id"] = as_str(content.get("message_id"))
        return InboundMessage(fallback_text=f"Reacted {emoji} to a message", **base)
    if kind == "interactive":
        reply = as_dict(content.get(as_str(content.get("type")) or ""))
        title = as_str(reply.get("title")) or as_str(reply.get("body"))
        if title:
            return InboundMessage(text=title, **base)
    if kind == "button" and (label := as_str(content.get("text"))):
        return InboundMessage(text=label, **base)
    if kind == "order":
        count = len(as_list(content.get("product_items")))
        return InboundMessage(fallback_text=f"Sent an order with {count} item(s)", **base)
    if kind == "system" and (notice := as_str(content.get("body"))):
        return InboundMessage(fallback_text=notice, **base)
    return InboundMessage(fallback_text=unsupported_text("WhatsApp", kind), **base)


def _contacts_text(contacts: list[Any]) -> str:
    lines = []
    for contact in contacts:
        contact = as_dict(contact)
        parts = [as_str(as_dict(contact.get("name")).get("formatted_name")) or "Contact"]
        for key, field in (("phones", "phone"), ("emails", "email")):
            parts += [v for x in as_list(contact.get(key)) if (v := as_str(as_dict(x).get(field)))]
        lines.append(", ".join(parts))
    return "Shared contact: " + "; ".join(lines) if lines else "Shared a contact"


def _status(raw: dict[str, Any]) -> DeliveryUpdate | str:
    status = STATUSES.get(as_str(raw.get("status")) or "")
    external_id = as_str(raw.get("id"))
    recipient = as_str(raw.get("recipient_id"))
    if not status or not external_id or not recipient:
        return f"status:{raw.get('status')}"
    error = None
    if status == "failed":
        error = "; ".join(_error_text(as_dict(e)) for e in as_list(raw.get("errors"))) or None
    return DeliveryUpdate(
        status=status, recipient_id=recipient, external_id=external_id, error=error
    )


def _error_text(error: dict[str, Any]) -> str:
    title = as_str(error.get("title")) or as_str(error.get("message")) or "Failed"
    code = as_str(error.get("code"))
    details = as_str(as_dict(error.get("error_data")).get("details"))
    text = f"{title} ({code})" if code else title
    return f"{text}: {details}" if details else text
