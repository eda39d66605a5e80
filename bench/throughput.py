"""Sustained messages/s through one gevent worker with 100 concurrent senders, beside the relay.

    .venv/bin/python -m bench.throughput                    # 100 visitors, 3 x 5 s per setup
    .venv/bin/python -m bench.throughput --quick            # what `make bench` runs

One ``gunicorn -k gevent -w 1`` process per setup, and one console-side socket on it:

* floor, the bare relay (``bench/relay_app.py``): ``--visitors`` keep-alive HTTP clients
  POST ``/publish`` in a closed loop (each sends its next message when the last was answered);
  the worker PUBLISHes to Redis and its listener forwards every message to one listening
  socket. The figure is the messages that socket received per second.
* chat (``tests/wsgi_host.py`` on a scratch PostgreSQL database): ``--visitors`` visitors,
  one conversation each, POST ``/chats/widget/api/messages`` in the same closed loop; one
  manager's console socket on the same worker follows all the conversations. The figure is
  the ``message.created`` events that socket received per second; the messages persisted in
  the database are counted at the end and must equal the answered POSTs.

The client is one asyncio process (a bare HTTP/1.1 keep-alive client, so it costs little of
the two cores it shares with the server, Redis and PostgreSQL). The setups alternate in
``--rounds`` rounds of ``--seconds`` each; the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from sqlalchemy import create_engine, text
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import REDIS_URL, load, machine, scratch_database
from bench.hop_latency import SHOP, seed, wait_subscribers
from tests.server_process import ServerProcess


class Http:
    """One keep-alive HTTP/1.1 connection; just enough protocol for these POSTs."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, content_type: str = "application/json") -> int:
        try:
            return await self._post(path, body, content_type)
        except (asyncio.IncompleteReadError, ConnectionError):
            # gunicorn closes keep-alive connections idle for --keep-alive (2 s) seconds,
            # as between two rounds: open a new one (the request was not handled).
            self.writer = None
            return await self._post(path, body, content_type)

    async def _post(self, path: str, body: bytes, content_type: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        return status


class Counter:
    def __init__(self) -> None:
        self.delivered = 0
        self.answered = 0
        self.failed = 0


async def read_frames(ws: ClientConnection, counter: Counter, match: Callable[[Any], bool]) -> None:
    async for raw in ws:
        if match(json.loads(raw)):
            counter.delivered += 1


async def closed_loop(
    senders: list[Callable[[], Any]], counter: Counter, seconds: float
) -> tuple[float, int, int]:
    """Every sender sends in a loop for ``seconds``; returns (elapsed, delivered, answered)."""
    stop = time.perf_counter() + seconds

    async def one(send: Callable[[], Any]) -> None:
        while time.perf_counter() < stop:
            status = await send()
            if status < 300:
                counter.answered += 1
            else:
                counter.failed += 1

    delivered0, answered0 = counter.delivered, counter.answered
    started = time.perf_counter()
    await asyncio.gather(*(one(s) for s in senders))
    await asyncio.sleep(0.3)  # deliveries still in flight when the last answer came
    elapsed = time.perf_counter() - started
    return elapsed, counter.delivered - delivered0, counter.answered - answered0


class Relay:
    def __init__(self, stack: ExitStack, prefix: str, visitors: int) -> None:
        self.channel = f"{prefix}:relay"
        env = {"RELAY_REDIS_URL": REDIS_URL, "RELAY_CHANNEL": self.channel}
        self.server = ServerProcess(
            "gevent",
            app="bench.relay_app:app",
            extra_env=env,
            database_url="",
            redis_url=REDIS_URL,
            redis_prefix=prefix,
        )
        stack.callback(self.server.stop)
        self.server.wait_ready(timeout=180)
        self.visitors = visitors
        self.counter = Counter()

    async def start(self) -> None:
        self.ws = await connect(self.server.ws_url("/ws?listen=1"), compression=None)
        self.reader = asyncio.create_task(read_frames(self.ws, self.counter, lambda f: True))
        wait_subscribers(redis.Redis.from_url(REDIS_URL), self.channel, 1)
        self.senders = []
        for i in range(self.visitors):
            http = Http(self.server.url, {})
            body = json.dumps({"client_id": f"v{i}", "body": "Where is my order?"}).encode()
            self.senders.append(lambda h=http, b=body: h.post("/publish", b, "text/plain"))


class Chat:
    def __init__(self, stack: ExitStack, database_url: str, prefix: str, visitors: int) -> None:
        self.database_url = database_url
        manager_id, self.key = seed(database_url, prefix)
        env = {
            "CHATS_RATE_LIMIT_MESSAGES": "100000000/minute",
            "CHATS_RATE_LIMIT_CONVERSATIONS": "100000/hour",
        }
        self.server = ServerProcess(
            "gevent",
            extra_env=env,
            database_url=database_url,
            redis_url=REDIS_URL,
            redis_prefix=prefix,
        )
        stack.callback(self.server.stop)
        self.server.wait_ready(timeout=180)
        self.prefix = prefix
        self.visitors = visitors
        self.counter = Counter()
        session = requests.Session()
        assert session.get(f"{self.server.url}/test-login/{manager_id}", allow_redirects=False)
        self.cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        self.conversations: list[tuple[int, str]] = []
        opener = requests.Session()
        opener.headers["Origin"] = SHOP
        for _ in range(visitors):
            r = opener.post(
                f"{self.server.url}/chats/widget/api/conversations",
                json={"key": self.key, "context": {}},
            )
            r.raise_for_status()
            self.conversations.append((r.json()["conversation_id"], r.json()["token"]))

    async def start(self) -> None:
        self.ws = await connect(
            self.server.ws_url("/chats/console/ws"),
            additional_headers={"Origin": self.server.url, "Cookie": self.cookie},
            compression=None,
        )
        for conv_id, _token in self.conversations:
            await self.ws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))

        def created(frame: Any) -> bool:
            return frame.get("type") == "event" and frame.get("event") == "message.created"

        self.reader = asyncio.create_task(read_frames(self.ws, self.counter, created))
        wait_subscribers(redis.Redis.from_url(REDIS_URL), f"{self.prefix}:events", 1)
        self.senders = []
        for _conv_id, token in self.conversations:
            http = Http(self.server.url, {"Origin": SHOP, "Authorization": f"Bearer {token}"})

            def send(h: Http = http) -> Any:
                body = {"body": "Where is my order?", "client_id": uuid.uuid4().hex}
                return h.post("/chats/widget/api/messages", json.dumps(body).encode())

            self.senders.append(send)

    def persisted(self) -> int:
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM chats_messages")).scalar_one()
        engine.dispose()
        return int(n)


