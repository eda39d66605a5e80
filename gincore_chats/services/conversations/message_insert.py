"""A new message in one statement: insert it, number its event, update the conversation's row.

The ORM path costs a SAVEPOINT pair around the insert (for the idempotency check), an UPDATE
of the conversation's activity, another taking the event number, the event's INSERT and a
read of the contact for the inbox row. On PostgreSQL one data-modifying CTE does all of it:

* ``ins``: ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: a retry (same client id, or the
  same platform message id) inserts nothing, and nothing below runs for it;
* ``upd``: ``UPDATE`` of the conversation ``FROM ins`` (and the contact, for the inbox row):
  takes the row lock and the next event number, sets activity and preview, and returns the
  row's summary columns, newest, since the lock is held until commit;
  the conversation's labels come back with it (:mod:`.label_rows`);
* ``ev``: the ``message.created`` event, its payload the message as clients see it with the
  new id put in (``jsonb_set``).

The row written is the payload: nothing is read again after commit. The caller falls back
to the ORM path elsewhere (another database, files, a closed conversation that reopens).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Contact, Conversation, ConversationEvent, Message
from ...state import ChatsState
from . import label_rows
from .events import SUMMARY_COLUMNS, announce_event, mark_fresh

_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_EVENTS: Table = ConversationEvent.__table__  # type: ignore[assignment]
#: The contact columns an inbox row shows, returned with the conversation's.
CONTACT_COLUMNS = ("name", "email", "phone", "unreachable_at", "unreachable_reason")


def available(state: ChatsState) -> bool:
    return bool(state.session.get_bind().dialect.name == "postgresql")


@dataclass(frozen=True)
class Touch:
    """What the new message changes on its conversation's row."""

    at: datetime | None = None  # last_activity_at: the message's time (None: a note leaves it)
    preview: str | None = None
    customer: bool = False  # first_customer_message_at, if not set yet


def _column_values(message: Message) -> dict[str, Any]:
    # Every column (a missing attribute would be loaded later): unset ones are NULL.
    values = {}
    for column in _MESSAGES.c:
        if column.key == "id":
            continue
        value = message.__dict__.get(column.key)
        setattr(message, column.key, value)
        values[column.key] = value
    return values


@functools.cache
def _statement(activity: bool, preview: bool, customer: bool) -> Any:
    """The statement for one shape of change, built once (its parameters are bound)."""
    ins = (
        pg_insert(_MESSAGES)
        .values(
            {c.key: bindparam(f"m_{c.key}", type_=c.type) for c in _MESSAGES.c if c.key != "id"}
        )
        .on_conflict_do_nothing()
        .returning(_MESSAGES.c.id, _MESSAGES.c.conversation_id)
    ).cte("ins")
    conv_c = _CONVERSATIONS.c
    at = bindparam("at", type_=_EVENTS.c.created_at.type)
    changes: dict[str, Any] = {"last_seq": conv_c.last_seq + 1}
    if activity:
        changes["last_activity_at"] = at
    if preview:
        changes["last_message_preview"] = bindparam(
            "preview", type_=conv_c.last_message_preview.type
        )
    if customer:
        changes["first_customer_message_at"] = func.coalesce(conv_c.first_customer_message_at, at)
    upd = (
        update(_CONVERSATIONS)
        .where(
            conv_c.id == bindparam("conversation_id", type_=conv_c.id.type),
            conv_c.id == ins.c.conversation_id,  # no row from ins (a retry): nothing to update
            _CONTACTS.c.id == conv_c.contact_id,
        )
        .values(**changes)
        .returning(
            ins.c.id.label("message_id"),
            conv_c.last_seq,
            *(conv_c[c] for c in SUMMARY_COLUMNS),
            *(_CONTACTS.c[c].label(f"contact_{c}") for c in CONTACT_COLUMNS),
            # The list row's labels, so the inbox update reads nothing more.
            label_rows.labels_column().label("labels"),
        )
    ).cte("upd")
    payload = func.jsonb_set(
        cast(bindparam("payload", type_=Text), JSONB),
        cast(literal("{message,id}"), ARRAY(Text)),
        func.to_jsonb(upd.c.message_id),
    )
    ev = (
        _EVENTS.insert()
        .from_select(
            ["conversation_id", "seq", "type", "visibility", "payload", "created_at"],
            select(
                bindparam("conversation_id", type_=_EVENTS.c.conversation_id.type),
                upd.c.last_seq,
                literal("message.created", _EVENTS.c.type.type),
                bindparam("visibility", type_=_EVENTS.c.visibility.type),
                payload,
                at,
            ),
        )
        .returning(_EVENTS.c.id, _EVENTS.c.seq)
    ).cte("ev")
    # Referencing ``ev`` makes SQLAlchemy render it (PostgreSQL runs every DML CTE anyway).
    return select(upd, ev.c.id.label("event_id")).join_from(upd, ev, ev.c.seq == upd.c.last_seq)


def insert_message(
    state: ChatsState,
    conv: Conversation,
    message: Message,
    wire: dict[str, Any],
    touch: Touch,
    visibility: str,
) -> str | None:
    """Insert ``message`` (transient, every relationship set) with its ``message.created``
    event whose payload is ``{"message": wire}``; None when the unique constraint says it was
    stored before (nothing is written then). On success ``message`` is persistent, ``wire``
    has its id, the event is published after commit, and the answer is ``wire`` as JSON.

    The JSON is made once, with the id 0 (``id`` is the wire's first key): the database puts
    the new id in with ``jsonb_set``, Python into the text."""
    session = state.session
    values = _column_values(message)
    payload = {"message": wire}
    wire["id"] = 0
    text = json.dumps(wire, separators=(",", ":"), default=str)
    if not text.startswith('{"id":0,'):
        raise ValueError("a message's wire starts with its id")
    at = values["created_at"]
    params = {f"m_{key}": value for key, value in values.items()}
    params.update(
        conversation_id=conv.id,
        at=at,
        preview=(touch.preview or "")[:200],
        visibility=visibility,
        payload=f'{{"message":{text}}}',
    )
    statement = _statement(touch.at is not None, touch.preview is not None, touch.customer)
    row = session.execute(statement, params).first()
    if row is None:
        return None
    message.id = wire["id"] = row.message_id
    text = f'{{"id":{int(row.message_id)},' + text[len('{"id":0,') :]
    make_transient_to_detached(message)
    session.add(message)
    # The conversation and contact as the locked row has them, without marking them dirty.
    set_committed_value(conv, "last_seq", row.last_seq)
    for column in SUMMARY_COLUMNS:
        set_committed_value(conv, column, getattr(row, column))
    for column in CONTACT_COLUMNS:
        set_committed_value(conv.contact, column, getattr(row, f"contact_{column}"))
    mark_fresh(state, conv, contact=True)
    label_rows.remember(session, conv.id, list(row.labels))
    announce_event(
        state,
        conv,
        "message.created",
        payload,
        visibility,
        seq=row.last_seq,
        at=at,
        payload_text=f'{{"message":{text}}}',
    )
    return text
