"""Fan-out of events over Redis pub/sub to this process's WebSockets.

One Redis subscriber connection (and one listener thread, a greenlet under gevent) per process
and app, started when the first socket registers: never at import or in ``init_app``. Every
process publishes to one channel and filters locally (the Flask-SocketIO pattern), which keeps
subscription state out of Redis and makes a listener reconnect trivially complete.

Redis pub/sub is at-most-once. When the listener reconnects after losing Redis, it tells every
local socket to resync, and clients fetch what they missed from the database event log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

log = logging.getLogger(__name__)

VISITOR = "visitor"
STAFF = "staff"


@dataclass(eq=False)
class Subscriber:
    """One local WebSocket as the hub sees it."""

    send_text: Callable[[str], None]
    audience: str  # VISITOR or STAFF
    conversations: set[int] = field(default_factory=set)
    #: Source ids whose conversation-list updates this socket wants; None means all (admins).
    inbox_sources: set[int] | None = field(default_factory=set)
    #: The manager behind a staff socket, for events addressed to one manager.
    manager_id: str | None = None
    #: customers.view: contact details and visitor context (PII) may be sent to this socket.
    can_view_customers: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    def send(self, text: str) -> None:
        if self.closed:
            return
        # wsproto is not thread-safe: the listener and the handler both send on this socket.
        with self.lock:
            try:
                self.send_text(text)
            except Exception:
                self.closed = True

    def wants_inbox(self, source_id: int) -> bool:
        return self.audience == STAFF and (
            self.inbox_sources is None or source_id in self.inbox_sources
        )


class Hub:
    def __init__(self, redis_client: Callable[[], redis.Redis], channel: str) -> None:
        self._redis = redis_client
        self.channel = channel
        self._lock = threading.Lock()
        self._by_conversation: dict[int, set[Subscriber]] = defaultdict(set)
        self._all: set[Subscriber] = set()
        self._listener: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        #: Called with a key to drop (``cache.EVERYTHING`` after the listener (re)subscribed
        #: or lost Redis: invalidations may have been missed).
        self._invalidate: list[Callable[[Any], None]] = []

    # -- publishing (any process, including RQ workers) -------------------------------------

    def publish(self, message: dict[str, Any]) -> None:
        self.publish_text(json.dumps(message, separators=(",", ":"), default=str))

    def publish_text(self, data: str) -> None:
        """Publish a message already serialised (what :meth:`publish` would send)."""
        try:
            self._redis().publish(self.channel, data)
        except redis.RedisError:
            # Retry once: a dropped pooled connection is the common case. If Redis is really
            # down, clients still get the event from the database when they resync.
            log.warning("gincore_chats: publish failed, retrying once", exc_info=True)
            self._redis().publish(self.channel, data)

    # -- local sockets ------------------------------------------------------------------------

    def register(self, sub: Subscriber) -> None:
        self._ensure_listener()
        with self._lock:
            self._all.add(sub)
            for cid in sub.conversations:
                self._by_conversation[cid].add(sub)

    def follow(self, sub: Subscriber, conversation_id: int) -> None:
        with self._lock:
            sub.conversations.add(conversation_id)
            self._by_conversation[conversation_id].add(sub)

    def unfollow(self, sub: Subscriber, conversation_id: int) -> None:
        with self._lock:
            sub.conversations.discard(conversation_id)
            self._by_conversation.get(conversation_id, set()).discard(sub)

    def unregister(self, sub: Subscriber) -> None:
        sub.closed = True
        with self._lock:
            self._all.discard(sub)
            for cid in sub.conversations:
                subs = self._by_conversation.get(cid)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._by_conversation[cid]

    def local_count(self) -> int:
        with self._lock:
            return len(self._all)

    def on_invalidate(self, drop: Callable[[Any], None]) -> None:
        self._invalidate.append(drop)

    def listening(self) -> bool:
        """Is this process subscribed, so it hears every invalidation? (Starts the listener.)"""
        self._ensure_listener()
        listener = self._listener
        return self._ready.is_set() and listener is not None and listener.is_alive()

    def _drop_cached(self, key: Any) -> None:
        for drop in self._invalidate:
            drop(key)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """True once the listener is subscribed (tests and benchmarks wait on it)."""
        self._ensure_listener()
        return self._ready.wait(timeout)

    # -- delivery -----------------------------------------------------------------------------

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand one published message to the local sockets that may see it."""
        if message.get("route") == "cache":
            self._drop_cached(message.get("key"))
            return
        targets = self._targets(message)
        if not targets:
            return
        text = json.dumps(message.get("data"), separators=(",", ":"), default=str)
        redacted = message.get("redacted")
        redacted_text = (
            json.dumps(redacted, separators=(",", ":"), default=str)
            if redacted is not None
            else text
        )
        for sub in targets:
            sub.send(text if sub.can_view_customers or sub.audience != STAFF else redacted_text)

    def _targets(self, message: dict[str, Any]) -> Iterable[Subscriber]:
        route = message.get("route")
        with self._lock:
            if route == "conversation":
                subs = list(self._by_conversation.get(int(message["conversation_id"]), ()))
                visibility = message.get("visibility")
                if visibility != "public":
                    subs = [s for s in subs if s.audience == STAFF]
                if visibility == "pii":
                    subs = [s for s in subs if s.can_view_customers]
                return subs
            if route == "inbox":
                source_id = int(message["source_id"])
                return [s for s in self._all if s.wants_inbox(source_id)]
            if route == "manager":
                mid = str(message["manager_id"])
                return [s for s in self._all if s.audience == STAFF and s.manager_id == mid]
        return ()

    def _broadcast_local(self, data: dict[str, Any]) -> None:
        text = json.dumps(data)
        with self._lock:
            subs = list(self._all)
        for sub in subs:
            sub.send(text)

    # -- listener -----------------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        if self._listener is not None and self._listener.is_alive():
            return
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(
                target=self._listen_forever, name="gincore-chats-hub", daemon=True
            )
            self._listener.start()

    def _listen_forever(self) -> None:
        backoff = 0.2
        while not self._stopping:
            pubsub = None
            try:
                pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                # Wait for the subscribe confirmation so "ready" means no publish is missed.
                pubsub.get_message(timeout=5.0, ignore_subscribe_messages=False)
                # What was cached while not subscribed may have missed its invalidation.
                self._drop_cached("*")
                self._ready.set()
                # Anything published before this subscription (while we were away, or between
                # the first socket's hello and now) never reaches us on this channel.
                self._broadcast_local({"type": "resync"})
                backoff = 0.2
                for raw in pubsub.listen():
                    if raw.get("type") != "message":
                        continue
                    try:
                        self.deliver(json.loads(raw["data"]))
                    except Exception:
                        log.exception("gincore_chats: bad hub message dropped")
            except redis.RedisError:
                self._ready.clear()
                self._drop_cached("*")
                log.warning("gincore_chats: Redis listener lost; retrying in %.1fs", backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()
