"""Health checks shared by ``<prefix>/readyz`` and ``flask chats doctor``.

Each check returns a :class:`Check`: its name, whether it passed, and for a failure a short
``problem`` (safe to show to anyone: readyz is unauthenticated, so it names no host, port or
password) and a ``fix`` for the operator. The readiness checks read only: one database
connection, a few Redis commands; none writes or calls a third party.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rq import Worker
from rq.defaults import DEFAULT_WORKER_TTL
from sqlalchemy import text

from ..migrations_support import BRANCH_LABEL, alembic_config
from ..state import ChatsState

#: An idle RQ worker renews its heartbeat every ``worker_ttl - 15`` seconds (405 by default)
#: and its key expires after ``worker_ttl + 60``: a heartbeat older than that is a dead worker.
WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=DEFAULT_WORKER_TTL + 60)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    problem: str = ""
    fix: str = ""


def passed(name: str) -> Check:
    return Check(name, True)


@functools.lru_cache(maxsize=1)
def branch_head() -> str:
    """The head revision of the library's Alembic branch in the installed code."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(f"{BRANCH_LABEL}@head")
    assert head is not None
    return str(head.revision)


def database_checks(state: ChatsState) -> list[Check]:
    """The database is reachable and our branch of migrations is at the installed head."""
    try:
        with state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception:
        return [
            Check(
                "database",
                False,
                "database unreachable",
                "check SQLALCHEMY_DATABASE_URI and that PostgreSQL is running",
            ),
            Check("migrations", False, "unknown: database unreachable", "fix the database first"),
        ]
    head = branch_head()
    if head in current:
        return [passed("database"), passed("migrations")]
    return [
        passed("database"),
        Check(
            "migrations",
            False,
            f"the {BRANCH_LABEL} migrations are not at head {head}",
            "run 'flask db upgrade heads' (or alembic upgrade gincore_chats@head)",
        ),
    ]


def redis_check(state: ChatsState) -> Check:
    try:
        state.redis.ping()
    except Exception:
        return Check(
            "redis", False, "redis unreachable", "check CHATS_REDIS_URL and that Redis is running"
        )
    return passed("redis")


def worker_check(state: ChatsState, now: datetime | None = None) -> Check:
    """An RQ worker on our queue has sent a heartbeat recently."""
    fix = "start one with 'flask chats worker' (see Running in production)"
    try:
        workers = Worker.all(queue=state.queue)
    except Exception:
        return Check("worker", False, "unknown: redis unreachable", "fix Redis first")
    now = now or datetime.now(UTC)
    for w in workers:
        beat = w.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)  # RQ stores UTC
        if beat is not None and now - beat <= WORKER_HEARTBEAT_MAX_AGE:
            return passed("worker")
    return Check("worker", False, f"no worker heartbeat on queue {state.queue.name!r}", fix)


def readiness(state: ChatsState) -> list[Check]:
    """What a load balancer needs: database, migrations, Redis, a live worker."""
    return [*database_checks(state), redis_check(state), worker_check(state)]
