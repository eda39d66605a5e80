"""The REST API's conversation list beside the console's, on a large inbox, in one run.

    .venv/bin/python bench/api_list.py                       # 100,000 conversations, 1M messages
    .venv/bin/python bench/api_list.py -n 20000 --messages 10 --requests 100

Fills a scratch PostgreSQL database (``generate_series``) with ``-n`` conversations on three
widget sources, ``--messages`` messages each (customer and manager turns), a contact each, and
times whole HTTP requests through the app (Flask's test client: routing, login or token check,
rate limit, the query, serialisation, response validation; no network) for an admin (every
source) and a manager of one source:

* ``GET /chats/console/api/conversations?limit=50`` (session login), and
* ``GET /chats/api/v1/conversations?limit=50`` (bearer token, Pro plan),

each for the first page and a page 10,000 rows deep (keyset cursor; less when ``-n`` is
small). Prints p50 and p99 in milliseconds of ``--requests`` requests after 10 warm-ups.

``CHATS_BENCH_DATABASE_URL`` (default ``CHATS_TEST_DATABASE_URL``, else the local ``test``
database) is an admin connection; ``CHATS_BENCH_REDIS_URL`` (default the local Redis) holds the
rate-limit counters under a scratch prefix. Both are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import redis
from flask import Flask, abort
from flask_login import LoginManager, UserMixin, login_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gincore_chats import Chats
from gincore_chats.identity import describe
from gincore_chats.models import metadata
from gincore_chats.services.api import tokens as api_tokens
from gincore_chats.services.unit_of_work import unit_of_work

ADMIN_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get("CHATS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

SEED = """
INSERT INTO chats_sources (id, kind, name, public_key, allowed_domains, settings, active,
                           created_at)
SELECT s, 'widget', 'Shop ' || s, 'key' || s, '[]', '{}', true, now()
FROM generate_series(1, 3) AS s;

INSERT INTO chats_contacts (id, source_id, name, email, custom_fields, created_at)
SELECT g, 1 + g % 3, 'Customer ' || g, 'c' || g || '@example.com', '{}', now()
FROM generate_series(1, :n) AS g;

INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at, last_activity_at,
                                 last_message_preview, last_seq, visitor_nonce,
                                 customer_last_read_message_id, staff_last_read_message_id,
                                 first_customer_message_at)
SELECT g, 1 + g % 3, g, CASE WHEN random() < 0.1 THEN 'closed' ELSE 'open' END, at, at,
       'Where is my order?', :m, 'n', 0, 0, at
FROM (SELECT g, now() - random() * interval '30 days' AS at
      FROM generate_series(1, :n) AS g) AS rows;

INSERT INTO chats_messages (conversation_id, source_id, kind, author_name, body, created_at)
SELECT c, 1 + c % 3, CASE WHEN k % 2 = 0 THEN 'customer' ELSE 'manager' END,
       CASE WHEN k % 2 = 0 THEN 'Customer ' || c ELSE 'Mia' END,
       'Message ' || k || ' of conversation ' || c, now() - (k || ' minutes')::interval
