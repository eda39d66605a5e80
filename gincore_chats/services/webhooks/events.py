"""Which webhook events a conversation event makes, and recording them for delivery.

:func:`record` receives ``hooks.event_appended``, which
:func:`~gincore_chats.services.conversations.events.append_event` (the one place every
conversation event is appended) sends inside the same transaction: the webhook event and one
delivery row per subscribed endpoint are written with the change, and the delivery jobs are
enqueued only after commit. So nothing that happened is missed (a lost job is found again by
``flask chats webhooks sweep``), and a change that rolls back sends nothing.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ...models import (
    Conversation,
    DeliveryStatus,
    MessageKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    utcnow,
)
from ...queue import enqueue
from ...serialize import contact_dict, conversation_summary
from ...state import ChatsState
from ..hooks import event_appended
from ..unit_of_work import after_commit

DELIVER_JOB = "gincore_chats.jobs.webhooks.deliver"

#: Every event type an endpoint can subscribe to, with what it means (settings, API, docs).
EVENT_TYPES: dict[str, str] = {
    "conversation.created": "A conversation was opened (a visitor or a customer wrote first).",
    "conversation.closed": "A manager closed a conversation.",
    "conversation.reopened": "A closed conversation was opened again.",
    "participant.joined": "A manager joined a conversation.",
    "participant.left": "A manager left a conversation.",
    "message.created": "A message: customer, manager, system, or an internal note (note: true).",
    "message.updated": "A message was edited.",
    "message.deleted": "A message was deleted.",
    "contact.updated": "A customer's name, email, phone or custom fields changed.",
    "delivery.updated": "A reply's delivery state on a messenger changed (sent, read, failed).",
}

_SUBSCRIBERS = "gincore_chats.webhook_subscribers"


def _message_events(type_: str, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if type_ == "message.created":
        events = [("message.created", {"message": message, "note": message["kind"] == "note"})]
        code = message.get("system_code")
        if message["kind"] == MessageKind.SYSTEM and code in ("joined", "left"):
            who = message.get("system_data") or {}
            events.append(
                (
                    f"participant.{code}",
                    {"manager_id": who.get("manager_id"), "name": who.get("name")},
                )
            )
        return events
    if message["deleted"]:
        return [("message.deleted", {"message": message})]
    # The services stamp the time of the change they make: a delivery state change moves
    # delivery_updated_at, an edit moves edited_at.
    delivered = message.get("delivery_updated_at")
    edited = message.get("edited_at")
    if delivered and (edited is None or delivered > edited) and delivered != message["created_at"]:
        return [("delivery.updated", {"message": message})]
    return [("message.updated", {"message": message})]


def webhook_events(
    conv: Conversation, type_: str, payload: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The webhook events (type, data) a conversation event stands for (often none: typing,
    drafts, read marks and visitor context stay inside)."""
    if type_ == "conversation.opened":
        return [("conversation.created", {"conversation": conversation_summary(conv)})]
    if type_ == "conversation.status":
        name = (
            "conversation.closed" if payload.get("status") == "closed" else "conversation.reopened"
        )
        return [(name, {"conversation": conversation_summary(conv)})]
    if type_ in ("message.created", "message.updated") and "message" in payload:
        return _message_events(type_, payload["message"])
    if type_ == "contact.updated":
        return [("contact.updated", {"contact": contact_dict(conv.contact)})]
    return []


def _subscribers(state: ChatsState) -> list[tuple[int, frozenset[str]]]:
    """Active endpoints and their event types, read once per transaction."""
    session = state.session
    # Flask-SQLAlchemy's scoped session proxies most of Session, not get_transaction.
    real = session if hasattr(session, "get_transaction") else session()
    transaction = real.get_transaction()
    cached = session.info.get(_SUBSCRIBERS)
    if cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    rows = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.is_(True))
    ).all()
    found = [(endpoint_id, frozenset(events or ())) for endpoint_id, events in rows]
    session.info[_SUBSCRIBERS] = (transaction, found)
    return found


@event_appended.connect
def record(
    state: ChatsState, conversation: Conversation, type_: str, payload: dict[str, Any], seq: int
) -> None:
    """Called in append_event's transaction: store the events and deliveries it makes."""
    conv = conversation
    if not state.config.is_pro:
        return
    made = webhook_events(conv, type_, payload)
    if not made:
        return
    endpoints = _subscribers(state)
    if not endpoints:
        return
    for name, data in made:
        wanted = [eid for eid, types in endpoints if not types or name in types]
        if wanted:
            emit(state, name, {"conversation_id": conv.id, **data}, conv.id, seq, wanted)


def emit(
    state: ChatsState,
    type_: str,
    data: dict[str, Any],
    conversation_id: int | None,
    seq: int | None,
    endpoint_ids: list[int],
) -> WebhookEvent:
    session = state.session
    now = utcnow()
    # Stored as the JSON it will be sent as (dates already strings): deliveries send the
    # same bytes every time, so a receiver's signature check and de-duplication hold.
    event = WebhookEvent(
        public_id="evt_" + secrets.token_urlsafe(18),
        type=type_,
        conversation_id=conversation_id,
        seq=seq,
        payload=json.loads(json.dumps(data, default=_json_default)),
        created_at=now,
    )
    session.add(event)
    session.flush()
    deliveries = [
        WebhookDelivery(
            endpoint_id=eid,
            event_id=event.id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for eid in endpoint_ids
    ]
    session.add_all(deliveries)
    session.flush()
    ids = [d.id for d in deliveries]
    after_commit(session, lambda: [enqueue(state, DELIVER_JOB, did) for did in ids])
    return event


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def envelope(event: WebhookEvent) -> bytes:
    """The body every delivery of ``event`` sends (the same bytes each time)."""
    return json.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "conversation_id": event.conversation_id,
            "sequence": event.seq,
            "data": event.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
