"""The per-conversation event sequence: append in the transaction, publish after commit.

Each conversation numbers its events 1, 2, 3 ... (``Conversation.last_seq``). The number is
taken with a single ``UPDATE ... RETURNING``, which row-locks the conversation until commit, so
concurrent writers get distinct, gap-free numbers in commit order per conversation.
"""

from __future__ import annotations

import json
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Conversation, ConversationEvent, Visibility, utcnow
from ...serialize import conversation_summary, redact_contact
from ...state import ChatsState
from ..hooks import event_appended, inbox_summary
from ..managers.profiles import profiles
from ..row_ids import clamp_seq
from ..unit_of_work import after_commit

#: The conversation columns an inbox row shows (``serialize.conversation_summary``).
SUMMARY_COLUMNS = (
    "status",
    "last_activity_at",
    "last_message_preview",
    "first_customer_message_at",
)
#: transaction_memo key: ids of the conversations whose row the transaction holds locked
#: (and read since), mapped to whether their contact's inbox columns were read with it.
_LOCKED = "gincore_chats.locked_conversations"


def transaction_memo(session: Any, key: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction (a new one starts empty).

    Keyed by the transaction object itself, so no commit or rollback hook has to clear it.
    """
    if isinstance(session, scoped_session):
        session = session()  # Flask-SQLAlchemy's proxy does not pass get_transaction on
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    held = session.info.get(key)
    if held is None or held[0]() is not transaction:
        held = session.info[key] = (weakref.ref(transaction), {})
    memo: dict[Any, Any] = held[1]
    return memo


def append_event(
    state: ChatsState,
    conversation: Conversation,
    type_: str,
    payload: dict[str, Any],
    visibility: str = Visibility.PUBLIC,
) -> ConversationEvent:
    session = state.session
    session.flush()
    row = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq, *(getattr(Conversation, c) for c in SUMMARY_COLUMNS))
    ).one()
    seq = row[0]
    # Keep the loaded object in step without marking it dirty (a flush must not overwrite).
    # The UPDATE holds the row lock until commit, so these stay the newest values: what this
    # transaction changes later is known here, and nobody else can change them meanwhile.
    set_committed_value(conversation, "last_seq", seq)
    for column, value in zip(SUMMARY_COLUMNS, row[1:], strict=True):
        set_committed_value(conversation, column, value)
    mark_fresh(state, conversation)
    event = ConversationEvent(
        conversation_id=conversation.id,
        seq=seq,
        type=type_,
        visibility=visibility,
        payload=payload,
        created_at=utcnow(),
    )
    session.add(event)
    announce_event(state, conversation, type_, payload, visibility, seq=seq, at=event.created_at)
    return event


def mark_fresh(state: ChatsState, conversation: Conversation, *, contact: bool = False) -> None:
    """The transaction holds the conversation's row lock and has its newest summary columns
    (and the contact's, ``contact``): an inbox update need not read them again."""
    memo = transaction_memo(state.session, _LOCKED)
    memo[conversation.id] = contact or memo.get(conversation.id, False)


def announce_event(
    state: ChatsState,
    conversation: Conversation,
    type_: str,
    payload: dict[str, Any],
    visibility: str,
    *,
    seq: int,
    at: datetime,
    payload_text: str | None = None,
) -> dict[str, Any]:
    """The hooks of an event stored in this transaction, and its publication after commit.

    ``payload_text``: the payload already serialised, put into the published text as it is
    (the message's JSON is made once for the database, Redis and the HTTP answer)."""
    # The one place every conversation event passes: webhooks are recorded by their
    # receiver, in the same transaction (sent after commit by RQ; nothing on a rollback).
    event_appended.send(state, conversation=conversation, type_=type_, payload=payload, seq=seq)
    wire = {
        "type": "event",
        "conversation_id": conversation.id,
        "seq": seq,
        "event": type_,
        "staff_only": visibility != Visibility.PUBLIC,
        "data": payload,
        "at": at.isoformat(),
    }
    envelope = {
        "route": "conversation",
        "conversation_id": conversation.id,  # the expired object would be reloaded after commit
        "visibility": visibility,
        "data": wire,
    }
    if payload_text is None:
        after_commit(state.session, lambda: state.hub.publish(envelope))
        return wire
    head = json.dumps({**envelope, "data": {**wire, "data": None}}, separators=(",", ":"))
    # Both dicts end with what follows "data" (``at``, then the envelope's close): splice.
    marker = '"data":null,"at":'
    assert marker in head
    text = head.replace(marker, f'"data":{payload_text},"at":', 1)
    after_commit(state.session, lambda: state.hub.publish_text(text))
    return wire


def event_wire(event: ConversationEvent) -> dict[str, Any]:
    return {
        "type": "event",
        "conversation_id": event.conversation_id,
        "seq": event.seq,
        "event": event.type,
        "staff_only": event.visibility != Visibility.PUBLIC,
        "data": event.payload,
        "at": event.created_at.isoformat(),
    }


def publish_inbox_update(state: ChatsState, conversation: Conversation) -> None:
    """After commit, tell the consoles watching this source that the list row changed."""
    session = state.session
    source_id = conversation.source_id

    def publish() -> None:
        # Only captured values here: touching the expired ORM object would reload it.
        state.hub.publish(
            {
                "route": "inbox",
                "source_id": source_id,
                "data": {"type": "conversation", "conversation": summary},
                # What managers without customers.view receive instead.
                "redacted": {"type": "conversation", "conversation": redacted},
            }
        )

    # Taken now (an after-commit hook may not query); published only if the commit succeeds.
    # Columns loaded before the conversation's row lock may predate a concurrent change: an
    # event appended in this transaction took the lock and read the row (append_event), else
    # it is read again here. The contact's row is not locked by it, so it is always read again.
    session.flush()
    fresh = transaction_memo(session, _LOCKED).get(conversation.id)
    if fresh is None:
        session.refresh(conversation, [*SUMMARY_COLUMNS, "last_seq"])
    if not fresh:
        session.refresh(
            conversation.contact,
            ["name", "email", "phone", "unreachable_at", "unreachable_reason"],
        )
    summary = conversation_summary(conversation)
    # The faces of the managers in the chat, as the console's list rows over HTTP carry them.
    summary["manager_profiles"] = manager_profiles(state, conversation.active_manager_ids)
    inbox_summary.send(state, conversation=conversation, summary=summary)
    redacted = {**summary, "contact": redact_contact(summary["contact"])}
    after_commit(session, publish)


def manager_profiles(state: ChatsState, manager_ids: list[str]) -> list[dict[str, Any]]:
    """Name and avatar of each manager id (in order); ids without a profile are skipped."""
    people = profiles(state, set(manager_ids))
    return [
        {"id": mid, "name": people[mid].display_name, "avatar_url": people[mid].avatar_url}
        for mid in manager_ids
        if mid in people
    ]


def events_after(
    state: ChatsState,
    conversation_id: int,
    after: int,
    staff: bool,
    limit: int | None = None,
    *,
    pii: bool = False,
) -> list[dict[str, Any]]:
    """The events a client missed, oldest first. Visitors get public events only; staff
    without ``customers.view`` (``pii=False``) get no contact or visitor-context events."""
    # Columns, not ORM objects: a replay of hundreds of events pays no identity map.
    e = ConversationEvent
    query = (
        select(e.conversation_id, e.seq, e.type, e.visibility, e.payload, e.created_at)
        .where(ConversationEvent.conversation_id == conversation_id)
        .where(ConversationEvent.seq > clamp_seq(after))
        .order_by(ConversationEvent.seq)
        .limit(limit or state.config.replay_limit)
    )
    if not staff:
        query = query.where(ConversationEvent.visibility == Visibility.PUBLIC)
    elif not pii:
        query = query.where(ConversationEvent.visibility != Visibility.PII)
    return [
        {
            "type": "event",
            "conversation_id": cid,
            "seq": seq,
            "event": type_,
            "staff_only": visibility != Visibility.PUBLIC,
            "data": payload,
            "at": at.isoformat(),
        }
        for cid, seq, type_, visibility, payload, at in state.session.execute(query)
    ]
