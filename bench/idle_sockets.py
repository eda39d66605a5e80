"""How many idle widget sockets one gevent worker holds, and the memory each one costs.

    .venv/bin/python -m bench.idle_sockets                    # 10,000 sockets, plain and deflate
    .venv/bin/python -m bench.idle_sockets -n 2000            # what `make bench` runs
    .venv/bin/python -m bench.idle_sockets -n 10000 --modes plain

One ``gunicorn -k gevent -w 1 --worker-connections N+200`` process of the test host on a
scratch PostgreSQL database with ``-n`` visitor conversations (``generate_series``). This
process opens ``-n`` widget sockets (``/chats/widget/ws``, 100 handshakes in flight), each
authenticated with its conversation's visitor token and answered with the ``hello`` frame,
then holds them for ``--hold`` seconds and reads the worker's RSS (``/proc/<pid>/status``).
Per socket = (RSS with the sockets - RSS before) / sockets. ``plain`` offers no compression;
``deflate`` offers permessage-deflate as browsers do (the server decides whether to accept
it: ``CHATS_WS_COMPRESSION``). Finally one event is published to every conversation and the
time until the last socket has it is printed (the fan-out of one Redis message per socket).

The open-files limit of this process (and so of the server it starts) is raised with
``resource.setrlimit`` to the hard limit: each socket is one descriptor on each side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from contextlib import ExitStack
from typing import Any

import redis
from sqlalchemy import create_engine, text
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import (
    REDIS_URL,
    load,
    machine,
    raise_nofile,
    rss_kb,
    scratch_database,
    worker_pid,
)
from bench.hop_latency import SHOP, seed
from gincore_chats.tokens import issue_visitor_token
from tests.server_process import ServerProcess

SEED = """
INSERT INTO chats_contacts (id, source_id, custom_fields, created_at)
SELECT 1000 + g, :source, '{}', now() FROM generate_series(1, :n) AS g;

INSERT INTO chats_conversations (id, source_id, contact_id, status, created_at, last_activity_at,
                                 last_seq, visitor_nonce, customer_last_read_message_id,
                                 staff_last_read_message_id)
