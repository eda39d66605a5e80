"""Delivery state of outbound platform messages: pending, sent, delivered, read, failed.

States only move forward (receipts arrive out of order: WhatsApp may report "read" before
"delivered"), except that a manager's retry turns "failed" back into "pending".

A receipt can beat our own bookkeeping: the platform may call the webhook before the send job
has stored the message's platform id. Such a receipt is parked in Redis for a few minutes and
applied by the send job right after it stores the id (see :func:`apply_parked`); both sides
look again after writing, so one of them always sees the other.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select

from ...channels.base import DeliveryUpdate
from ...models import Conversation, Message, MessageKind, Source, utcnow
from ...state import ChatsState
from ..contacts.customers import find_channel_contact
from ..conversations.message_events import publish_message_update
from ..conversations.message_lookup import find_by_external_id

PENDING, SENT, DELIVERED, READ, FAILED = "pending", "sent", "delivered", "read", "failed"
_RANK = {PENDING: 0, SENT: 1, DELIVERED: 2, READ: 3}
PARK_SECONDS = 600
WATERMARK_LIMIT = 200


def moves_forward(current: str | None, new: str) -> bool:
    if new == current:
        return False
    if new == FAILED:
        # A platform may fail a message it accepted (WhatsApp's 24-hour window), never one
        # the customer already has.
        return current in (None, PENDING, SENT)
    if current == FAILED:
        return False
    return _RANK.get(new, -1) > _RANK.get(current or "", -1)


def do_set_delivery(
    state: ChatsState,
    conv: Conversation,
    message: Message,
    status: str,
    error: str | None = None,
) -> bool:
    """Record a state (and reason) and publish ``message.updated``; False if nothing changed."""
    if message.delivery_status == status and message.delivery_error == error:
        return False
    message.delivery_status = status
    message.delivery_error = error[:2000] if error else None
    message.delivery_updated_at = utcnow()
    publish_message_update(state, conv, message)
    return True


def _apply(state: ChatsState, message: Message, update: DeliveryUpdate) -> bool:
    if message.kind != MessageKind.MANAGER or not moves_forward(
        message.delivery_status, update.status
    ):
        return False
    conv = state.session.get(Conversation, message.conversation_id)
    assert conv is not None
    error = update.error if update.status == FAILED else None
    return do_set_delivery(state, conv, message, update.status, error)


def _park_key(state: ChatsState, source_id: int, external_id: str) -> str:
    return state.key("parked-receipt", source_id, external_id)


def do_apply_receipt(state: ChatsState, source: Source, update: DeliveryUpdate) -> str:
    """Apply one receipt from a webhook; the answer labels the outcome for the event log."""
    if update.external_id:
        message = find_by_external_id(state, source.id, update.external_id)
        if message is None:
            key = _park_key(state, source.id, update.external_id)
            payload = asdict(update)
            payload["upto"] = None
            with state.redis.pipeline() as pipe:
                pipe.rpush(key, json.dumps(payload))
                pipe.expire(key, PARK_SECONDS)
                pipe.execute()
            # Look again: the send job may have committed the id while we parked.
            message = find_by_external_id(state, source.id, update.external_id)
            if message is None:
                return "receipt:parked"
        return "receipt" if _apply(state, message, update) else "receipt:stale"
    if update.upto is not None:
        count = _apply_watermark(state, source, update.recipient_id, update.status, update.upto)
        return f"receipt:watermark({count})"
    return "receipt:ignored"


def _apply_watermark(
    state: ChatsState, source: Source, recipient_id: str, status: str, upto: datetime
) -> int:
    """Messenger: everything we sent to this customer up to the watermark is delivered/read."""
    earlier = [s for s, rank in _RANK.items() if 0 < rank < _RANK.get(status, 0)]
    # The platform user's contact, or the one it was merged into (which holds its conversations).
    contact = find_channel_contact(state, source.id, recipient_id)
    if contact is None:
        return 0
    rows = state.session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact.id,
            Conversation.source_id == source.id,
            Message.kind == MessageKind.MANAGER,
            Message.delivery_status.in_(earlier),
            Message.created_at <= upto,
        )
        .order_by(Message.id.desc())
        .limit(WATERMARK_LIMIT)
    )
    update = DeliveryUpdate(status=status, recipient_id=recipient_id)
    return sum(1 for message in list(rows) if _apply(state, message, update))


def apply_parked(state: ChatsState, source_id: int, external_id: str) -> int:
    """Receipts that arrived before the send job stored ``external_id``; call in a unit of work."""
    key = _park_key(state, source_id, external_id)
    with state.redis.pipeline() as pipe:
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        raw, _ = pipe.execute()
    message = find_by_external_id(state, source_id, external_id)
    if message is None:
        return 0
    applied = 0
    for item in raw:
        data = json.loads(item)
        applied += _apply(state, message, DeliveryUpdate(**data))
    return applied
