"""Data retention: conversations that stayed visits are deleted after a while.

The widget creates its conversation (and the visitor's context) when the visitor opens the chat,
so that what they write lands in a conversation that already knows the page they are on. Most
visitors write nothing. Such a conversation is a *visit*: hidden from the console's default
list and unread counts (``services.conversations``), and deleted here once the visitor has not
been seen for ``CHATS_EMPTY_CONVERSATION_RETENTION``.

A conversation is deleted only while it holds nothing anyone wrote: no customer message, no
manager message or note (system lines such as "Anna joined" do not count), no file, and its
visitor left no name, email, phone or note. The check runs again on rows locked for the delete,
so a visitor who writes at that moment keeps their conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, and_, delete, exists, func, select
from sqlalchemy.sql import ColumnElement

from ...models import (
    Attachment,
    Contact,
    ContactNote,
    Conversation,
    Message,
    MessageKind,
    VisitorContext,
    metadata,
    utcnow,
)
from ...state import ChatsState
from ..unit_of_work import unit_of_work

#: Conversations deleted per transaction: short locks, and a big backlog is worked off in steps.
BATCH = 500


def anonymous_contact() -> ColumnElement[bool]:
    """SQL on ``Contact``: the visitor left no name, email, phone, no manager noted them, and
    the host did not bind them to one of its users (a signed identity or ``link_contact``)."""
    return and_(
        Contact.host_user_id.is_(None),
        Contact.name.is_(None),
        Contact.email.is_(None),
        Contact.phone.is_(None),
        Contact.notes.is_(None),
        ~exists().where(ContactNote.contact_id == Contact.id),
    )


def empty_before(cutoff: datetime) -> ColumnElement[bool]:
    """SQL: a visit nobody wrote anything in, whose visitor was last seen before ``cutoff``."""
    return and_(
        Conversation.first_customer_message_at.is_(None),
        Conversation.last_activity_at < cutoff,
        ~exists().where(
            VisitorContext.conversation_id == Conversation.id, VisitorContext.updated_at >= cutoff
        ),
        ~exists().where(
            Message.conversation_id == Conversation.id, Message.kind != MessageKind.SYSTEM
        ),
        ~exists().where(Attachment.conversation_id == Conversation.id),
        exists().where(Contact.id == Conversation.contact_id, anonymous_contact()),
    )


def _children(table: Table) -> list[tuple[Table, str]]:
    """Tables whose rows belong to a row of ``table`` (a foreign key to it), with the column."""
    return [
        (child, fk.parent.name)
        for child in metadata.sorted_tables
        for fk in child.foreign_keys
        if fk.column.table is table and child is not table
    ]


def _delete_rows(state: ChatsState, table: Table, ids: list[int]) -> None:
    # Children first, explicitly: SQLite (the demo's database) does not enforce ON DELETE
    # CASCADE unless the host turns foreign keys on.
    for child, column in _children(table):
        if _children(child):
            found = select(child.c.id).where(child.c[column].in_(ids))
            child_ids = list(state.session.scalars(found))
            if child_ids:
                _delete_rows(state, child, child_ids)
        state.session.execute(delete(child).where(child.c[column].in_(ids)))
    state.session.execute(delete(table).where(table.c.id.in_(ids)))


def do_delete_empty_batch(state: ChatsState, cutoff: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` empty visits last seen before ``cutoff``; returns how many."""
    rows = state.session.execute(
        select(Conversation.id, Conversation.contact_id)
        .where(empty_before(cutoff))
        .order_by(Conversation.last_activity_at, Conversation.id)
        .limit(limit)
        # A conversation a request is writing to right now is skipped, not waited for; the
        # conditions hold for what is locked, so nothing that just got a message is deleted.
        .with_for_update(of=Conversation, skip_locked=True)
    ).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    _delete_rows(state, Conversation.__table__, ids)  # type: ignore[arg-type]
    # The visitor's contact goes with its last conversation (widget contacts are one per visit).
    contact_ids = {r.contact_id for r in rows}
    orphans = list(
        state.session.scalars(
            select(Contact.id).where(
                Contact.id.in_(contact_ids),
                ~exists().where(Conversation.contact_id == Contact.id),
                anonymous_contact(),
            )
        )
    )
    if orphans:
        _delete_rows(state, Contact.__table__, orphans)  # type: ignore[arg-type]
    return len(ids)


def delete_empty_conversations(
    state: ChatsState, older_than: timedelta, *, now: datetime | None = None
) -> int:
    """Delete every empty visit whose visitor was last seen ``older_than`` ago, in batches."""
    cutoff = (now or utcnow()) - older_than
    total = 0
    while True:
        with unit_of_work(state.session):
            removed = do_delete_empty_batch(state, cutoff)
        total += removed
        if removed < BATCH:
            return total


def count_empty(state: ChatsState, older_than: timedelta, *, now: datetime | None = None) -> int:
    """How many visits a clean-up would delete now (``--dry-run``)."""
    cutoff = (now or utcnow()) - older_than
    query = select(Conversation.id).where(empty_before(cutoff)).subquery()
    return int(state.session.scalar(select(func.count()).select_from(query)) or 0)
