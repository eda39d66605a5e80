"""RQ jobs: thin functions that load rows and call one service or adapter.

Services enqueue them by dotted path with JSON arguments (never pickled objects) through
:mod:`gincore_chats.queue`, so nothing below this package imports it. They run inside an app
context in the worker started by ``flask chats worker`` (:mod:`gincore_chats.jobs.worker`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, has_app_context

from ..state import EXTENSION_KEY, ChatsState


@contextmanager
def job_state() -> Iterator[ChatsState]:
    """The app state for a running job, with a fresh DB session that is removed afterwards.

    The worker (``jobs.worker``) runs each job in an app context of its app; a job called
    directly (a test, a host's own runner) uses the app context it is called in.
    """
    if not has_app_context():
        raise RuntimeError("gincore-chats jobs run in the worker started by `flask chats worker`")
    state: ChatsState = current_app.extensions[EXTENSION_KEY]
    try:
        yield state
    finally:
        state.db.session.remove()
