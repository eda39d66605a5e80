"""Wire shapes shared by HTTP answers and realtime events (one place, so both always agree)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .file_types import INLINE_IMAGES
from .local_time import customer_tz, offset_minutes_at
from .models import (
    Attachment,
    Contact,
    Conversation,
    Message,
    MessageKind,
    VisitorContext,
    utcnow,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def quote_snippet(message: Message | None) -> dict[str, Any] | None:
    if message is None:
        return None
    if message.kind == MessageKind.NOTE:
        # A public reply may quote only public messages; see services.messages.
        return None
    return {
        "id": message.id,
        "author_name": message.author_name,
        "kind": message.kind,
        "body": "" if message.deleted_at else message.body[:200],
        "deleted": message.deleted_at is not None,
    }


def attachment_dict(attachment: Attachment) -> dict[str, Any]:
    """Clients build the download URL from ``id`` (console: session; widget: bearer token)."""
    return {
        "id": attachment.public_id,
        "name": attachment.filename,
        "size": attachment.size,
        "type": attachment.content_type,
        "image": attachment.content_type in INLINE_IMAGES,
        "width": attachment.width,
        "height": attachment.height,
        "thumbnail": attachment.thumbnail_key is not None,
    }


def message_dict(message: Message, *, edits_reach: bool | None = None) -> dict[str, Any]:
    """A message as both audiences see it; deleted bodies are gone (the revision keeps them).

    ``edits_reach``: whether the platform shows the customer later edits (a manager reply's
    ``edits_reach_customer``, which the services know: ``services.message_events``).
    """
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "kind": message.kind,
        "author_id": message.author_manager_id,
        "author_name": message.author_name,
        "author_avatar_url": message.author_avatar_url,
        "body": "" if message.deleted_at else message.body,
        "system_code": message.system_code,
        "system_data": message.system_data,
        "client_id": message.client_id,
        "quoted": quote_snippet(message.quoted) if message.quoted_message_id else None,
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "deleted": message.deleted_at is not None,
        # A deleted message's files are gone (their space was freed).
        "attachments": []
        if message.deleted_at
        else [attachment_dict(a) for a in message.attachments if a.deleted_at is None],
        **delivery_fields(message, edits_reach),
    }


def delivery_fields(message: Message, edits_reach: bool | None = None) -> dict[str, Any]:
    """Where a manager's reply to a messenger customer stands (None for the widget).

    ``delivery_status``: pending, sent, delivered, read or failed; ``delivery_error``: the
    platform's reason (or "Retrying: ..." while pending); ``can_retry``: show a retry button;
    ``edits_reach_customer``: False where the platform keeps the original (the console says so).
    """
    return {
        "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error,
        "delivery_updated_at": iso(message.delivery_updated_at),
        "can_retry": message.delivery_status == "failed" and message.deleted_at is None,
        "edits_reach_customer": edits_reach if message.kind == MessageKind.MANAGER else None,
    }


def contact_dict(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "custom_fields": contact.custom_fields or {},
        "consent_at": iso(contact.consent_at),
        "consent_text": contact.consent_text,
        # What a messenger platform tells about the person (None for widget visitors).
        "username": contact.username,
        "avatar_url": contact.avatar_url,
        "language": contact.language,
    }


def unreachable_dict(contact: Contact) -> dict[str, Any] | None:
    """Replies cannot reach the customer (blocked the bot, unsubscribed): since when, and why.
    Every manager sees it (it is about the channel, not contact data); None when they can."""
    if contact.unreachable_at is None:
        return None
    return {"since": iso(contact.unreachable_at), "reason": contact.unreachable_reason}


def redact_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact as managers without ``customers.view`` see it: who, not how to reach them."""
    return {"id": contact.get("id"), "name": contact.get("name")}


def visitor_context_dict(ctx: VisitorContext | None) -> dict[str, Any] | None:
    if ctx is None:
        return None
    return {
        "ip": ctx.ip,
        "country": ctx.country,
        "country_code": ctx.country_code,
        "city": ctx.city,
        "current_page": ctx.current_page,
        "page_title": ctx.page_title,
        "referrer": ctx.referrer,
        "pages": ctx.pages or [],
        "browser": ctx.browser,
        "os": ctx.os,
        "device": ctx.device,
        "language": ctx.language,
        "tz_offset_minutes": ctx.tz_offset_minutes,
        "time_zone": ctx.time_zone,
        # The zone's offset now (zoneinfo), for consoles that show the local clock.
        "utc_offset_minutes": offset_minutes_at(
            utcnow(), customer_tz(ctx.time_zone, ctx.tz_offset_minutes)
        ),
    }


def conversation_summary(conv: Conversation) -> dict[str, Any]:
    """A row of the console list."""
    return {
        "id": conv.id,
        "source_id": conv.source_id,
        "source_name": conv.source.name,
        "source_kind": conv.source.kind,
        "status": conv.status,
        "contact": contact_dict(conv.contact),
        "unreachable": unreachable_dict(conv.contact),
        "last_activity_at": iso(conv.last_activity_at),
        "last_message_preview": conv.last_message_preview,
        "last_seq": conv.last_seq,
        "managers": conv.active_manager_ids,
        "created_at": iso(conv.created_at),
        # None: a visit (the customer has not written); the console lists it under "Visits".
        "first_customer_message_at": iso(conv.first_customer_message_at),
    }
