"""Round-robin assignment: who takes a conversation, under a lock, within capacity.

Fair by construction: the chosen manager is the available one with the fewest open
conversations, and among equals the one whose last assignment in this source is oldest, so
equal managers take turns and a manager who closes chats fast is not handed more than the
others while they are all below capacity.

Concurrency: the candidates' manager rows are locked (``FOR UPDATE``, in id order, so two
transactions never deadlock on them) before their load is counted; a second process counting
the same managers waits, then sees the first one's join. Conversations taken from the pool are
locked with ``SKIP LOCKED``, so two processes draining one pool never take the same one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ...host import user_loader
from ...identity import Manager, describe
from ...models import (
    AIMode,
    Conversation,
    ConversationStatus,
    ManagerProfile,
    Participant,
    Source,
    SourceEmployee,
)
from ...permissions import Permission
from ...state import ChatsState
from ..ai.settings import mode_of
from ..conversations import participants
from . import settings as assignment_settings
from .availability import available_for_source


def _assignable(state: ChatsState, source: Source) -> bool:
    if not assignment_settings.of(source).automatic:
        return False
    # An AI assistant answers first there; people join when it hands over (or never).
    return mode_of(state, source.id) == AIMode.HUMANS


def _lock_managers(state: ChatsState, manager_ids: set[str]) -> None:
    if not manager_ids:
        return
    state.session.execute(
        select(ManagerProfile.manager_id)
        .where(ManagerProfile.manager_id.in_(sorted(manager_ids)))
        .order_by(ManagerProfile.manager_id)
        .with_for_update()
    ).all()


def open_loads(state: ChatsState, manager_ids: set[str]) -> dict[str, int]:
    """Open conversations (any source) each manager takes part in now."""
    rows = state.session.execute(
        select(Participant.manager_id, func.count(func.distinct(Participant.conversation_id)))
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(
            Participant.manager_id.in_(sorted(manager_ids)),
            Participant.left_at.is_(None),
            Conversation.status == ConversationStatus.OPEN,
        )
        .group_by(Participant.manager_id)
    ).all()
    loads = dict.fromkeys(manager_ids, 0)
    loads.update({str(mid): int(n) for mid, n in rows})
    return loads


def _last_joined(state: ChatsState, source: Source, manager_ids: set[str]) -> dict[str, datetime]:
    rows = state.session.execute(
        select(Participant.manager_id, func.max(Participant.joined_at))
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(Conversation.source_id == source.id, Participant.manager_id.in_(sorted(manager_ids)))
        .group_by(Participant.manager_id)
    ).all()
    return {str(mid): at for mid, at in rows if at is not None}


def _managers(state: ChatsState, manager_ids: set[str]) -> dict[str, Manager]:
    """The host users who may reply, as the services see them (unknown users dropped)."""
    load_user = user_loader(state.app)
    found: dict[str, Manager] = {}
    for mid in sorted(manager_ids):
        user = load_user(mid) if load_user is not None else None
        if user is None:
            continue
        manager = describe(user, state.hooks)
        if manager.can(Permission.REPLY):
            found[mid] = manager
    return found


class _Round:
    """The candidates of one source, locked, with their loads, for a run of assignments."""

    def __init__(self, state: ChatsState, source: Source) -> None:
        self.capacity = assignment_settings.of(source).capacity
        candidates = available_for_source(state, source)
        _lock_managers(state, candidates)
        self.managers = _managers(state, candidates)
        ids = set(self.managers)
        self.loads = open_loads(state, ids) if ids else {}
        self.last = _last_joined(state, source, ids) if ids else {}

    def pick(self, avoid: str | None = None) -> Manager | None:
        free = [m for m, load in self.loads.items() if load < self.capacity and m != avoid]
        if not free:
            return None
        oldest = datetime.min.replace(tzinfo=None)

        def turn(mid: str) -> tuple[int, datetime, str]:
            at = self.last.get(mid)
            return (self.loads[mid], at.replace(tzinfo=None) if at else oldest, mid)

        return self.managers[min(free, key=turn)]

    def took(self, state: ChatsState, manager: Manager, conv: Conversation) -> None:
        participants.do_join(state, manager, conv)
        self.loads[manager.id] += 1
        joined = conv.participants[-1].joined_at
        self.last[manager.id] = joined


def do_assign(state: ChatsState, conv: Conversation) -> str | None:
    """Join the next manager to ``conv`` if its source assigns automatically and nobody is in
    it; the manager's id, or None (it waits in the pool: unassigned)."""
    if conv.status != ConversationStatus.OPEN or conv.first_customer_message_at is None:
        return None
    if conv.active_manager_ids or not _assignable(state, conv.source):
        return None
    round_ = _Round(state, conv.source)
    manager = round_.pick()
    if manager is None:
        return None
    round_.took(state, manager, conv)
    return manager.id


def _pool(state: ChatsState, source: Source, limit: int) -> list[Conversation]:
    active = (
        select(Participant.id)
        .where(Participant.conversation_id == Conversation.id, Participant.left_at.is_(None))
        .correlate(Conversation)
        .exists()
    )
    query = (
        select(Conversation)
        .where(
            Conversation.source_id == source.id,
            Conversation.status == ConversationStatus.OPEN,
            Conversation.first_customer_message_at.is_not(None),
            ~active,
        )
        .order_by(Conversation.first_customer_message_at, Conversation.id)
        .limit(limit)
        .with_for_update(of=Conversation, skip_locked=True)
    )
    return list(state.session.scalars(query).unique())


def do_drain(
    state: ChatsState, source: Source, *, batch: int = 200, avoid: tuple[int, str] | None = None
) -> int:
    """Give waiting conversations of ``source`` to managers with free capacity, oldest first;
    how many were assigned. ``avoid``: (conversation id, manager id) that manager just left or
    gave back, so it goes to someone else (or waits)."""
    if not _assignable(state, source):
        return 0
    round_ = _Round(state, source)
    if not round_.managers:
        return 0
    free = sum(max(0, round_.capacity - load) for load in round_.loads.values())
    assigned = 0
    for conv in _pool(state, source, min(free, batch)):
        if conv.active_manager_ids:
            continue
        manager = round_.pick(avoid[1] if avoid and avoid[0] == conv.id else None)
        if manager is None:
            continue
        round_.took(state, manager, conv)
        assigned += 1
    return assigned


def sources_of(state: ChatsState, manager_id: str) -> list[Source]:
    """The active sources assigning automatically that ``manager_id`` works in."""
    rows = state.session.scalars(
        select(Source)
        .join(SourceEmployee, SourceEmployee.source_id == Source.id)
        .where(SourceEmployee.manager_id == manager_id, Source.active.is_(True))
        .order_by(Source.id)
    )
    return [s for s in rows.unique() if assignment_settings.of(s).automatic]
