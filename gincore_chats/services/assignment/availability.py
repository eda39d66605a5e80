"""Which assigned managers can take a conversation now, and since when the others are away.

Available means what the widget shows as online: a console tab connected and the status
"online" (invisible and offline take nothing new). Away time starts when the manager chose a
status other than online, or when their last tab stopped heartbeating; a manager away before
anything recorded it counts from the first sweep that sees them away.
"""

from __future__ import annotations

import time

from ...models import Presence, Source
from ...state import ChatsState
from ..managers import presence
from ..managers.profiles import profiles


def available(state: ChatsState, manager_ids: set[str]) -> set[str]:
    live = presence.connected(state, manager_ids)
    return {mid for mid, p in profiles(state, live).items() if p.presence == Presence.ONLINE}


def available_for_source(state: ChatsState, source: Source) -> set[str]:
    return available(state, source.employee_ids)


def _first_seen_key(state: ChatsState, manager_id: str) -> str:
    return state.key("assignment", "away", manager_id)


def away_since(state: ChatsState, manager_ids: set[str]) -> dict[str, float]:
    """Unix time each away manager among ``manager_ids`` went away; available ones are absent."""
    here = available(state, manager_ids)
    rows = profiles(state, manager_ids)
    result: dict[str, float] = {}
    for mid in sorted(manager_ids):
        first_key = _first_seen_key(state, mid)
        if mid in here:
            state.redis.delete(first_key)
            continue
        profile = rows.get(mid)
        known: float | None
        if profile is not None and profile.presence != Presence.ONLINE:
            known = presence.status_changed_at(state, mid)
        else:
            known = presence.disconnected_at(state, mid)
        state.redis.set(first_key, time.time(), nx=True, ex=30 * 24 * 3600)
        first_seen = float(state.redis.get(first_key) or time.time())
        result[mid] = known if known is not None else first_seen
    return result
