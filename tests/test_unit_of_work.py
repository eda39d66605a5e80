"""The unit of work's session hooks belong to the library's own work, not to the process.

The library shares the host's Flask-SQLAlchemy session; its after-commit/after-rollback hooks
must only run for a session that carries library work, never for the host's own commits or
for sessions of other code in the process.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gincore_chats.services import unit_of_work as uow

from . import hostapp

OURS = {uow._commit_effects, uow._drop_effects}


def hooks_of(session: Session) -> set[Any]:
    """Every listener the session would run on commit or rollback (class- and instance-level)."""
    return {*session.dispatch.after_commit, *session.dispatch.after_rollback}


def test_a_host_commit_outside_the_library_runs_none_of_its_hooks(app: Any) -> None:
    with app.app_context():
        db = hostapp.db
        db.session.add(hostapp.Staff(full_name="Hana Host", mail="hana@example.com", perms=""))
        db.session.commit()
        assert hooks_of(db.session()) & OURS == set()
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert hooks_of(db.session()) & OURS == set()

        # Another library's plain SQLAlchemy session in the same process.
        with Session(db.engine) as other:
            other.execute(text("SELECT 1"))
            other.commit()
            assert hooks_of(other) & OURS == set()


def test_library_work_in_the_shared_session_runs_after_commit_and_never_after_rollback(
    app: Any,
) -> None:
    ran: list[str] = []
    with app.app_context():
        session = app.extensions["gincore_chats"].session
        with uow.unit_of_work(session):
            uow.after_commit(session, lambda: ran.append("committed"))
            assert hooks_of(session()) >= OURS
        with pytest.raises(RuntimeError), uow.unit_of_work(session):
            session.execute(text("SELECT 1"))  # a transaction to roll back
            uow.after_commit(session, lambda: ran.append("rolled back"))
            uow.on_rollback(session, lambda: ran.append("undone"))
            raise RuntimeError("the work fails")
    assert ran == ["committed", "undone"]
