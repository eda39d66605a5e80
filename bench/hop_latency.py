"""Chat hop latency across two gevent processes, against the raw relay floor, in one run.

    .venv/bin/python -m bench.hop_latency                 # 5 rounds x 200 per setup, 100 warm-up
    .venv/bin/python -m bench.hop_latency -n 2000 --rounds 10
    .venv/bin/python -m bench.hop_latency --quick         # what `make bench` runs

Four gunicorn gevent processes (``-w 1``): the chat host A and B (``tests/wsgi_host.py``,
sharing a scratch PostgreSQL database and Redis) and the bare relay A and B
(``bench/relay_app.py``, no database). Setups, each message sent after the previous arrived:

* floor, WS -> Redis -> WS: a frame on relay A's socket, PUBLISHed, forwarded by B's listener;
* floor, HTTP POST -> Redis -> WS: the same with a keep-alive POST to relay A;
* floor, Redis PUBLISH -> WS: this process PUBLISHes, relay B forwards (delivery only);
* chat, visitor -> manager: ``POST /chats/widget/api/messages`` on A until the manager's
  console socket on B has the ``message.created`` event (matched by ``client_id``);
* chat, manager -> visitor: ``POST /chats/console/api/conversations/<id>/messages`` on B until
  the visitor's widget socket on A has it;
* chat, hub delivery: this process PUBLISHes an event in the hub's envelope on the chat's
  channel and B's hub delivers it to the console socket (the delivery side alone).

The setups run interleaved in ``--rounds`` rounds, so a change in the machine's load during
the run reaches floor and chat alike; the load average is printed before and after.
``CHATS_BENCH_DATABASE_URL`` / ``CHATS_BENCH_REDIS_URL``: see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import redis
import requests
from websockets.sync.client import ClientConnection, connect

from bench.harness import REDIS_URL, load, machine, scratch_database, summary_ms, table
from tests.server_process import ServerProcess

SHOP = "https://shop.example.com"
Send = Callable[[str], None]


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


class Setup:
    """One way of sending a message and the socket where it must arrive."""

    def __init__(self, name: str, send: Send, arrivals: Arrivals) -> None:
        self.name = name
        self.send = send
        self.arrivals = arrivals
        self.hops: list[float] = []
        self.calls: list[float] = []

    def run(self, n: int, keep: bool = True) -> None:
        for _ in range(n):
            key = uuid.uuid4().hex
            t0 = time.perf_counter()
            self.send(key)
            t1 = time.perf_counter()
            arrived = self.arrivals.wait(key)
            if keep:
                self.hops.append(arrived - t0)
                self.calls.append(t1 - t0)


def event_key(frame: dict[str, Any]) -> str | None:
    if frame.get("type") == "event" and frame.get("event") == "message.created":
        return str(frame["data"]["message"].get("client_id") or "")
    return None


def relay_setups(stack: ExitStack, prefix: str) -> list[Setup]:
    channel = f"{prefix}:relay"
    env = {"RELAY_REDIS_URL": REDIS_URL, "RELAY_CHANNEL": channel}
    common = {"database_url": "", "redis_url": REDIS_URL, "redis_prefix": prefix}
    a = ServerProcess("gevent", app="bench.relay_app:app", extra_env=env, **common)
    stack.callback(a.stop)
    b = ServerProcess("gevent", app="bench.relay_app:app", extra_env=env, **common)
    stack.callback(b.stop)
    a.wait_ready(timeout=180)
    b.wait_ready(timeout=180)
    sender = stack.enter_context(connect(a.ws_url("/ws"), compression=None))
    receiver = stack.enter_context(connect(b.ws_url("/ws?listen=1"), compression=None))
    arrivals = Arrivals(receiver, lambda f: str(f.get("client_id")))
    publisher = redis.Redis.from_url(REDIS_URL)
    wait_subscribers(publisher, channel, 2)

    def frame(key: str) -> str:
        return json.dumps({"client_id": key, "body": f"Where is my order? ({key[:6]})"})

    http = requests.Session()
    url = f"{a.url}/publish"

    def post(key: str) -> None:
        http.post(url, data=frame(key)).raise_for_status()

    return [
        Setup("floor: WS -> Redis -> WS (bare relay)", lambda k: sender.send(frame(k)), arrivals),
        Setup("floor: HTTP POST -> Redis -> WS (bare relay)", post, arrivals),
        Setup(
            "floor: Redis PUBLISH -> WS (bare relay)",
            lambda k: publisher.publish(channel, frame(k)) and None,
            arrivals,
        ),
    ]


def chat_setups(stack: ExitStack, database_url: str, prefix: str) -> list[Setup]:
    manager_id, key = seed(database_url, prefix)
    common = {"database_url": database_url, "redis_url": REDIS_URL, "redis_prefix": prefix}
    # One visitor sends hundreds of messages a minute: lift the widget's per-IP limit.
    env = {"CHATS_RATE_LIMIT_MESSAGES": "1000000/minute"}
    a = ServerProcess("gevent", extra_env=env, **common)
    stack.callback(a.stop)
    b = ServerProcess("gevent", extra_env=env, **common)
    stack.callback(b.stop)
    a.wait_ready(timeout=180)
    b.wait_ready(timeout=180)

    visitor = requests.Session()
    visitor.headers.update({"Origin": SHOP})
    r = visitor.post(f"{a.url}/chats/widget/api/conversations", json={"key": key, "context": {}})
    r.raise_for_status()
    conv_id, token = r.json()["conversation_id"], r.json()["token"]
    visitor.headers["Authorization"] = f"Bearer {token}"

    manager = requests.Session()
    assert manager.get(f"{b.url}/test-login/{manager_id}", allow_redirects=False).status_code == 302
    csrf = manager.get(f"{b.url}/chats/console/api/me").json()["csrf_token"]
    manager.headers.update({"X-CSRF-Token": csrf, "Origin": b.url})
    cookie = "; ".join(f"{k}={v}" for k, v in manager.cookies.items())
    manager.post(f"{b.url}/chats/console/api/conversations/{conv_id}/join").raise_for_status()

    # Compression off on both client sockets, as for the relay: the floors and the chat pay
    # the same per-frame costs (browsers do offer permessage-deflate; see idle_sockets.py).
    vws = stack.enter_context(
        connect(a.ws_url("/chats/widget/ws"), additional_headers={"Origin": SHOP}, compression=None)
    )
    vws.send(json.dumps({"op": "auth", "token": token}))
    vws.send(json.dumps({"op": "sync", "after": 0}))
    mws = stack.enter_context(
        connect(
            b.ws_url("/chats/console/ws"),
            additional_headers={"Origin": b.url, "Cookie": cookie},
            compression=None,
        )
    )
    mws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))
    to_manager = Arrivals(mws, event_key)
    to_visitor = Arrivals(vws, event_key)
    publisher = redis.Redis.from_url(REDIS_URL)
    channel = f"{prefix}:events"
    wait_subscribers(publisher, channel, 2)
    widget_url = f"{a.url}/chats/widget/api/messages"
    console_url = f"{b.url}/chats/console/api/conversations/{conv_id}/messages"

    def visitor_says(client_id: str) -> None:
        body = {"body": f"Where is my order? ({client_id[:6]})", "client_id": client_id}
        visitor.post(widget_url, json=body).raise_for_status()

    def manager_says(client_id: str) -> None:
        body = {"body": f"On its way ({client_id[:6]})", "client_id": client_id}
        manager.post(console_url, json=body).raise_for_status()

    def hub_event(client_id: str) -> None:
        # The envelope services.conversations.events publishes (route, visibility, data).
        envelope = {
            "route": "conversation",
            "conversation_id": conv_id,
            "visibility": "public",
            "data": {
                "type": "event",
                "conversation_id": conv_id,
                "event": "message.created",
                "data": {"message": {"client_id": client_id, "body": "Where is my order?"}},
            },
        }
        publisher.publish(channel, json.dumps(envelope))

    return [
        Setup("chat: visitor POST -> PostgreSQL -> Redis -> console WS", visitor_says, to_manager),
        Setup("chat: manager POST -> PostgreSQL -> Redis -> widget WS", manager_says, to_visitor),
        Setup("chat: Redis PUBLISH -> hub -> console WS (delivery)", hub_event, to_manager),
    ]


def ratio_line(label: str, row: dict[str, float], floor: dict[str, float]) -> str:
    ratios = "  ".join(f"{c} x{row[c] / floor[c]:.1f}" for c in ("p50", "p90", "p99"))
    return f"{label:44} {ratios}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="measured messages per setup (1000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured first messages (100)")
    parser.add_argument("--quick", action="store_true", help="-n 300 --rounds 3 --warmup 50")
    args = parser.parse_args()
    if args.quick:
        args.n, args.rounds, args.warmup = 300, 3, 50
    prefix = f"gcbench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database())
        r = redis.Redis.from_url(REDIS_URL)
        stack.callback(lambda: [r.delete(k) for k in r.scan_iter(f"{prefix}:*")])
        setups = relay_setups(stack, prefix) + chat_setups(stack, database_url, prefix)
        for setup in setups:
            setup.run(args.warmup, keep=False)
        load_before = load()
        per_round = max(1, args.n // args.rounds)
        for _ in range(args.rounds):
            for setup in setups:
                setup.run(per_round)
        load_after = load()
    rows = {s.name: summary_ms(s.hops) for s in setups}
    names = [s.name for s in setups]
    shown = [(name, rows[name]) for name in names]
    shown.insert(4, ("  (visitor POST alone, until its answer)", summary_ms(setups[3].calls)))
    shown.insert(6, ("  (manager POST alone, until its answer)", summary_ms(setups[4].calls)))
    n = per_round * args.rounds
    print(
        f"\nHop latency, two gunicorn gevent processes per setup; n={n} per setup in "
        f"{args.rounds} interleaved rounds, warm-up {args.warmup}"
    )
    print(machine())
    print(f"load average during the run: {load_before} -> {load_after}")
    print(table(shown, ("p50", "p90", "p99", "max", "mean"), "ms"))
    ws_floor, http_floor, redis_floor = (rows[name] for name in names[:3])
    v2m, m2v, hub = (rows[name] for name in names[3:])
    print()
    print(ratio_line("visitor -> manager / WS floor (goal 4x, 6x):", v2m, ws_floor))
    print(ratio_line("manager -> visitor / WS floor (goal 4x, 6x):", m2v, ws_floor))
    print(ratio_line("visitor -> manager / HTTP POST floor:", v2m, http_floor))
    print(ratio_line("manager -> visitor / HTTP POST floor:", m2v, http_floor))
    print(ratio_line("hub delivery / Redis PUBLISH floor:", hub, redis_floor))


if __name__ == "__main__":
    main()
