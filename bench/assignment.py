"""How evenly round-robin auto-assignment spreads conversations, and what it costs.

    .venv/bin/python bench/assignment.py                    # 3 managers, 300 conversations
    .venv/bin/python bench/assignment.py -m 5 -n 2000 --threads 8 --capacity 100

A scratch PostgreSQL database and the test host (tests/hostapp.py) with the library mounted:
``-m`` managers assigned to one widget source with round-robin on, each marked online as the
widget sees it (a console heartbeat in Redis and the status "online"). Then ``-n`` conversations
get their first customer message through the same services the widget's HTTP views call
(``do_open_conversation``, ``do_send_customer_message``), from ``--threads`` threads at once,
each in its own unit of work, so the row locks are what keeps capacity. Printed: conversations
per manager and the spread (max - min), how many waited in the pool, the largest open load
seen against the capacity, and the time per first message (median, p90) with assignment in it.

``CHATS_BENCH_DATABASE_URL`` (default ``CHATS_TEST_DATABASE_URL``, else the local ``test``
database) is an admin connection; ``CHATS_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``)
is used under a random prefix. Both are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gincore_chats.models import Source
from gincore_chats.services import sources
from gincore_chats.services.assignment import router
from gincore_chats.services.assignment import settings as assignment_settings
from gincore_chats.services.contacts import customers
from gincore_chats.services.conversations import lifecycle, messages
from gincore_chats.services.managers import presence
from gincore_chats.services.managers.profiles import do_sync_profile
from gincore_chats.services.unit_of_work import unit_of_work
from tests import hostapp

ADMIN_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get("CHATS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-m", "--managers", type=int, default=3)
    parser.add_argument("-n", "--conversations", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=500)
    args = parser.parse_args()

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    prefix = f"gcbench-{uuid.uuid4().hex[:8]}"
    try:
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        app = hostapp.create_app(
            SQLALCHEMY_DATABASE_URI=url,
            CHATS_REDIS_URL=REDIS_URL,
            CHATS_REDIS_PREFIX=prefix,
        )
        hostapp.create_tables(app)
        run(app, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def run(app, args) -> None:
    from gincore_chats.identity import describe

    state = app.extensions["gincore_chats"]
    with app.app_context():
        perms = "chats.view,chats.reply"
        staff = [
            hostapp.Staff(full_name=f"Manager {i}", mail=f"m{i}@example.com", perms=perms)
            for i in range(args.managers)
        ]
        hostapp.db.session.add_all(staff)
        hostapp.db.session.commit()
        ids = [str(s.id) for s in staff]
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, "Bench", ["bench.example"])
            sources.do_set_employees(state, source, ids)
            assignment_settings.do_set(source, {"mode": "round_robin", "capacity": args.capacity})
            for user in staff:
                do_sync_profile(state, describe(user, state.hooks))
        source_id = source.id

    stop = threading.Event()

    def heartbeat() -> None:
        # As a console tab does: without it the managers go stale (offline) after 90 s.
        while not stop.is_set():
            for mid in ids:
                presence.socket_alive(state, mid, "bench")
            stop.wait(presence.HEARTBEAT)

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    time.sleep(0.2)

    def first_message(i: int) -> float:
        with app.app_context():
            started = time.perf_counter()
            with unit_of_work(state.session):
                src = state.session.get(Source, source_id)
                contact = customers.do_create_visitor_contact(state, src)
                conv = lifecycle.do_open_conversation(state, src, contact, "en")
                messages.do_send_customer_message(state, conv, f"question {i}", str(uuid.uuid4()))
            return time.perf_counter() - started

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        times = sorted(pool.map(first_message, range(args.conversations)))
    wall = time.perf_counter() - began
    stop.set()

    with app.app_context():
        loads = router.open_loads(state, set(ids))
        waiting = state.session.execute(
            text(
                "SELECT count(*) FROM chats_conversations c WHERE NOT EXISTS (SELECT 1 FROM "
                "chats_participants p WHERE p.conversation_id = c.id AND p.left_at IS NULL)"
            )
        ).scalar_one()
        state.session.remove()
    print(f"{args.managers} managers, {args.conversations} conversations, "
          f"{args.threads} threads, capacity {args.capacity}")  # fmt: skip
    for mid in ids:
        print(f"  manager {mid[:8]}: {loads[mid]:5d}")
    values = list(loads.values())
    even = args.conversations / args.managers
    print(f"spread (max - min): {max(values) - min(values)}  (even share {even:.1f})")
    print(f"waiting in the pool: {waiting}")
    print(f"largest load / capacity: {max(values)} / {args.capacity}")
    p90 = times[int(len(times) * 0.9) - 1]
    print(f"first message with assignment: median {statistics.median(times) * 1000:.1f} ms, "
          f"p90 {p90 * 1000:.1f} ms; {args.conversations / wall:.0f} conversations/s")  # fmt: skip


if __name__ == "__main__":
    main()