FROM generate_series(1, :n) AS c, generate_series(0, :m - 1) AS k;
"""


class HostBase(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=HostBase)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bench_users"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    perms: Mapped[str] = mapped_column(String(200))


def make_app(url: str, prefix: str) -> Flask:
    app = Flask("bench")
    app.config.update(
        SECRET_KEY="bench",
        SQLALCHEMY_DATABASE_URI=url,
        CHATS_REDIS_URL=REDIS_URL,
        CHATS_REDIS_PREFIX=prefix,
        CHATS_PLAN="pro",
        CHATS_API_RATE_LIMIT="1000000/minute",
    )
    db.init_app(app)
    login = LoginManager(app)
    login.user_loader(lambda uid: db.session.get(User, uid))
    chats = Chats()
    chats.permissions_loader(lambda user: set(user.perms.split(",")))
    chats.init_app(app, db=db)

    @app.get("/bench-login/<uid>")
    def bench_login(uid: str) -> Any:
        user = db.session.get(User, uid)
        if user is None:
            abort(404)
        login_user(user)
        return "ok"

    return app


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def timed(get: Any, url: str, requests: int) -> tuple[float, float]:
    for _ in range(10):
        assert get(url).status_code == 200
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return percentiles(samples)


def deep_cursor(get: Any, url: str, key: str, cursor_key: str, rows: int = 10_000) -> str:
    """The cursor of the page ``rows`` deep (200 a page)."""
    cursor = None
    for _ in range(rows // 200):
        page = get(f"{url}?limit=200" + (f"&cursor={cursor}" if cursor else "")).get_json()
        cursor = page[cursor_key]
        assert cursor, "fewer rows than the deep page needs"
    return str(cursor)


def measure(app: Flask, uid: str, requests: int, depth: int) -> list[tuple[str, float, float]]:
    results = []
    console = app.test_client()
    console.get(f"/bench-login/{uid}")
    with app.app_context():
        state = app.extensions["gincore_chats"]
        owner = describe(db.session.get(User, uid), state.hooks)
        with unit_of_work(state.session):
            _t, token = api_tokens.do_create(
                state,
                owner=owner,
                name="bench",
                scopes=owner.permissions,
                expires_at=None,
                created_by=uid,
            )
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def api_get(url: str) -> Any:
        return api.get(url, headers=headers)

    console_url = "/chats/console/api/conversations"
    api_url = "/chats/api/v1/conversations"
    console_deep = deep_cursor(console.get, console_url, "conversations", "next_cursor", depth)
    api_deep = deep_cursor(api_get, api_url, "items", "next_cursor", depth)
    for label, get, url in (
        ("console, first page", console.get, f"{console_url}?limit=50"),
        ("API,     first page", api_get, f"{api_url}?limit=50"),
        (
            f"console, {depth:,} rows deep",
            console.get,
            f"{console_url}?limit=50&cursor={console_deep}",
        ),
        (f"API,     {depth:,} rows deep", api_get, f"{api_url}?limit=50&cursor={api_deep}"),
    ):
        p50, p99 = timed(get, url, requests)
        results.append((label, p50, p99))
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="conversations (100000)")
    parser.add_argument("--messages", type=int, default=10, help="messages each (10)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests each (200)")
    args = parser.parse_args(argv)

    admin_engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{os.getpid()}_{secrets.token_hex(3)}"
    prefix = f"chats-bench-{secrets.token_hex(4)}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        app = make_app(url, prefix)
        with app.app_context():
            db.create_all()
            metadata.create_all(db.engine)
            started = time.perf_counter()
            with db.engine.begin() as conn:
                for statement in SEED.strip().split(";\n\n"):
                    conn.execute(text(statement), {"n": args.n, "m": args.messages})
                conn.execute(
                    text(
                        "INSERT INTO bench_users (id, name, perms) VALUES "
                        "('a', 'Ada', 'chats.view,chats.reply,customers.view,chats.admin'), "
                        "('m', 'Mia', 'chats.view,chats.reply,customers.view')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO chats_source_employees (source_id, manager_id) VALUES (1, 'm')"
                    )
                )
                conn.execute(text("ANALYZE"))
            print(
                f"{args.n:,} conversations, {args.n * args.messages:,} messages, seeded in "
                f"{time.perf_counter() - started:.1f} s (PostgreSQL, scratch database {name})\n"
            )
        print(f"{'':44}{'p50 ms':>9}{'p99 ms':>9}   {args.requests} requests each, 50 a page")
        # 10,000 rows deep, or as deep as the manager's one source (a third) allows.
        depth = max(200, min(10_000, args.n // 3 // 2 // 200 * 200))
        for who, uid in (("admin (3 sources)", "a"), ("manager of 1 source", "m")):
            for label, p50, p99 in measure(app, uid, args.requests, depth):
                print(f"{who + ': ' + label:44}{p50:>9.1f}{p99:>9.1f}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
