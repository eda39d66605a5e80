"""The write path of one message, in process: SQL statements, milliseconds, and a resync.

    .venv/bin/python -m bench.message_path                 # 300 of each, 30 warm-ups
    .venv/bin/python -m bench.message_path -n 1000

Runs the test host (``tests/hostapp.py``) on a scratch PostgreSQL database and a scratch Redis
prefix and sends whole HTTP requests through Flask's test client (routing, the visitor token
or session login, the rate limit, the insert, serialisation, the after-commit effects with
their Redis PUBLISHes; no network, no socket). A visitor's conversation has a manager in it:

* ``POST /chats/widget/api/messages``: one visitor message;
* ``POST /chats/console/api/conversations/<id>/messages``: one manager reply (a non-admin
  manager, so the permission check reads the manager's sources, from the cache);
* ``GET /chats/widget/api/events?after=...``: the 100 events a reconnecting widget missed.

For each it prints the SQL statements one request sends (counted with ``before_cursor_execute``
on the engine, as ``tests/test_sql_budget.py`` does), and p50 / p99 of the request's time and
of the part spent in the database driver (from ``before_cursor_execute`` to
``after_cursor_execute``, so the rest is Python). The hub is subscribed before the first
measurement, so the per-process settings cache is in use as in a server.

``CHATS_BENCH_DATABASE_URL`` (default ``CHATS_TEST_DATABASE_URL``, else the local ``test``
database) is an admin connection; ``CHATS_BENCH_REDIS_URL`` (default the local Redis). The
scratch database and keys are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import hostapp

ADMIN_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get("CHATS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SHOP = "https://shop.example.com"
MISSED = 100


class Meter:
    """Statements and driver time on the engine, per measured request."""

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.sql = 0.0
        self._started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, *args: Any) -> None:
        self.statements += 1
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, *args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None:
            self.sql += time.perf_counter() - started

    def reset(self) -> None:
        self.statements, self.sql = 0, 0.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def run(
    meter: Meter, request: Callable[[], Any], count: int, warmup: int
) -> tuple[int, float, float, float, float]:
    """Statements of one request (all must agree), p50/p99 total ms, p50/p99 SQL ms."""
    for _ in range(warmup):
        request()
    totals, sqls, counts = [], [], set()
    for _ in range(count):
        meter.reset()
        start = time.perf_counter()
        request()
        totals.append((time.perf_counter() - start) * 1000)
        sqls.append(meter.sql * 1000)
        counts.add(meter.statements)
    assert len(counts) == 1, f"the statement count varied: {sorted(counts)}"
    return (counts.pop(), *percentiles(totals), *percentiles(sqls))


def setup(app: Flask) -> tuple[Any, Any, dict[str, str], int]:
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        staff = hostapp.Staff(
            full_name="Mia Manager",
            mail="mia@example.com",
            perms="chats.view,chats.reply,customers.view,customers.edit",
        )
        hostapp.db.session.add(staff)
        hostapp.db.session.commit()
        manager_id = staff.id
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, "Shop", ["shop.example.com"])
            sources.do_set_employees(state, source, [manager_id])
        key = source.public_key
    visitor = app.test_client()
    opened = visitor.post(
        "/chats/widget/api/conversations", json={"key": key}, headers={"Origin": SHOP}
    )
    assert opened.status_code == 201, opened.get_data(as_text=True)
    conv_id = opened.get_json()["conversation_id"]
    headers = {"Origin": SHOP, "Authorization": f"Bearer {opened.get_json()['token']}"}
    console = app.test_client()
    console.get(f"/test-login/{manager_id}")
    csrf = console.get("/chats/console/api/me").get_json()["csrf_token"]
    joined = console.post(
        f"/chats/console/api/conversations/{conv_id}/join", headers={"X-CSRF-Token": csrf}
    )
    assert joined.status_code == 200, joined.get_data(as_text=True)
    console.environ_base["HTTP_X_CSRF_TOKEN"] = csrf
    return visitor, console, headers, conv_id


def measure(app: Flask, count: int, warmup: int) -> list[tuple[str, tuple[Any, ...]]]:
    visitor, console, headers, conv_id = setup(app)
    with app.app_context():
        engine = hostapp.db.engine
        state = app.extensions["gincore_chats"]
    assert state.hub.wait_ready(10), "the hub did not subscribe"
    meter = Meter(engine)

    def visitor_message() -> None:
        body = {"body": "Where is my order?", "client_id": str(uuid.uuid4())}
        r = visitor.post("/chats/widget/api/messages", json=body, headers=headers)
        assert r.status_code == 201, r.get_data(as_text=True)

    def manager_reply() -> None:
        body = {"body": "It is on its way.", "client_id": str(uuid.uuid4())}
        r = console.post(f"/chats/console/api/conversations/{conv_id}/messages", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)

    rows = [
        ("visitor message (widget POST)", run(meter, visitor_message, count, warmup)),
        ("manager reply (console POST)", run(meter, manager_reply, count, warmup)),
    ]
    last = visitor.get("/chats/widget/api/conversation", headers=headers).get_json()["last_seq"]

    def resync() -> None:
        r = visitor.get(f"/chats/widget/api/events?after={last - MISSED}", headers=headers)
        events = r.get_json()["events"]
        assert len(events) == MISSED, len(events)

    rows.append((f"resync: {MISSED} missed events (widget GET)", run(meter, resync, 100, 10)))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="measured requests of each (300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first (30)")
    args = parser.parse_args(argv)

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{secrets.token_hex(4)}"
    prefix = f"gcbench-{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as files:
            app = hostapp.create_app(
                SQLALCHEMY_DATABASE_URI=url,
                CHATS_REDIS_URL=REDIS_URL,
                CHATS_REDIS_PREFIX=prefix,
                CHATS_STORAGE_PATH=files,
                CHATS_RATE_LIMIT_MESSAGES="1000000/minute",
            )
            hostapp.create_tables(app)
            rows = measure(app, args.n, args.warmup)
            with app.app_context():
                hostapp.db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    load = os.getloadavg()[0]
    print(f"n={args.n} each after {args.warmup} warm-ups; load average {load:.1f}\n")
    head = f"{'':44}{'statements':>11}{'p50 ms':>9}{'p99 ms':>9}{'SQL p50':>9}{'SQL p99':>9}"
    print(head)
    for label, (statements, p50, p99, sql50, sql99) in rows:
        print(f"{label:44}{statements:>11}{p50:>9.2f}{p99:>9.2f}{sql50:>9.2f}{sql99:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
