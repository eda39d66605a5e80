"""One unit of work per request or job, with side effects that run only after commit.

Services register effects (realtime publish, RQ enqueue, signals, email) with
:func:`after_commit`. They run when the session's outermost transaction commits and are dropped
when it rolls back, so a change that never reached the database never reaches a client or worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_EFFECTS_KEY = "gincore_chats.after_commit"

Effect = Callable[[], Any]


def after_commit(session: Session | Any, effect: Effect) -> None:
    """Run ``effect`` once the current transaction of ``session`` has committed."""
    session.info.setdefault(_EFFECTS_KEY, []).append(effect)


@event.listens_for(Session, "after_commit")
def _run_effects(session: Session) -> None:
    effects = session.info.pop(_EFFECTS_KEY, None)
    for effect in effects or ():
        try:
            effect()
        except Exception:
            # The data is committed; a failed publish is recovered by clients resyncing
            # from the event log, so it must not turn a successful request into an error.
            log.exception("gincore_chats: after-commit effect failed")


@event.listens_for(Session, "after_rollback")
def _drop_effects(session: Session) -> None:
    session.info.pop(_EFFECTS_KEY, None)


@contextmanager
def unit_of_work(session: Session | Any) -> Iterator[Any]:
    """Commit on success, roll back on any exception (which is re-raised)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
