"""Health checks shared by ``<prefix>/readyz`` and ``flask chats doctor``.

Each check returns a :class:`Check`: its name, whether it passed, and for a failure a short
``problem`` (safe to show to anyone: readyz is unauthenticated, so it names no host, port or
password), a ``fix`` for the operator, and a ``detail`` (the error itself) that only the doctor
prints. The readiness checks read only: one database connection, a few Redis commands; none
writes or calls a third party. The doctor's extra checks log in to SMTP and ask each channel
platform about its webhook, always after the database reads have committed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import geoip2.database
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rq import Worker
from rq.defaults import DEFAULT_WORKER_TTL
from sqlalchemy import text

from ..channels.base import ChannelError
from ..channels.registry import can_check
from ..migrations_support import BRANCH_LABEL, alembic_config
from ..models import SourceKind
from ..state import ChatsState
from . import sources
from .channels import connection
from .channels.sources import adapter_for
from .notifications import mailbox, web_push
from .sources import SourceError
from .unit_of_work import unit_of_work

#: An idle RQ worker renews its heartbeat every ``worker_ttl - 15`` seconds (405 by default)
#: and its key expires after ``worker_ttl + 60``: a heartbeat older than that is a dead worker.
WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=DEFAULT_WORKER_TTL + 60)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    problem: str = ""
    fix: str = ""
    #: The doctor's wording: what was found (a passed check) or the error (a failed one).
    detail: str = ""


def passed(name: str, detail: str = "") -> Check:
    return Check(name, True, detail=detail)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


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
    except Exception as exc:
        return [
            Check(
                "database",
                False,
                "database unreachable",
                "check SQLALCHEMY_DATABASE_URI and that PostgreSQL is running",
                _first_line(exc),
            ),
            Check("migrations", False, "unknown: database unreachable", "see the database check"),
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
    except Exception as exc:
        return Check(
            "redis",
            False,
            "redis unreachable",
            "check CHATS_REDIS_URL and that Redis is running",
            _first_line(exc),
        )
    return passed("redis")


def worker_check(state: ChatsState, now: datetime | None = None) -> Check:
    """An RQ worker on our queue has sent a heartbeat recently."""
    fix = "start one with 'flask chats worker' (see Running in production)"
    try:
        workers = Worker.all(queue=state.queue)
    except Exception:
        return Check("worker", False, "unknown: redis unreachable", "see the redis check")
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


# -- the doctor's configuration checks ----------------------------------------------------------


def smtp_check(state: ChatsState) -> Check:
    """Log in to the corporate mailbox's SMTP server, when one is set up."""
    with unit_of_work(state.session):
        box = mailbox.load(state)
    if not box.configured:
        return passed("smtp", "corporate email not set up (skipped)")
    fix = "correct the server, port, security and login under Settings > Notifications"
    if box.password_unreadable:
        return Check("smtp", False, "the stored SMTP password cannot be decrypted", fix)
    try:
        with mailbox.SmtpConnection(box):
            pass
    except mailbox.MailError as exc:
        return Check("smtp", False, "SMTP login failed", fix, str(exc))
    return passed("smtp", f"logged in to {box.host}:{box.port}")


def vapid_check(state: ChatsState) -> Check:
    with unit_of_work(state.session):
        keys = web_push.load_keys(state)
    if keys is None:
        return Check(
            "vapid",
            False,
            "no VAPID keys: browser push is off",
            "run 'flask chats vapid-keys --subject mailto:you@example.com'",
        )
    if keys.private_pem is None:
        return Check(
            "vapid",
            False,
            "the VAPID private key cannot be decrypted (the encryption key changed)",
            "restore CHATS_ENCRYPTION_KEY, or run 'flask chats vapid-keys --replace'",
        )
    return passed("vapid", f"contact {keys.subject}")


def geoip_check(state: ChatsState) -> Check:
    path = state.config.geoip_database
    if not path:
        return passed("geoip", "CHATS_GEOIP_DATABASE not set (skipped)")
    try:
        with geoip2.database.Reader(path) as reader:
            kind = reader.metadata().database_type
    except (OSError, ValueError) as exc:
        return Check(
            "geoip",
            False,
            "the GeoIP database cannot be read",
            "point CHATS_GEOIP_DATABASE at a readable GeoLite2/GeoIP2 City .mmdb file",
            _first_line(exc),
        )
    return passed("geoip", f"{kind} at {path}")


def webhook_checks(state: ChatsState) -> list[Check]:
    """Ask each active channel source's platform whether its webhook points at us."""
    with unit_of_work(state.session):
        found = [
            (s.id, s.name, s.kind)
            for s in sources.list_sources(state)
            if s.active and s.kind != SourceKind.WIDGET
        ]
    checks = []
    for source_id, name, kind in found:
        check_name = f"webhook {source_id} ({name}, {kind})"
        if not can_check(adapter_for(kind)):
            checks.append(passed(check_name, "set in the platform's dashboard (not checkable)"))
            continue
        fix = f"run 'flask chats connect {source_id}', then 'flask chats check-source {source_id}'"
        try:
            result = connection.check(state, source_id)
        except (SourceError, ChannelError) as exc:
            checks.append(Check(check_name, False, "the platform cannot be asked", fix, str(exc)))
            continue
        if result.ok:
            checks.append(passed(check_name, f"account {result.account or 'unknown'}"))
        else:
            detail = "; ".join(result.problems)
            checks.append(Check(check_name, False, "webhook not registered", fix, detail))
    return checks


def secrets_key_check(state: ChatsState) -> Check:
    if state.config.encryption_key:
        return passed("secrets key", "CHATS_ENCRYPTION_KEY set")
    return Check(
        "secrets key",
        False,
        "CHATS_ENCRYPTION_KEY is not set: stored secrets depend on SECRET_KEY",
        "set CHATS_ENCRYPTION_KEY (the same on every process) before storing secrets; set "
        "later, re-enter the channel tokens, the SMTP password and replace the VAPID keys",
    )


def doctor(state: ChatsState) -> list[Check]:
    """Every check, readiness first; the configuration checks only once the database works."""
    checks = readiness(state)
    if not all(c.ok for c in checks if c.name in ("database", "migrations")):
        return checks
    return [
        *checks,
        smtp_check(state),
        vapid_check(state),
        geoip_check(state),
        *webhook_checks(state),
        secrets_key_check(state),
    ]
