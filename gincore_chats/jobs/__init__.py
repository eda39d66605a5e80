"""RQ jobs: thin functions that load rows and call one service or adapter.

Jobs are enqueued by dotted path with JSON arguments (never pickled objects) and run inside the
app's context in the worker started by ``flask chats worker``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context

from ..state import EXTENSION_KEY, ChatsState

_worker_app: Flask | None = None
_worker_pid: int | None = None


def set_worker_app(app: Flask) -> None:
    """Called by the worker command: jobs run in this app's context."""
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()


def enqueue(
    state: ChatsState,
    func: str,
    *args: Any,
    delay: timedelta | None = None,
    job_id: str | None = None,
) -> Any:
    """Enqueue (or schedule) a job; call only from an after-commit effect."""
    options: dict[str, Any] = {"job_id": job_id} if job_id else {}
    if delay is not None:
        return state.queue.enqueue_in(delay, func, *args, **options)
    return state.queue.enqueue(func, *args, **options)


@contextmanager
def job_state() -> Iterator[ChatsState]:
    """The app state for a running job, with a fresh DB session that is removed afterwards."""
    if has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        ctx = None
    else:
        if _worker_app is None:
            raise RuntimeError(
                "gincore-chats jobs run in the worker started by `flask chats worker`"
            )
        app = _worker_app
        ctx = app.app_context()
        ctx.push()
    try:
        state: ChatsState = app.extensions[EXTENSION_KEY]
        if _worker_pid is not None and os.getpid() != _worker_pid:
            # A forked work-horse must not reuse the parent's pooled DB connections.
            for engine in state.db.engines.values():
                engine.dispose(close=False)
        try:
            yield state
        finally:
            state.db.session.remove()
    finally:
        if ctx is not None:
            ctx.pop()
