"""Whether the assistant still answers a conversation: active, handed off, or stopped.

No row means active (the source's mode decides whether there is an assistant at all). A manager
who joins or replies stops it at once (:func:`manager_took_over`, which hears the participant
and message services through ``services.hooks.manager_took_over``); a manager may hand the
conversation back. Every change appends a staff-only ``ai.state`` event, so consoles badge the
conversation and resync sees it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...identity import Manager
from ...models import (
    AIConversationState,
    AIMode,
    AIStatus,
    Conversation,
    Visibility,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from .. import hooks
from ..conversations.events import append_event, publish_inbox_update
from .settings import mode_of


class NoAssistant(ValueError):
    """The source is humans only: there is no assistant to hand a conversation back to."""


def get(state: ChatsState, conversation_id: int) -> AIConversationState | None:
    return state.session.get(AIConversationState, conversation_id)


def status_of(state: ChatsState, conversation_id: int) -> str:
    row = get(state, conversation_id)
    return row.status if row is not None else AIStatus.ACTIVE


def _row(state: ChatsState, conv: Conversation) -> AIConversationState:
    row = get(state, conv.id)
    if row is None:
        row = AIConversationState(conversation_id=conv.id, status=AIStatus.ACTIVE)
        row.unresolved_turns = 0
        state.session.add(row)
    return row


def wire(row: AIConversationState | None) -> dict[str, Any]:
    if row is None:
        return {"status": AIStatus.ACTIVE, "reason": None, "unresolved_turns": 0}
    return {"status": row.status, "reason": row.reason, "unresolved_turns": row.unresolved_turns}


def summary_fields(
    state: ChatsState, convs: list[Conversation]
) -> dict[int, dict[str, Any] | None]:
    """The ``ai`` field of console list rows: None where the source has no assistant (humans
    only), else the mode and :func:`wire` of the conversation's state: one query (none when
    every source is humans only), once the modes are cached."""
    # The modes come from the per-process cache (one query per source the first time).
    modes = {sid: mode_of(state, sid) for sid in {c.source_id for c in convs}}
    ids = [c.id for c in convs if modes.get(c.source_id, AIMode.HUMANS) != AIMode.HUMANS]
    rows = (
        {
            row.conversation_id: row
            for row in state.session.scalars(
                select(AIConversationState).where(AIConversationState.conversation_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    result: dict[int, dict[str, Any] | None] = {}
    for conv in convs:
        mode = modes.get(conv.source_id, AIMode.HUMANS)
        result[conv.id] = (
            None if mode == AIMode.HUMANS else {"mode": mode, **wire(rows.get(conv.id))}
        )
    return result


@hooks.inbox_summary.connect
def _inbox_summary(
    state: ChatsState, *, conversation: Conversation, summary: dict[str, Any]
) -> None:
    summary["ai"] = summary_fields(state, [conversation])[conversation.id]


def do_set(
    state: ChatsState, conv: Conversation, status: str, reason: str | None, **extra: Any
) -> AIConversationState:
    row = _row(state, conv)
    row.status = status
    row.reason = reason
    if status == AIStatus.ACTIVE:
        row.unresolved_turns = 0
    row.updated_at = utcnow()
    state.session.flush()
    data = {"mode": mode_of(state, conv.source_id), **wire(row), **extra}
    append_event(state, conv, "ai.state", data, Visibility.STAFF)
    publish_inbox_update(state, conv)
    return row


def do_count_turn(state: ChatsState, conv: Conversation) -> None:
    row = _row(state, conv)
    row.unresolved_turns = (row.unresolved_turns or 0) + 1
    row.updated_at = utcnow()


def manager_took_over(state: ChatsState, conv: Conversation, manager_id: str | None) -> None:
    """A manager joined or replied: the assistant goes silent in this conversation."""
    if mode_of(state, conv.source_id) == AIMode.HUMANS:
        return
    if status_of(state, conv.id) == AIStatus.STOPPED:
        return
    do_set(state, conv, AIStatus.STOPPED, "manager", manager_id=manager_id)


@hooks.manager_took_over.connect
def _manager_took_over(
    state: ChatsState, *, conversation: Conversation, manager_id: str | None
) -> None:
    manager_took_over(state, conversation, manager_id)


def do_hand_back(state: ChatsState, manager: Manager, conv: Conversation) -> AIConversationState:
    """The manager gives the conversation back: the assistant answers the next message."""
    if not manager.can(Permission.REPLY):
        raise PermissionDenied("You need the chats.reply permission.", Permission.REPLY)
    if mode_of(state, conv.source_id) == AIMode.HUMANS:
        raise NoAssistant("This source has no AI assistant (humans only).")
    return do_set(state, conv, AIStatus.ACTIVE, "handed_back", manager_id=manager.id)
