"""The console list's filters and unread counts on a large inbox: p50/p99 and the plans.

    .venv/bin/python -m bench.console_filters                 # 100,000 conversations, 1M messages
    .venv/bin/python -m bench.console_filters -n 20000 --requests 100     # `make bench`
    .venv/bin/python -m bench.console_filters --keep          # keep the database for EXPLAIN

Seeds (``generate_series``, in a scratch PostgreSQL database) ``-n`` conversations on three
widget sources with ``--messages`` messages each (customer and manager turns, as
``bench/api_list.py``), then what makes the filters differ: the manager of one source ("Mia")
has joined one conversation in 20 of her source and read 70 % of it to the end, and marked 1 in
500 unread; the admin has joined 1 in 50 of all and read half of everything. For each, it times
the service calls the console's list runs (``list_for_manager`` with each filter,
``count_unread``, ``unread_counts`` of a 50-row page) and the whole HTTP requests
(``GET /chats/console/api/conversations?filter=...&limit=50`` and ``GET .../unread?ids=...``,
through Flask's test client). Every figure is p50 and p99 of ``--requests`` runs after 10
warm-ups. The plan of each statement is printed (``EXPLAIN``: the scans and the indexes).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from sqlalchemy import event, text

from bench.api_list import SEED, db, make_app
from bench.harness import machine, pct, scratch_database, scratch_redis_prefix
from gincore_chats.identity import Manager
from gincore_chats.models import metadata
from gincore_chats.services.conversations import lifecycle as conversations
from gincore_chats.services.conversations import read_state

#: Who has joined and read what (conversation ids are 1..n, messages numbered in order).
STATE = """
INSERT INTO bench_users (id, name, perms) VALUES
  ('a', 'Ada', 'chats.view,chats.reply,customers.view,chats.admin'),
  ('m', 'Mia', 'chats.view,chats.reply,customers.view');

INSERT INTO chats_source_employees (source_id, manager_id) VALUES (1, 'm');

INSERT INTO chats_participants (conversation_id, manager_id, joined_at)
SELECT c, 'm', now() FROM generate_series(1, :n) AS c WHERE c % 3 = 0 AND c % 20 = 0
UNION ALL
SELECT c, 'a', now() FROM generate_series(1, :n) AS c WHERE c % 50 = 1;

INSERT INTO chats_read_states (conversation_id, manager_id, last_read_message_id, marked_unread,
                               updated_at)
SELECT c, 'm', c * :m, c % 500 = 0, now()
FROM generate_series(1, :n) AS c WHERE c % 3 = 0 AND (c % 10 < 7 OR c % 500 = 0)
UNION ALL
SELECT c, 'a', c * :m, false, now() FROM generate_series(1, :n) AS c WHERE c % 2 = 0;
"""

FILTERS = ("all", "unread", "mine", "unassigned")


class Statements:
    """Every statement run while ``recording``, to ask PostgreSQL for its plan."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.recording = False
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self.record)

    def record(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if self.recording and statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, params))

    def capture(self, call: Callable[[], Any]) -> list[tuple[str, Any]]:
        self.seen, self.recording = [], True
        try:
            call()
        finally:
            self.recording = False
        return self.seen

    def plan(self, statement: str, params: Any) -> tuple[str, float]:
        """The scans of one plan, in plan order ("Index Scan ix_x on chats_y; ..."), and its
        execution time in PostgreSQL in ms (``EXPLAIN ANALYZE``, best of 5: the server's
        share, without the client's scheduling on a busy machine)."""
        best = float("inf")
        with self.engine.connect() as conn:
            for _ in range(5):
                lines = conn.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", params).scalars().all()
                for line in lines:
                    if line.startswith("Execution Time:"):
                        best = min(best, float(line.split()[2]))
        scans = []
        for line in lines:
            found = re.search(
                r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan|"
                r"Bitmap Heap Scan)(?: Backward)?)(?: using (\w+))?(?: on (\w+))?",
                line,
            )
            if found:
                kind, index, table = found.groups()
                if kind.endswith("Bitmap Heap Scan"):
                    continue  # its Bitmap Index Scan names the index
                scans.append(
                    " ".join(x for x in (kind, index, f"on {table}" if table else "") if x)
                )
        return "; ".join(dict.fromkeys(scans)) or lines[0].strip(), best