SELECT 1000 + g, :source, 1000 + g, 'open', now(), now(), 0, 'nonce' || g, 0, 0
FROM generate_series(1, :n) AS g;
"""


def seed_conversations(database_url: str, n: int) -> list[tuple[int, str]]:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        source = conn.execute(text("SELECT min(id) FROM chats_sources")).scalar_one()
        for statement in SEED.strip().split(";\n\n"):
            conn.execute(text(statement), {"n": n, "source": source})
    engine.dispose()
    # tests/hostapp.py's SECRET_KEY and the default CHATS_TOKEN_SALT.
    return [
        (
            1000 + g,
            issue_visitor_token("test-secret", "gincore-chats-visitor", 1000 + g, f"nonce{g}"),
        )
        for g in range(1, n + 1)
    ]


async def open_socket(url: str, token: str, deflate: bool) -> ClientConnection:
    ws = await connect(
        url,
        additional_headers={"Origin": SHOP},
        compression="deflate" if deflate else None,
        open_timeout=60,
        ping_interval=None,
        max_queue=4,
    )
    await ws.send(json.dumps({"op": "auth", "token": token}))
    hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if hello.get("type") != "hello":
        raise RuntimeError(f"no hello: {hello}")
    return ws


async def hold(
    server: ServerProcess,
    pid: int,
    tokens: list[tuple[int, str]],
    deflate: bool,
    hold_s: float,
    channel: str,
) -> dict[str, Any]:
    url = server.ws_url("/chats/widget/ws")
    await asyncio.sleep(1.0)
    before = rss_kb(pid)
    gate = asyncio.Semaphore(100)
    sockets: list[ClientConnection] = []
    errors: list[str] = []

    async def one(token: str) -> None:
        async with gate:
            try:
                sockets.append(await open_socket(url, token, deflate))
            except Exception as exc:  # the largest figure reached is the result
                errors.append(type(exc).__name__)

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for _c, t in tokens))
    opened_s = time.perf_counter() - started
    await asyncio.sleep(hold_s)
    loaded = rss_kb(pid)
    alive = sum(1 for ws in sockets if ws.state.name == "OPEN")

    # One event for every conversation, PUBLISHed back to back: until the last socket has it.
    publisher = redis.Redis.from_url(REDIS_URL)
    marker = uuid.uuid4().hex
    arrived = asyncio.Event()
    remaining = [len(sockets)]

    async def wait_event(ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                if marker in raw:
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        arrived.set()
                    return
        except Exception:
            pass

    readers = [asyncio.create_task(wait_event(ws)) for ws in sockets]
    t0 = time.perf_counter()
    pipe = publisher.pipeline(transaction=False)
    for conv_id, _t in tokens:
        envelope = {
            "route": "conversation",
            "conversation_id": conv_id,
            "visibility": "public",
            "data": {"type": "event", "conversation_id": conv_id, "event": "bench", "m": marker},
        }
        pipe.publish(channel, json.dumps(envelope))
    pipe.execute()
    try:
        await asyncio.wait_for(arrived.wait(), 120)
        fanout_ms = (time.perf_counter() - t0) * 1000
    except TimeoutError:
        fanout_ms = float("nan")
    after_event = rss_kb(pid)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    publisher.close()
    return {
        "opened": len(sockets),
        "errors": errors,
        "alive": alive,
        "open_s": opened_s,
        "before_kb": before,
        "loaded_kb": loaded,
        "after_event_kb": after_event,
        "fanout_ms": fanout_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="sockets (10000)")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds held before RSS (5)")
    parser.add_argument("--modes", default="plain,deflate", help="plain,deflate")
    args = parser.parse_args()
    # Each socket: one descriptor here, one in the server; plus headroom for the rest.
    limit = raise_nofile(args.n + 1000)
    if limit < args.n + 200:
        print(f"open-files limit {limit} (hard limit): fewer than {args.n} sockets will open")
    prefix = f"gcbench-{uuid.uuid4().hex[:8]}"
    results = []
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database())
        r = redis.Redis.from_url(REDIS_URL)
        stack.callback(lambda: [r.delete(k) for k in r.scan_iter(f"{prefix}:*")])
        seed(database_url, prefix)
        tokens = seed_conversations(database_url, args.n)
        for mode in args.modes.split(","):
            server = ServerProcess(
                "gevent",
                database_url=database_url,
                redis_url=REDIS_URL,
                redis_prefix=prefix,
                worker_connections=args.n + 200,
            )
            try:
                server.wait_ready(timeout=180)
                pid = worker_pid(server.proc.pid)
                outcome = asyncio.run(
                    hold(server, pid, tokens, mode == "deflate", args.hold, f"{prefix}:events")
                )
            finally:
                server.stop()
            results.append((mode, outcome))
    print(f"\nIdle widget sockets on one gunicorn gevent worker (open-files limit {limit})")
    print(machine())
    header = ("opened", "alive", "open s", "RSS before MB", "RSS held MB", "KB/socket")
    print(
        f"{'':10}"
        + "".join(f"{h:>15}" for h in header)
        + f"{'after 1 event':>15}{'fan-out ms':>12}"
    )
    for mode, o in results:
        per = (o["loaded_kb"] - o["before_kb"]) / max(1, o["opened"])
        per_after = (o["after_event_kb"] - o["before_kb"]) / max(1, o["opened"])
        cells = (
            f"{o['opened']:,}",
            f"{o['alive']:,}",
            f"{o['open_s']:.1f}",
            f"{o['before_kb'] / 1024:.1f}",
            f"{o['loaded_kb'] / 1024:.1f}",
            f"{per:.1f}",
        )
        print(
            f"{mode:10}"
            + "".join(f"{c:>15}" for c in cells)
            + f"{per_after:>15.1f}{o['fanout_ms']:>12.0f}"
        )
        if o["errors"]:
            kinds = {k: o["errors"].count(k) for k in set(o["errors"])}
            print(f"{'':10}failed to open: {kinds}")
    print(f"goal: {args.n:,} sockets at <= 50 KB each; load average now {load()}")


if __name__ == "__main__":
    main()
