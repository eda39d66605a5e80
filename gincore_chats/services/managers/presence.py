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


def do_set_status(state: ChatsState, manager: Manager, status: str) -> ManagerProfile:
    if status not in Presence.ALL:
        raise PresenceError("Status must be online, invisible or offline.")
    profile = do_sync_profile(state, manager)
    profile.presence = status
    manager_id = manager.id
    after_commit(
        state.session,
        lambda: state.hub.publish(
            {
                "route": "manager",
                "manager_id": manager_id,
                "data": {"type": "presence", "status": status},
            }
        ),
    )
    return profile


def online_for_source(state: ChatsState, source: Source, limit: int = 3) -> list[ManagerProfile]:
    """Assigned managers who are connected and chose "online" (invisible counts as offline)."""
    live = connected(state, source.employee_ids)
    rows = [p for p in profiles(state, live).values() if p.presence == Presence.ONLINE]
    rows.sort(key=lambda p: p.display_name.lower())
    return rows[:limit]
