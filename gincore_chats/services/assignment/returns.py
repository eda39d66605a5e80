"""Conversations of a manager who stayed away go back to the pool, and on to someone else.

Only those where the customer waits (their message is the newest one anybody wrote) go back:
a conversation the manager answered stays theirs until they close it or leave. The manager
leaves it with the usual system message, so the console and the widget show what happened.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from ...models import (
    Conversation,
    ConversationStatus,
    ManagerProfile,
    Message,
    MessageKind,
    Participant,
    Source,
    utcnow,
)
from ...state import ChatsState
from ..conversations.events import append_event, publish_inbox_update
from ..conversations.messages import add_system_message
from . import settings as assignment_settings
from .availability import away_since

_WRITTEN = (MessageKind.CUSTOMER, MessageKind.MANAGER, MessageKind.ASSISTANT)


def customer_waits(state: ChatsState, conv: Conversation) -> bool:
    newest = state.session.scalar(
        select(Message.kind)
        .where(Message.conversation_id == conv.id, Message.kind.in_(_WRITTEN))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return newest == MessageKind.CUSTOMER


def _held(state: ChatsState, source: Source) -> dict[str, list[Participant]]:
    rows = state.session.scalars(
        select(Participant)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(
            Conversation.source_id == source.id,
            Conversation.status == ConversationStatus.OPEN,
            Participant.left_at.is_(None),
        )
        .order_by(Participant.id)
    )
    held: dict[str, list[Participant]] = {}
    for p in rows:
        held.setdefault(p.manager_id, []).append(p)
    return held


def _give_back(state: ChatsState, participant: Participant) -> None:
    conv = participant.conversation
    profile = state.session.get(ManagerProfile, participant.manager_id)
    name = profile.display_name if profile is not None else participant.manager_id
    participant.left_at = utcnow()
    data = {"name": name, "manager_id": participant.manager_id}
    add_system_message(state, conv, "left", data)
    append_event(state, conv, "participants.changed", {"managers": conv.active_manager_ids})
    publish_inbox_update(state, conv)


def do_return_from_away(state: ChatsState, source: Source, now: float | None = None) -> int:
    """Give back the waiting conversations of managers away longer than the source allows
    (to the pool: ``router.do_drain`` hands them out); how many were given back."""
    config = assignment_settings.of(source)
    if not config.automatic:
        return 0
    held = _held(state, source)
    if not held:
        return 0
    now = time.time() if now is None else now
    away = away_since(state, set(held))
    limit = config.return_after_minutes * 60
    returned = 0
    for manager_id, since in sorted(away.items()):
        if now - since < limit:
            continue
        for participant in held[manager_id]:
            if customer_waits(state, participant.conversation):
                _give_back(state, participant)
                returned += 1
    state.session.flush()
    return returned


def return_all(state: ChatsState) -> int:
    sources = state.session.scalars(select(Source).where(Source.active.is_(True))).unique()
    return sum(do_return_from_away(state, s) for s in sources)
