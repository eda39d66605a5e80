"""Which manager is looking at which conversation right now (to skip needless pushes).

A console socket that syncs a conversation is showing it; it stops when the socket unfollows
it, reports the tab hidden, or closes. Each (manager, conversation) pair is a Redis sorted set
of socket ids scored by the last refresh, refreshed with the socket's presence heartbeat, so a
crashed server's sockets stop counting after ``STALE_AFTER`` seconds instead of suppressing
pushes for ever.
"""

from __future__ import annotations

import time

from ...state import ChatsState
from ..managers.presence import STALE_AFTER


def _key(state: ChatsState, manager_id: str, conversation_id: int) -> str:
    return state.key("viewing", manager_id, conversation_id)


def viewers(state: ChatsState, manager_ids: set[str], conversation_id: int) -> set[str]:
    """The managers among ``manager_ids`` with a console showing the conversation now."""
    if not manager_ids:
        return set()
    ordered = sorted(manager_ids)
    floor = time.time() - STALE_AFTER
    pipe = state.redis.pipeline()
    for mid in ordered:
        pipe.zcount(_key(state, mid, conversation_id), floor, "+inf")
    return {mid for mid, n in zip(ordered, pipe.execute(), strict=True) if n}


class Viewer:
    """One console socket: the conversation it shows, if any, kept up to date in Redis."""

    def __init__(self, state: ChatsState, manager_id: str, socket_id: str) -> None:
        self.state = state
        self.manager_id = manager_id
        self.socket_id = socket_id
        self.conversation_id: int | None = None

    def look_at(self, conversation_id: int) -> None:
        previous = self.conversation_id
        if previous is not None and previous != conversation_id:
            self._remove(previous)
        self.conversation_id = conversation_id
        self.refresh()

    def look_away(self, conversation_id: int | None = None) -> None:
        if self.conversation_id is None:
            return
        if conversation_id is None or conversation_id == self.conversation_id:
            self._remove(self.conversation_id)
            self.conversation_id = None

    def refresh(self) -> None:
        if self.conversation_id is None:
            return
        key = _key(self.state, self.manager_id, self.conversation_id)
        pipe = self.state.redis.pipeline()
        pipe.zadd(key, {self.socket_id: time.time()})
        pipe.expire(key, int(STALE_AFTER * 2))
        pipe.execute()

    def _remove(self, conversation_id: int) -> None:
        self.state.redis.zrem(_key(self.state, self.manager_id, conversation_id), self.socket_id)
