"""Per-manager read state: what each manager has read, and "mark as unread"."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from ...identity import Manager
from ...models import Conversation, Message, MessageKind, ReadState, utcnow
from ...state import ChatsState
from ..notifications.triggers import customer_read, manager_read
from ..unit_of_work import after_commit
from .events import append_event


def _state_row(state: ChatsState, manager_id: str, conversation_id: int) -> ReadState:
    row = state.session.scalar(
        select(ReadState).where(
            ReadState.conversation_id == conversation_id, ReadState.manager_id == manager_id
        )
    )
    if row is None:
        row = ReadState(
            conversation_id=conversation_id, manager_id=manager_id, last_read_message_id=0
        )
        state.session.add(row)
    return row


def _notify(state: ChatsState, manager_id: str, conversation_id: int, unread: int) -> None:
    """Tell the manager's other tabs and devices (never other managers)."""
    after_commit(
        state.session,
        lambda: state.hub.publish(
            {
                "route": "manager",
                "manager_id": manager_id,
                "data": {"type": "read", "conversation_id": conversation_id, "unread": unread},
            }
        ),
    )


def do_mark_read(
    state: ChatsState, manager: Manager, conv: Conversation, upto_message_id: int | None = None
) -> int:
    """Read everything (or up to a message id); returns the new last-read message id."""
    newest = state.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conv.id)
    )
    target = min(upto_message_id, newest or 0) if upto_message_id else (newest or 0)
    row = _state_row(state, manager.id, conv.id)
    changed = row.marked_unread or target > row.last_read_message_id
    row.last_read_message_id = max(row.last_read_message_id, target)
    row.marked_unread = False
    row.updated_at = utcnow()
    if target > (conv.staff_last_read_message_id or 0):
        # The team has now seen further: the visitor's widget marks their messages "seen".
        conv.staff_last_read_message_id = target
        append_event(state, conv, "conversation.read", {"upto": target})
    if changed:
        state.session.flush()
        _notify(state, manager.id, conv.id, unread_counts(state, manager.id, [conv.id])[conv.id])
        manager_read(state, conv)  # drops a waiting unread email (after commit)
    return row.last_read_message_id


def do_mark_customer_read(state: ChatsState, conv: Conversation, message_id: object) -> int:
    """The widget showed the visitor the conversation up to ``message_id`` (a seen report).

    Only ever moves forward; drives the customer's unread-reply emails. Returns the new value.
    """
    try:
        upto = int(message_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError("message_id must be the id of the newest message shown.") from None
    newest = state.session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conv.id, Message.kind != MessageKind.NOTE
        )
    )
    target = min(upto, newest or 0)
    if target > (conv.customer_last_read_message_id or 0):
        conv.customer_last_read_message_id = target
        customer_read(state, conv)  # drops a waiting unread-reply email (after commit)
    return conv.customer_last_read_message_id


def do_mark_unread(state: ChatsState, manager: Manager, conv: Conversation) -> None:
    row = _state_row(state, manager.id, conv.id)
    if not row.marked_unread:
        row.marked_unread = True
        row.updated_at = utcnow()
        state.session.flush()
        _notify(
            state, manager.id, conv.id, max(1, unread_counts(state, manager.id, [conv.id])[conv.id])
        )


def unread_counts(
    state: ChatsState, manager_id: str, conversation_ids: list[int]
) -> dict[int, int]:
    """Customer messages newer than what the manager read; a "marked unread" chat counts >= 1."""
    if not conversation_ids:
        return {}
    read = (
        select(ReadState.conversation_id, ReadState.last_read_message_id, ReadState.marked_unread)
        .where(ReadState.manager_id == manager_id, ReadState.conversation_id.in_(conversation_ids))
        .subquery()
    )
    query = (
        select(Message.conversation_id, func.count(Message.id))
        .outerjoin(read, read.c.conversation_id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.kind == MessageKind.CUSTOMER,
            Message.id > func.coalesce(read.c.last_read_message_id, 0),
        )
        .group_by(Message.conversation_id)
    )
    counts = {cid: 0 for cid in conversation_ids}
    counts.update({cid: n for cid, n in state.session.execute(query)})
    marked = state.session.scalars(
        select(ReadState.conversation_id).where(
            ReadState.manager_id == manager_id,
            ReadState.conversation_id.in_(conversation_ids),
            ReadState.marked_unread.is_(True),
        )
    )
    for cid in marked:
        counts[cid] = max(1, counts[cid])
    return counts


def unread_clause(manager_id: str) -> ColumnElement[bool]:
    """SQL condition "this conversation is unread for the manager" (for the list filter)."""
    read = (
        select(ReadState.last_read_message_id)
        .where(ReadState.conversation_id == Conversation.id, ReadState.manager_id == manager_id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    marked = (
        select(ReadState.id)
        .where(
            ReadState.conversation_id == Conversation.id,
            ReadState.manager_id == manager_id,
            ReadState.marked_unread.is_(True),
        )
        .correlate(Conversation)
        .exists()
    )
    newer = (
        select(Message.id)
        .where(
            Message.conversation_id == Conversation.id,
            Message.kind == MessageKind.CUSTOMER,
            Message.id > func.coalesce(read, 0),
        )
        .correlate(Conversation)
        .exists()
    )
    return marked | newer
