"""Manager presence: the status they chose, and whether a console tab is really connected.

Each console socket keeps a member in the Redis sorted set ``presence:<manager>`` scored by its
last heartbeat. A manager counts as connected while any member is fresher than
``STALE_AFTER`` seconds. Closing a tab does not remove the member at once: it is re-scored to
expire after ``GRACE`` seconds, so a reload or a flaky network does not flicker the manager
offline; a crashed server's sockets simply stop heartbeating.
"""

from __future__ import annotations

import time

from ...identity import Manager
from ...models import ManagerProfile, Presence, Source
from ...state import ChatsState
from ..hooks import presence_changed
from ..unit_of_work import after_commit
from .profiles import do_sync_profile, profiles

HEARTBEAT = 30.0
STALE_AFTER = 90.0
GRACE = 20.0


class PresenceError(ValueError):
    pass


def _key(state: ChatsState, manager_id: str) -> str:
    return state.key("presence", manager_id)


def socket_alive(state: ChatsState, manager_id: str, socket_id: str) -> None:
    key = _key(state, manager_id)
    pipe = state.redis.pipeline()
    pipe.zadd(key, {socket_id: time.time()})
    pipe.zremrangebyscore(key, "-inf", time.time() - STALE_AFTER)
    pipe.expire(key, int(STALE_AFTER * 2))
    pipe.execute()


def socket_closed(state: ChatsState, manager_id: str, socket_id: str) -> None:
    state.redis.zadd(_key(state, manager_id), {socket_id: time.time() - STALE_AFTER + GRACE})


def connected(state: ChatsState, manager_ids: set[str]) -> set[str]:
    if not manager_ids:
        return set()
    ordered = sorted(manager_ids)
    pipe = state.redis.pipeline()
    floor = time.time() - STALE_AFTER
    for mid in ordered:
        pipe.zcount(_key(state, mid), floor, "+inf")
    return {mid for mid, n in zip(ordered, pipe.execute(), strict=True) if n}


def status_changed_at(state: ChatsState, manager_id: str) -> float | None:
    """When the manager last chose a status (Unix time); None if not recorded."""
    raw = state.redis.get(state.key("presence-since", manager_id))
    return float(raw) if raw is not None else None


def disconnected_at(state: ChatsState, manager_id: str) -> float | None:
    """When the manager's last console tab went stale (Unix time); None while one is
    connected, or when the heartbeats have expired from Redis altogether."""
    newest = state.redis.zrange(_key(state, manager_id), -1, -1, withscores=True)
    if not newest:
        return None
    went_stale = float(newest[0][1]) + STALE_AFTER
    return went_stale if went_stale <= time.time() else None


def _announce(state: ChatsState, manager_id: str, status: str, changed: bool) -> None:
    if changed:
        # Auto-assignment counts away time from here (services.assignment).
        state.redis.set(state.key("presence-since", manager_id), time.time())
    data = {"type": "presence", "status": status}
    state.hub.publish({"route": "manager", "manager_id": manager_id, "data": data})
    presence_changed.send(state, manager_id=manager_id, status=status)


def do_set_status(state: ChatsState, manager: Manager, status: str) -> ManagerProfile:
    if status not in Presence.ALL:
        raise PresenceError("Status must be online, invisible or offline.")
    profile = do_sync_profile(state, manager)
    changed = profile.presence != status or status_changed_at(state, manager.id) is None
    profile.presence = status
    manager_id = manager.id
    after_commit(state.session, lambda: _announce(state, manager_id, status, changed))
    return profile


def online_for_source(state: ChatsState, source: Source, limit: int = 3) -> list[ManagerProfile]:
    """Assigned managers who are connected and chose "online" (invisible counts as offline)."""
    live = connected(state, source.employee_ids)
    rows = [p for p in profiles(state, live).values() if p.presence == Presence.ONLINE]
    rows.sort(key=lambda p: p.display_name.lower())
    return rows[:limit]
