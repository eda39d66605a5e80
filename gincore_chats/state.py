"""Per-app state, kept in ``app.extensions["gincore_chats"]`` (never on the Chats object)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis
from flask import Flask, current_app
from rq import Queue

# JSON, not pickle: a job payload must never be able to run code in the worker.
from rq.serializers import JSONSerializer

from .config import ChatsConfig
from .identity import IdentityHooks
from .realtime.cache import SettingsCache
from .realtime.hub import Hub

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

EXTENSION_KEY = "gincore_chats"


@dataclass
class ChatsState:
    config: ChatsConfig
    db: SQLAlchemy
    hooks: IdentityHooks
    secret_key: str
    _redis: redis.Redis | None = field(default=None, repr=False)
    _hub: Hub | None = field(default=None, repr=False)
    _queue: Queue | None = field(default=None, repr=False)
    _cache: SettingsCache | None = field(default=None, repr=False)
    extras: dict[str, Any] = field(default_factory=dict)
    #: The app this state belongs to, weakly: the app holds its state, not the other way round.
    _app: weakref.ref[Flask] | None = field(default=None, repr=False)

    @property
    def app(self) -> Flask:
        """The app this state was made for (the sender of the host's signals)."""
        app = self._app() if self._app is not None else None
        if app is None:
            raise RuntimeError("gincore-chats state without its app")
        return app

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            url = self.config.redis_url
            if not url:
                raise RuntimeError(
                    "gincore-chats needs Redis: set CHATS_REDIS_URL, e.g. redis://localhost:6379/0"
                )
            # Creating the client opens no connection; the first command does.
            # Named connections let operators (and tests) tell our clients apart in CLIENT LIST.
            self._redis = redis.Redis.from_url(
                url, health_check_interval=30, client_name=self.key("conn").replace(":", "-")
            )
        return self._redis

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub(lambda: self.redis, self.key("events"))
        return self._hub

    @property
    def cache(self) -> SettingsCache:
        """Settings rows read per request, kept per process (``services.cached``)."""
        if self._cache is None:
            self._cache = SettingsCache(self.hub)
        return self._cache

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(
                self.config.queue_name, connection=self.redis, serializer=JSONSerializer
            )
        return self._queue

    @property
    def session(self) -> Any:
        return self.db.session

    def key(self, *parts: object) -> str:
        return ":".join((self.config.redis_prefix, *map(str, parts)))


def get_state() -> ChatsState:
    try:
        return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            "gincore-chats is not initialised on this app: call chats.init_app(app, db=db)"
        ) from None
