"""Chat hop latency across two gevent processes, against the raw relay floor.

A visitor's message is POSTed over HTTP to process A; the time until the manager's WebSocket on
process B receives its ``message.created`` event is one hop (HTTP -> Flask -> PostgreSQL commit ->
Redis PUBLISH -> B's hub -> WebSocket). The same run measures two floors with a bare relay
(``bench/relay_app.py``, no database) on two more gevent processes: WebSocket -> Redis -> WebSocket,
and HTTP POST -> Redis -> WebSocket. Sends are sequential: one message in flight at a time.

    /work/venv/bin/python bench/hop_latency.py [-n 500] [--warmup 50]

Needs PostgreSQL (``CHATS_BENCH_DATABASE_URL``, an admin URL to an existing database; a scratch
database is created and dropped) and Redis (``CHATS_BENCH_REDIS_URL``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from websockets.sync.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.server_process import ServerProcess  # noqa: E402

ADMIN_DB_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get(
    "CHATS_BENCH_REDIS_URL", os.environ.get("CHATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)
SHOP = "https://shop.example.com"


# -- setup ----------------------------------------------------------------------------------------


@contextmanager
def scratch_database() -> Iterator[str]:
    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(database_url: str, prefix: str) -> tuple[str, str]:
    """Tables, one manager and one widget source; returns (manager id, widget key)."""
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work
    from tests import hostapp

    app = hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url, CHATS_REDIS_URL=REDIS_URL, CHATS_REDIS_PREFIX=prefix
    )
    hostapp.create_tables(app)
    with app.app_context():
        staff = hostapp.Staff(
            full_name="Bench Manager", mail="bench@example.com", perms="chats.view,chats.reply"
        )
        hostapp.db.session.add(staff)
        hostapp.db.session.commit()
        manager_id = str(staff.id)
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, "Bench shop", ["shop.example.com"])
            sources.do_set_employees(state, source, [manager_id])
        key = source.public_key
        hostapp.db.session.remove()
        hostapp.db.engine.dispose()
    return manager_id, key


def wait_subscribers(client: redis.Redis, channel: str, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} subscribers on {channel}")
        time.sleep(0.01)


# -- measuring ------------------------------------------------------------------------------------


class Arrivals:
    """A reader thread that stamps each frame the moment it arrives, keyed by ``key_of``."""

    def __init__(self, ws: ClientConnection, key_of: Callable[[dict[str, Any]], str | None]):
        self.ws = ws
        self.key_of = key_of
        self.times: dict[str, float] = {}
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for raw in self.ws:
                now = time.perf_counter()
                key = self.key_of(json.loads(raw))
                if key is not None:
                    with self.cond:
                        self.times[key] = now
                        self.cond.notify_all()
        except Exception:
            pass

    def wait(self, key: str, timeout: float = 10.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: key in self.times, timeout):
                raise RuntimeError(f"no frame for {key} within {timeout}s")
            return self.times.pop(key)


def run(
    send: Callable[[str], None], arrivals: Arrivals, n: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Sequential sends; returns (hop times, send call times) in seconds, warm-up dropped."""
    hops: list[float] = []
    calls: list[float] = []
    for i in range(warmup + n):
        key = uuid.uuid4().hex
        t0 = time.perf_counter()
        send(key)
        t1 = time.perf_counter()
        arrived = arrivals.wait(key)
        if i >= warmup:
            hops.append(arrived - t0)
            calls.append(t1 - t0)
    return hops, calls


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50": pct(ms, 50),
        "p90": pct(ms, 90),
        "p99": pct(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


# -- the two setups -------------------------------------------------------------------------------


def measure_chat(
    stack: ExitStack, database_url: str, prefix: str, n: int, warmup: int
) -> tuple[list[float], list[float]]:
    manager_id, key = seed(database_url, prefix)
    common = {"database_url": database_url, "redis_url": REDIS_URL, "redis_prefix": prefix}
    # One visitor sends hundreds of messages a minute: lift the widget's per-IP limit.
    env = {"CHATS_RATE_LIMIT_MESSAGES": "1000000/minute"}
    a = ServerProcess("gevent", extra_env=env, **common)
    stack.callback(a.stop)
    b = ServerProcess("gevent", extra_env=env, **common)
    stack.callback(b.stop)
    a.wait_ready()
    b.wait_ready()

    visitor = requests.Session()
    visitor.headers.update({"Origin": SHOP})
    r = visitor.post(f"{a.url}/chats/widget/api/conversations", json={"key": key, "context": {}})
    r.raise_for_status()
    conv_id, token = r.json()["conversation_id"], r.json()["token"]
    visitor.headers["Authorization"] = f"Bearer {token}"

    manager = requests.Session()
    assert manager.get(f"{b.url}/test-login/{manager_id}", allow_redirects=False).status_code == 302
    cookie = "; ".join(f"{k}={v}" for k, v in manager.cookies.items())

    vws = stack.enter_context(
        connect(a.ws_url("/chats/widget/ws"), additional_headers={"Origin": SHOP})
    )
    vws.send(json.dumps({"op": "auth", "token": token}))
    vws.send(json.dumps({"op": "sync", "after": 0}))
    mws = stack.enter_context(
        connect(
            b.ws_url("/chats/console/ws"), additional_headers={"Origin": b.url, "Cookie": cookie}
        )
    )
    mws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))
    # The visitor socket only keeps A's hub subscribed; its frames are not needed.
    threading.Thread(target=lambda: [None for _ in vws], daemon=True).start()

    def key_of(frame: dict[str, Any]) -> str | None:
        if frame.get("type") == "event" and frame.get("event") == "message.created":
            return str(frame["data"]["message"].get("client_id") or "")
        return None

    arrivals = Arrivals(mws, key_of)
    wait_subscribers(redis.Redis.from_url(REDIS_URL), f"{prefix}:events", 2)
    url = f"{a.url}/chats/widget/api/messages"

    def send(client_id: str) -> None:
        body = {"body": f"Where is my order? ({client_id[:6]})", "client_id": client_id}
        visitor.post(url, json=body).raise_for_status()

    return run(send, arrivals, n, warmup)


