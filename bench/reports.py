"""How fast each report query is over 100,000 conversations.

    .venv/bin/python bench/reports.py                 # 100,000 conversations over 90 days
    .venv/bin/python bench/reports.py -n 500000 --days 365

Fills a scratch PostgreSQL database (generate_series) with ``-n`` conversations on three
sources over ``--days`` days: 90% with a customer message, most answered by one of three
managers (first response 10 s .. 30 min), 80% closed (resolution up to 4 hours), a rating on
40% of the closed ones; then times every report table (``services.reports.figures``, what
``GET /console/api/reports`` runs) for the last 30 days and for the whole range, for an admin
(everyone) and for one manager (their own conversations). Each figure is the median of 7 runs
after 2 warm-ups.

``CHATS_BENCH_DATABASE_URL`` (default ``CHATS_TEST_DATABASE_URL``, else the local ``test``
database) is an admin connection: the script creates a scratch database and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gincore_chats import Chats
from gincore_chats.models import metadata
from gincore_chats.services.reports import figures

ADMIN_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

SEED = """
INSERT INTO chats_sources (id, kind, name, public_key, allowed_domains, settings, active,
                           created_at)
SELECT s, 'widget', 'Shop ' || s, 'key' || s, '[]', '{}', true, now()
FROM generate_series(1, 3) AS s;

INSERT INTO chats_managers (manager_id, display_name, presence, last_seen_at,
                            email_notifications)
SELECT 'm' || m, 'Manager ' || m, 'online', now(), true FROM generate_series(1, 3) AS m;

INSERT INTO chats_contacts (id, source_id, custom_fields, created_at)
SELECT g, 1 + g % 3, '{}', now() FROM generate_series(1, :n) AS g;

CREATE TEMP TABLE seed AS
SELECT g, at,
       CASE WHEN random() < 0.9 THEN at END AS wrote,
       random() < 0.85 AS answered,
       random() < 0.8 AS closed,
       10 + random() * 1800 AS frt,
       60 + random() * 14400 AS res
FROM (SELECT g, now() - random() * (:days * interval '1 day') AS at
      FROM generate_series(1, :n) AS g) AS rows;

INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at, last_activity_at,
                                 last_seq, visitor_nonce, customer_last_read_message_id,
                                 staff_last_read_message_id, first_customer_message_at,
                                 first_response_at, closed_at, closed_by)
SELECT g, 1 + g % 3, g, CASE WHEN closed THEN 'closed' ELSE 'open' END, at, at, 1, 'n', 0, 0,
       wrote,
       CASE WHEN wrote IS NOT NULL AND answered THEN at + frt * interval '1 second' END,
       CASE WHEN closed THEN at + res * interval '1 second' END,
       CASE WHEN closed THEN 'm' || (1 + g % 3) END
FROM seed;

INSERT INTO chats_participants (conversation_id, manager_id, joined_at)
SELECT g, 'm' || (1 + (g / 3) % 3), at FROM seed WHERE answered AND wrote IS NOT NULL;

INSERT INTO chats_ratings (conversation_id, score, channel, requested_at, rated_at)
SELECT g, 1 + floor(random() * 5)::int, 'widget', at, at + res * interval '1 second'
FROM seed WHERE closed AND wrote IS NOT NULL AND random() < 0.4;
"""


def median_ms(run: Callable[[], Any], repeat: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(app: Flask, days: int) -> list[tuple[str, float]]:
    state = app.extensions["gincore_chats"]
    today = datetime.now(UTC).date()
    results = []
    for span in (30, days):
        period = figures.Period(today - timedelta(days=span - 1), today)
        for who, scope in (("admin", figures.Scope()), ("manager m1", figures.Scope("m1"))):
            for name, build in figures.TABLES.items():
                ms = median_ms(lambda b=build, s=scope, p=period: b(state, p, s))
                results.append((f"{span} days, {who}: {name}", ms))
            ms = median_ms(lambda s=scope, p=period: figures.report(state, p, s))
            results.append((f"{span} days, {who}: whole report (all tables + summary)", ms))
    state.session.rollback()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="conversations (default 100000)")
    parser.add_argument("--days", type=int, default=90, help="spread over days (default 90)")
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
                    conn.execute(text(statement), {"n": args.n, "days": args.days})
                conn.execute(text("ANALYZE"))
            print(
                f"{args.n:,} conversations over {args.days} days, seeded in "
                f"{time.perf_counter() - started:.1f} s (PostgreSQL, scratch database {name})\n"
            )
            results = measure(app, args.days)
            db.session.remove()
            db.engine.dispose()
        print(f"{'':64}{'median ms':>10}")
        for label, ms in results:
            print(f"{label:64}{ms:>10.1f}")
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