def timed(call: Callable[[], Any], requests: int) -> tuple[float, float]:
    for _ in range(10):
        call()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return pct(samples, 50), pct(samples, 99)


def measure(app: Any, uid: str, requests: int, statements: Statements) -> list[tuple[str, ...]]:
    state = app.extensions["gincore_chats"]
    perms = {"a": {"chats.admin", "chats.view", "customers.view"}, "m": {"chats.view"}}[uid]
    manager = Manager(uid, uid, None, None, frozenset(perms))
    client = app.test_client()
    client.get(f"/bench-login/{uid}")
    rows: list[tuple[str, ...]] = []

    def service(label: str, call: Callable[[], Any]) -> None:
        def run() -> Any:
            try:
                return call()
            finally:
                db.session.remove()

        p50, p99 = timed(run, requests)
        plans = [statements.plan(s, p) for s, p in statements.capture(run)]
        sql_ms = sum(ms for _plan, ms in plans)
        rows.append(
            (label, f"{p50:.1f}", f"{p99:.1f}", f"{sql_ms:.2f}", " | ".join(p for p, _ in plans))
        )

    def http(label: str, url: str) -> None:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        p50, p99 = timed(get, requests)
        rows.append((label, f"{p50:.1f}", f"{p99:.1f}", "", ""))

    with app.app_context():
        for filter_ in FILTERS:
            service(
                f"list_for_manager({filter_}), 50 rows",
                lambda f=filter_: conversations.list_for_manager(
                    state, manager, filter_=f, limit=50
                ),
            )
        service("count_unread (capped at 100)", lambda: conversations.count_unread(state, manager))
        page = conversations.list_for_manager(state, manager, limit=50)
        ids = [c.id for c in page.items]
        db.session.remove()
        service("unread_counts of a 50-row page", lambda: read_state.unread_counts(state, uid, ids))
    for filter_ in FILTERS:
        http(
            f"GET conversations?filter={filter_}&limit=50",
            f"/chats/console/api/conversations?filter={filter_}&limit=50",
        )
    http(
        "GET unread?ids=<page> (with the total)",
        f"/chats/console/api/unread?ids={','.join(map(str, ids))}",
    )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="conversations (100000)")
    parser.add_argument("--messages", type=int, default=10, help="messages each (10)")
    parser.add_argument("--requests", type=int, default=200, help="timed runs each (200)")
    parser.add_argument("--keep", action="store_true", help="print the URL, wait for Enter")
    parser.add_argument("--database", help="a database --keep left: measure it, seed nothing")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = args.database or stack.enter_context(scratch_database())
        prefix = stack.enter_context(scratch_redis_prefix("chats-bench"))
        app = make_app(url, prefix)
        with app.app_context():
            started = time.perf_counter()
            if not args.database:
                db.create_all()
                metadata.create_all(db.engine)
                with db.engine.begin() as conn:
                    for statement in (SEED.strip() + "\n\n" + STATE.strip()).split(";\n\n"):
                        conn.execute(text(statement), {"n": args.n, "m": args.messages})
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            seeded = time.perf_counter() - started
            statements = Statements(db.engine)
        print(
            f"\n{args.n:,} conversations, {args.n * args.messages:,} messages, seeded in "
            f"{seeded:.1f} s (PostgreSQL); p50/p99 of {args.requests} runs each, in ms"
        )
        print(machine())
        for who, uid in (("admin (3 sources, joined 1 in 50)", "a"), ("manager of 1 source", "m")):
            print(f"\n{who}{'':{50 - len(who)}}{'p50':>7}{'p99':>7}{'SQL':>7}   plan (EXPLAIN)")
            for label, p50, p99, sql_ms, plan in measure(app, uid, args.requests, statements):
                print(f"  {label:48}{p50:>7}{p99:>7}{sql_ms:>7}   {plan}")
        print(f"\n{machine()}")
        if args.keep:
            input(f"database kept for EXPLAIN: {url}\nEnter drops it. ")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