async def run(args: argparse.Namespace, relay: Relay, chat: Chat) -> dict[str, list[float]]:
    await relay.start()
    await chat.start()
    for setup in (relay, chat):  # warm-up
        await closed_loop(setup.senders, setup.counter, 1.0)
    rates: dict[str, list[float]] = {"relay": [], "chat": [], "relay_answered": []}
    rates["chat_answered"] = []
    for _ in range(args.rounds):
        for name, setup in (("relay", relay), ("chat", chat)):
            elapsed, delivered, answered = await closed_loop(
                setup.senders, setup.counter, args.seconds
            )
            rates[name].append(delivered / elapsed)
            rates[f"{name}_answered"].append(answered / elapsed)
    await asyncio.sleep(0.5)
    for setup in (relay, chat):
        setup.reader.cancel()
        await setup.ws.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=100, help="concurrent senders (100)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and setup (5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--quick", action="store_true", help="--seconds 3 --rounds 2")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3.0, 2
    prefix = f"gcbench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database())
        r = redis.Redis.from_url(REDIS_URL)
        stack.callback(lambda: [r.delete(k) for k in r.scan_iter(f"{prefix}:*")])
        relay = Relay(stack, prefix, args.visitors)
        chat = Chat(stack, database_url, prefix, args.visitors)
        load_before = load()
        rates = asyncio.run(run(args, relay, chat))
        load_after = load()
        persisted = chat.persisted()
        answered_total = chat.counter.answered
        failed = chat.counter.failed + relay.counter.failed
    print(
        f"\nThroughput, one gunicorn gevent worker per setup, {args.visitors} concurrent senders, "
        f"{args.rounds} rounds x {args.seconds:.0f} s each"
    )
    print(machine())
    print(f"load average during the run: {load_before} -> {load_after}")
    print(f"{'':52}{'msg/s':>9}{'min':>9}{'max':>9}")
    rows = (
        ("floor: POST -> Redis -> listener socket (relay)", "relay"),
        ("  (relay POSTs answered)", "relay_answered"),
        ("chat: widget POST -> PostgreSQL -> console socket", "chat"),
        ("  (chat POSTs answered)", "chat_answered"),
    )
    for label, key in rows:
        values = rates[key]
        mean = sum(values) / len(values)
        print(f"{label:52}{mean:9.0f}{min(values):9.0f}{max(values):9.0f}")
    ratio = (sum(rates["chat"]) / len(rates["chat"])) / (sum(rates["relay"]) / len(rates["relay"]))
    print(f"chat / relay: {ratio:.1%} (goal >= 50 %)")
    print(
        f"messages persisted: {persisted:,} (answered chat POSTs, warm-up included: "
        f"{answered_total:,}); failed requests: {failed}"
    )


if __name__ == "__main__":
    main()
