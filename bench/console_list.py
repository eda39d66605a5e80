"""How fast the console's conversation list is when most conversations are visits.

    .venv/bin/python bench/console_list.py                  # 200,000 conversations
    .venv/bin/python bench/console_list.py -n 1000000 --visits 0.8

The widget opens a conversation when a visitor opens the chat, and most visitors write nothing:
those *visits* stay out of the default list (``first_customer_message_at IS NULL``) until they
are deleted after the retention time. This fills a scratch PostgreSQL database with ``-n``
conversations on three sources, ``--visits`` of them visits (the rest with a customer message),
spread over 30 days, and times ``conversations.list_for_manager`` (what
``GET /console/api/conversations`` runs) for an admin (every source) and a manager of one
source: the first page of the default list, a page 10,000 rows deep (keyset cursor), and the
first page of *Visits*; plus the clean-up's selection of old visits. Each figure is the median
of 15 runs after 3 warm-ups, then the same with the partial indexes of the empty-conversation
revision dropped, so the difference they make is printed next to it; the plan's index (from
``EXPLAIN``) is named for each.

``CHATS_BENCH_DATABASE_URL`` (default ``CHATS_TEST_DATABASE_URL``, else the local ``test``
database) is an admin connection: the script creates a scratch database and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gincore_chats import Chats
from gincore_chats.identity import Manager
from gincore_chats.models import Conversation, metadata, utcnow
from gincore_chats.services.conversations import lifecycle as conversations
from gincore_chats.services.conversations import retention

ADMIN_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
PARTIAL = (
    "ix_chats_conversations_listed_activity",
    "ix_chats_conversations_listed_source_activity",
    "ix_chats_conversations_empty_activity",
)

SEED = """
INSERT INTO chats_sources (id, kind, name, public_key, allowed_domains, settings, active,
                           created_at)
SELECT s, 'widget', 'Shop ' || s, 'key' || s, '[]', '{}', true, now()
FROM generate_series(1, 3) AS s;

INSERT INTO chats_contacts (id, source_id, custom_fields, created_at)
SELECT g, 1 + g % 3, '{}', now() FROM generate_series(1, :n) AS g;

INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at, last_activity_at,
                                 last_seq, visitor_nonce, customer_last_read_message_id,
                                 staff_last_read_message_id, first_customer_message_at)
SELECT g, 1 + g % 3, g, CASE WHEN random() < 0.1 THEN 'closed' ELSE 'open' END, at, at, 1,
       'n', 0, 0, CASE WHEN random() < :visits THEN NULL ELSE at END
FROM (SELECT g, now() - random() * interval '30 days' AS at
      FROM generate_series(1, :n) AS g) AS rows;
"""


def median_ms(run: Callable[[], Any], repeat: int = 15, warmup: int = 3) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class LastQuery:
    """The last SELECT on the conversations table, to ask PostgreSQL for its plan."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statement: str | None = None
        self.params: Any = None
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.startswith("SELECT") and "FROM chats_conversations" in statement:
            self.statement, self.params = statement, params

    def index(self) -> str:
        assert self.statement is not None
        with self.engine.connect() as conn:
            lines = conn.exec_driver_sql(f"EXPLAIN {self.statement}", self.params).scalars().all()
        found = [m.group(1) for line in lines if (m := re.search(r" using (\w+)", line))]
        return ", ".join(dict.fromkeys(found)) or lines[0].split("  ")[0].strip()


def measure(app: Flask, last: LastQuery) -> list[tuple[str, float, str]]:
    state = app.extensions["gincore_chats"]
    admin = Manager("a", "Admin", None, None, frozenset({"chats.admin", "chats.view"}))
    agent = Manager("m", "Mia", None, None, frozenset({"chats.view"}))
    results = []
    for who, manager in (("admin", admin), ("manager of 1 source", agent)):
        deep = None
        page = conversations.list_for_manager(state, manager, limit=200)
        for _ in range(49):  # 50 pages of 200: 10,000 rows deep
            if page.next_cursor is None:
                break
            deep = page.next_cursor
            page = conversations.list_for_manager(state, manager, cursor=deep, limit=200)
        for label, kwargs in (
            ("first page, All", {}),
            ("page 10,000 rows deep, All", {"cursor": deep}),
            ("first page, Visits", {"filter_": "visits"}),
        ):
            ms = median_ms(
                lambda m=manager, kw=kwargs: conversations.list_for_manager(state, m, **kw)
            )
            results.append((f"{who}: {label}", ms, last.index()))
    oldest = (
        select(Conversation.id)
        .where(retention.empty_before(utcnow() - timedelta(days=7)))
        .order_by(Conversation.last_activity_at, Conversation.id)
        .limit(retention.BATCH)
    )
    ms = median_ms(lambda: state.session.execute(oldest).all())
    results.append(("clean-up: next 500 old visits", ms, last.index()))
    state.session.rollback()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200_000, help="conversations (default 200000)")
    parser.add_argument("--visits", type=float, default=0.7, help="share of visits (0.7)")
    args = parser.parse_args(argv)

    admin_engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        app = Flask("bench")
        app.config.update(
            SECRET_KEY="bench", SQLALCHEMY_DATABASE_URI=url, CHATS_REDIS_URL="redis://127.0.0.1"
        )
        db = SQLAlchemy()
        db.init_app(app)
        Chats(app, db=db)
        with app.app_context():
            metadata.create_all(db.engine)
            started = time.perf_counter()
            with db.engine.begin() as conn:
                for statement in SEED.strip().split(";\n\n"):
                    conn.execute(text(statement), {"n": args.n, "visits": args.visits})
                conn.execute(
                    text(
                        "INSERT INTO chats_source_employees (source_id, manager_id) VALUES (1, 'm')"
                    )
                )
                conn.execute(text("ANALYZE"))
            last = LastQuery(db.engine)
            print(
                f"{args.n:,} conversations, {args.visits:.0%} visits, seeded in "
                f"{time.perf_counter() - started:.1f} s (PostgreSQL, scratch database {name})\n"
            )
            with_indexes = measure(app, last)
            with db.engine.begin() as conn:
                for index in PARTIAL:
                    conn.execute(text(f"DROP INDEX {index}"))
                conn.execute(text("ANALYZE"))
            without = measure(app, last)
            db.session.remove()
            db.engine.dispose()
        print(f"{'':48}{'with':>8}{'without':>9}   median ms; the plan's index (with / without)")
        for (label, ms, plan), (_, ms_without, plan_without) in zip(
            with_indexes, without, strict=True
        ):
            print(f"{label:48}{ms:>8.1f}{ms_without:>9.1f}   {plan} / {plan_without}")
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
