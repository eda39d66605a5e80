"""A per-process cache of settings rows, dropped in every process through the hub.

Settings (a source's AI mode, whether web push is set up ...) are read on every message but
change only when an admin saves a form. Each process keeps what it read here; the service
that changes a row says so in its transaction (``services.cached.changed``), which drops the
entry at once and, after commit, publishes an invalidation on the hub's channel so every
process (this one included) drops its copy.

The cache trusts itself only while its process hears the hub: an entry is stored when the
hub's listener is subscribed, everything is dropped whenever the listener (re)subscribes
(invalidations published while it was away are lost), and a forked child (an RQ work horse,
whose parent's listener thread did not come along) starts empty and reads the database. An
invalidation that arrives while a value is being loaded wins: the value read is not stored
(a generation counter tells).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .hub import Hub

T = TypeVar("T")

#: The hub route of invalidations.
ROUTE = "cache"
#: What ``invalidate`` carries to drop every entry.
EVERYTHING = "*"


class SettingsCache:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._lock = threading.Lock()
        self._entries: dict[Hashable, Any] = {}
        self._generation = 0
        self._pid = os.getpid()
        hub.on_invalidate(self.drop)

    def get(self, key: tuple[str, Any], load: Callable[[], T]) -> T:
        """The cached value of ``key``, else ``load()`` (stored when it is safe to)."""
        with self._lock:
            self._check_fork()
            if key in self._entries:
                value: T = self._entries[key]
                return value
            generation = self._generation
        value = load()
        if self._hub.listening():
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = value
        return value

    def drop(self, key: Any = EVERYTHING) -> None:
        """Forget ``key`` (a ``(kind, id)`` pair, or :data:`EVERYTHING`) in this process."""
        with self._lock:
            self._generation += 1
            if key == EVERYTHING:
                self._entries.clear()
            else:
                self._entries.pop(_hashable(key), None)

    def publish_drop(self, key: tuple[str, Any]) -> None:
        """Drop ``key`` here and tell every other process to (after a commit changed it)."""
        self.drop(key)
        self._hub.publish({"route": ROUTE, "key": list(key)})

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._entries.clear()
            self._generation += 1


def _hashable(key: Any) -> Hashable:
    # Keys come back from JSON as lists.
    return tuple(key) if isinstance(key, list | tuple) else key
