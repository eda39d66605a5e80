"""One unit of work per request or job, with side effects that run only after commit.

Services register effects (realtime publish, RQ enqueue, signals, email) with
:func:`after_commit`. When the session's outermost transaction commits they become *ready*, and
they run once ``commit()`` has returned, when the session is usable again, so a signal
receiver may query the database. A rollback drops the pending ones, so a change that never
reached the database never reaches a client or worker.

:func:`unit_of_work` runs ready effects right after its commit. If code outside it commits a
session holding effects (a host calling a service and committing itself), they run when the app
context tears down at the latest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

_PENDING = "gincore_chats.pending_effects"
_READY = "gincore_chats.ready_effects"
_UNDO = "gincore_chats.rollback_undo"

Effect = Callable[[], Any]


def after_commit(session: Session | Any, effect: Effect) -> None:
    """Run ``effect`` once the current transaction of ``session`` has committed."""
    _listen(session).info.setdefault(_PENDING, []).append(effect)


def on_rollback(session: Session | Any, undo: Effect) -> None:
    """Undo work done outside the database (a stored file) if the transaction rolls back."""
    _listen(session).info.setdefault(_UNDO, []).append(undo)


def _listen(session: Session | Any) -> Session:
    """The session itself (a ``scoped_session`` names the current one), with our listeners.

    They attach to this one session object when it first carries our work, not to the
    ``Session`` class: the host's own sessions (and any other library's) never run them.
    """
    real: Session = session() if isinstance(session, scoped_session) else session
    if not event.contains(real, "after_commit", _commit_effects):
        event.listen(real, "after_commit", _commit_effects)
        event.listen(real, "after_rollback", _drop_effects)
    return real


def _commit_effects(session: Session) -> None:
    session.info.pop(_UNDO, None)
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


def _drop_effects(session: Session) -> None:
    session.info.pop(_PENDING, None)
    for undo in session.info.pop(_UNDO, None) or ():
        try:
            undo()
        except Exception:
            log.exception("gincore_chats: rollback clean-up failed")


def run_ready_effects(session: Session | Any) -> None:
    """Run effects whose transaction has committed, in the order they were registered."""
    while True:
        ready = session.info.pop(_READY, None)
        if not ready:
            return
        for effect in ready:
            try:
                effect()
            except Exception:
                # The data is committed; a failed publish is recovered by clients resyncing
                # from the event log, so it must not turn a successful request into an error.
                log.exception("gincore_chats: after-commit effect failed")


@contextmanager
def unit_of_work(session: Session | Any) -> Iterator[Any]:
    """Commit on success, roll back on any exception (re-raised); then run the effects."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    run_ready_effects(session)