def measure_relay(
    stack: ExitStack, prefix: str, n: int, warmup: int
) -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    channel = f"{prefix}:relay"
    env = {"RELAY_REDIS_URL": REDIS_URL, "RELAY_CHANNEL": channel}
    common = {"database_url": "", "redis_url": REDIS_URL, "redis_prefix": prefix}
    a = ServerProcess("gevent", app="bench.relay_app:app", extra_env=env, **common)
    stack.callback(a.stop)
    b = ServerProcess("gevent", app="bench.relay_app:app", extra_env=env, **common)
    stack.callback(b.stop)
    a.wait_ready()
    b.wait_ready()
    sender = stack.enter_context(connect(a.ws_url("/ws")))
    receiver = stack.enter_context(connect(b.ws_url("/ws?listen=1")))
    arrivals = Arrivals(receiver, lambda f: str(f.get("client_id")))
    wait_subscribers(redis.Redis.from_url(REDIS_URL), channel, 2)

    def frame(key: str) -> str:
        return json.dumps({"client_id": key, "body": f"Where is my order? ({key[:6]})"})

    ws_floor = run(lambda key: sender.send(frame(key)), arrivals, n, warmup)
    http = requests.Session()
    url = f"{a.url}/publish"

    def post(key: str) -> None:
        http.post(url, data=frame(key)).raise_for_status()

    http_floor = run(post, arrivals, n, warmup)
    return ws_floor, http_floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="measured messages (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured first messages")
    args = parser.parse_args()
    prefix = f"gcbench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database())
        r = redis.Redis.from_url(REDIS_URL)
        stack.callback(lambda: [r.delete(k) for k in r.scan_iter(f"{prefix}:*")])
        ws_floor, http_floor = measure_relay(stack, prefix, args.n, args.warmup)
        chat, chat_calls = measure_chat(stack, database_url, prefix, args.n, args.warmup)
    ws_row = summary(ws_floor[0])
    http_row = summary(http_floor[0])
    chat_row = summary(chat)
    rows = {
        "floor: WS -> Redis -> WS (bare relay)": ws_row,
        "floor: HTTP POST -> Redis -> WS (bare relay)": http_row,
        "chat: widget POST -> PostgreSQL -> Redis -> console WS": chat_row,
        "  (chat: the POST call alone, until its answer)": summary(chat_calls),
    }
    columns = ("p50", "p90", "p99", "max", "mean")
    print(
        f"\nHop latency, two gunicorn gevent processes per setup; n={args.n}, warm-up {args.warmup}"
    )
    print(f"{'':56}" + "".join(f"{c:>9}" for c in columns) + "  (ms)")
    for name, row in rows.items():
        print(f"{name:56}" + "".join(f"{row[c]:9.3f}" for c in columns))
    for label, floor in (("WS floor", ws_row), ("HTTP POST floor", http_row)):
        ratios = "  ".join(f"{c} x{chat_row[c] / floor[c]:.1f}" for c in ("p50", "p90", "p99"))
        print(f"chat / {label + ':':17} {ratios}")


if __name__ == "__main__":
    main()
