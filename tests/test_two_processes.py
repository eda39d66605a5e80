"""Two server processes, one PostgreSQL database, one Redis: events cross process boundaries.

Process A runs the test host under gunicorn's gevent worker, process B under Werkzeug's threaded
dev server. The visitor talks to A, the manager to B; nothing is shared but the database and
Redis, as in a deployment with several workers or hosts. Every wait is for a specific frame
with a receive timeout (or a polled condition with a deadline), never a fixed sleep.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .conftest import REDIS_URL, Console, Visitor, create_source
from .server_process import ServerProcess

Frame = dict[str, Any]
SHOP = "https://shop.example.com"


@dataclass
class Cluster:
    a: ServerProcess  # gunicorn -k gevent: the visitor's side
    b: ServerProcess  # Werkzeug: the manager's side
    redis: redis.Redis
    channel: str

    def wait_subscribed(self, processes: int = 2, timeout: float = 10.0) -> None:
        """Both hubs are listening (each starts its listener with its first socket).

        A hub that is not subscribed yet drops what is published meanwhile; clients recover by
        syncing, but these tests assert live delivery, so they wait for the subscriptions.
        """
        deadline = time.monotonic() + timeout
        while True:
            count = dict(self.redis.pubsub_numsub(self.channel)).get(self.channel.encode(), 0)
            if count >= processes:
                return
            assert time.monotonic() < deadline, f"{count} of {processes} hubs subscribed"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def cluster(app: Any, database_url: str, redis_prefix: str) -> Iterator[Cluster]:
    # The `app` fixture created the tables; the two processes get their own Redis prefix, so
    # counting subscribers is not disturbed by in-process live servers of other tests.
    prefix = f"{redis_prefix}-2p"
    client = redis.Redis.from_url(REDIS_URL)
    common = {"database_url": database_url, "redis_url": REDIS_URL, "redis_prefix": prefix}
    a = ServerProcess("gevent", **common)
    b = ServerProcess("werkzeug", **common)
    try:
        a.wait_ready()
        b.wait_ready()
        yield Cluster(a, b, client, f"{prefix}:events")
    finally:
        a.stop()
        b.stop()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


# -- socket helpers -------------------------------------------------------------------------------


def recv_until(
    ws: ClientConnection, predicate: Callable[[Frame], bool], timeout: float = 10.0
) -> list[Frame]:
    """Frames read until one matches (it is last). Fails when none arrives within ``timeout``."""
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            frame = json.loads(ws.recv(timeout=remaining))
        except TimeoutError:
            raise AssertionError(f"no matching frame within {timeout}s; got {frames}") from None
        frames.append(frame)
        if predicate(frame):
            return frames


def drain(ws: ClientConnection) -> list[Frame]:
    """Everything the server sent before answering a ping (frames on one socket are ordered)."""
    ws.send(json.dumps({"op": "ping"}))
    return recv_until(ws, lambda f: f["type"] == "pong")[:-1]


def close_code(ws: ClientConnection, timeout: float = 10.0) -> int | None:
    """The code of the close frame the server sent; fails on any data frame before it.

    Werkzeug sometimes keeps TCP open after its close frame (the client then waits in CLOSING
    and never raises), so the close frame is what counts, not the end of the connection.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = ws.recv(timeout=0.1)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            if ws.protocol.close_rcvd is not None:
                return ws.protocol.close_rcvd.code
            continue
        raise AssertionError(f"a frame instead of a close: {frame!r}")
    return None


def created(body: str | None = None, **match: Any) -> Callable[[Frame], bool]:
    def predicate(f: Frame) -> bool:
        if f.get("type") != "event" or f.get("event") != "message.created":
            return False
        msg = f["data"]["message"]
        return (body is None or msg["body"] == body) and all(msg[k] == v for k, v in match.items())

    return predicate


def synced(f: Frame) -> bool:
    return f["type"] == "synced"


def events(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f["type"] == "event"]


@contextmanager
def visitor_socket(server: ServerProcess, visitor: Visitor) -> Iterator[ClientConnection]:
    with connect(
        server.ws_url("/chats/widget/ws"),
        additional_headers={"Origin": visitor.origin},
        close_timeout=1,
    ) as ws:
        ws.send(json.dumps({"op": "auth", "token": visitor.token}))
        recv_until(ws, lambda f: f["type"] == "hello")
        yield ws


@contextmanager
def console_socket(server: ServerProcess, console: Console) -> Iterator[ClientConnection]:
    with connect(
        server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": server.url, "Cookie": console.cookie_header()},
        close_timeout=1,
    ) as ws:
        recv_until(ws, lambda f: f["type"] == "hello")
        yield ws


def sync(ws: ClientConnection, after: int, conversation_id: int | None = None) -> list[Frame]:
    op: Frame = {"op": "sync", "after": after}
    if conversation_id is not None:
        op["conversation_id"] = conversation_id
    ws.send(json.dumps(op))
    return recv_until(ws, synced)


def say(console: Console, conv_id: int, body: str, note: bool = False) -> Frame:
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": body, "client_id": str(uuid.uuid4()), "note": note},
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]  # type: ignore[no-any-return]


@dataclass
class Chat:
    visitor: Visitor
    console: Console
    conv_id: int
    vws: ClientConnection  # on A
    mws: ClientConnection  # on B
    visitor_floor: int  # highest sequence number the visitor socket has seen


@pytest.fixture
def chat(app: Any, cluster: Cluster, manager_id: str) -> Iterator[Chat]:
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(cluster.a, key, origin=SHOP)  # type: ignore[arg-type]
    r = visitor.open()
    assert r.status_code == 201, r.text
    conv_id = r.json()["conversation_id"]
    console = Console(cluster.b, manager_id)  # type: ignore[arg-type]

    with ExitStack() as sockets:
        vws = sockets.enter_context(visitor_socket(cluster.a, visitor))
        floor = sync(vws, 0)[-1]["upto"]
        mws = sockets.enter_context(console_socket(cluster.b, console))
        sync(mws, 0, conv_id)
        cluster.wait_subscribed()
        yield Chat(visitor, console, conv_id, vws, mws, floor)


# -- tests ----------------------------------------------------------------------------------------


def test_events_cross_between_a_gevent_and_a_werkzeug_process(chat: Chat) -> None:
    # The manager joins and replies over HTTP on B; the visitor's socket on A gets both.
    r = chat.console.api("POST", f"/conversations/{chat.conv_id}/join")
    assert r.status_code == 200 and r.json()["joined"], r.text
    got = recv_until(chat.vws, created(kind="system", system_code="joined"))
    assert got[-1]["data"]["message"]["body"] == "Mia Manager joined the chat"

    say(chat.console, chat.conv_id, "Hello from process B")
    got += recv_until(chat.vws, created("Hello from process B"))
    reply = got[-1]["data"]["message"]
    assert reply["author_name"] == "Mia Manager" and reply["kind"] == "manager"

    # The visitor writes over HTTP on A; the manager's socket on B gets it, and the list row.
    r = chat.visitor.send("Hello from process A")
    assert r.status_code == 201, r.text

    def row_updated(f: Frame) -> bool:
        return (
            f["type"] == "conversation"
            and f["conversation"]["id"] == chat.conv_id
            and f["conversation"]["last_message_preview"] == "Hello from process A"
        )

    staff = recv_until(chat.mws, created("Hello from process A", kind="customer"))
    if not any(row_updated(f) for f in staff):
        recv_until(chat.mws, row_updated)

    # Each event reached the visitor once, in sequence order, and nothing else is pending.
    got += drain(chat.vws)
    seqs = [f["seq"] for f in events(got)]
    assert seqs == sorted(set(seqs)) and seqs[0] == chat.visitor_floor + 1
    assert [f["data"]["message"]["body"] for f in events(got) if "message" in f["data"]] == [
        "Mia Manager joined the chat",
        "Hello from process B",
        "Hello from process A",
    ]


def test_a_reconnecting_visitor_gets_exactly_the_missed_events_once_in_order(
    chat: Chat, cluster: Cluster
) -> None:
    chat.console.api("POST", f"/conversations/{chat.conv_id}/join")
    seen = recv_until(chat.vws, created(kind="system"))
    seen += drain(chat.vws)
    last = max(f["seq"] for f in events(seen))
    chat.vws.close()

    sent = [say(chat.console, chat.conv_id, f"missed {i}") for i in range(3)]
    # The manager's own socket (still open on B) saw them live.
    for i in range(3):
        recv_until(chat.mws, created(f"missed {i}"))

    with visitor_socket(cluster.a, chat.visitor) as vws:
        replay = sync(vws, last)
        replay += drain(vws)
        got = events(replay)
        assert [f["seq"] for f in got] == [last + 1, last + 2, last + 3]
        assert [f["data"]["message"]["id"] for f in got] == [m["id"] for m in sent]
        assert [f["data"]["message"]["body"] for f in got] == ["missed 0", "missed 1", "missed 2"]
        assert next(f for f in replay if synced(f))["upto"] == last + 3

        # Live delivery resumes on the new socket, continuing the sequence.
        say(chat.console, chat.conv_id, "after reconnect")
        live = recv_until(vws, created("after reconnect"))
        assert events(live)[-1]["seq"] == last + 4 and len(events(live)) == 1


def test_internal_notes_never_reach_the_visitor_socket(chat: Chat) -> None:
    chat.console.api("POST", f"/conversations/{chat.conv_id}/join")
    say(chat.console, chat.conv_id, "VIP customer, be nice", note=True)
    say(chat.console, chat.conv_id, "public reply")

    # The note was published before the reply from the same process: had it leaked, it
    # would be among the frames before the reply.
    visitor_frames = recv_until(chat.vws, created("public reply"))
    visitor_frames += drain(chat.vws)
    assert all("VIP" not in json.dumps(f) for f in visitor_frames)
    assert all(not f["staff_only"] for f in events(visitor_frames))
    # ... and a full replay leaves it out too.
    replay = sync(chat.vws, 0)
    assert events(replay) and all("VIP" not in json.dumps(f) for f in replay)

    # The manager's socket on B did get the note, marked staff-only.
    staff = recv_until(chat.mws, created("public reply"))
    [note] = [f for f in staff if created("VIP customer, be nice")(f)]
    assert note["staff_only"] and note["data"]["message"]["kind"] == "note"


@pytest.mark.parametrize("side", ["a", "b"])
def test_console_socket_refuses_a_foreign_origin(
    cluster: Cluster, manager_id: str, side: str
) -> None:
    server: ServerProcess = getattr(cluster, side)
    console = Console(server, manager_id)  # type: ignore[arg-type]
    # The same cookie with the server's own Origin is accepted (the refusal is the Origin's).
    with console_socket(server, console):
        pass

    with connect(
        server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": "https://evil.example", "Cookie": console.cookie_header()},
        close_timeout=1,
    ) as ws:
        assert close_code(ws) == 1008


@pytest.mark.parametrize("side", ["a", "b"])
def test_visitor_socket_refuses_a_bad_token(
    app: Any, cluster: Cluster, manager_id: str, side: str
) -> None:
    server: ServerProcess = getattr(cluster, side)
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(server, key, origin=SHOP)  # type: ignore[arg-type]
    assert visitor.open().status_code == 201
    good = visitor.token
    assert good

    for token in ("not-a-token", good[:-4] + "AAAA", None):
        with connect(
            server.ws_url("/chats/widget/ws"),
            additional_headers={"Origin": SHOP},
            close_timeout=1,
        ) as ws:
            ws.send(json.dumps({"op": "auth", "token": token}))
            error = json.loads(ws.recv(timeout=10))
            assert error["type"] == "error" and "token" in error["message"], error
            assert close_code(ws) == 1008

    # The good token on the same server is accepted.
    with visitor_socket(server, visitor):
        pass


def test_a_settings_change_in_one_process_reaches_the_other_without_a_restart(
    app: Any, cluster: Cluster, chat: Chat, admin_id: str
) -> None:
    # Process A reads a source's AI mode on every visitor message (the inbox row's "ai" field)
    # from its per-process cache; an admin changes the mode on B. A drops its copy when B's
    # invalidation arrives over Redis, so its next message shows the new mode.
    def row_of(body: str) -> Callable[[Frame], bool]:
        return lambda f: (
            f["type"] == "conversation"
            and f["conversation"]["id"] == chat.conv_id
            and f["conversation"]["last_message_preview"] == body
        )

    assert chat.visitor.send("Before the change").status_code == 201
    before = recv_until(chat.mws, row_of("Before the change"))[-1]["conversation"]
    assert before["ai"] is None  # humans only: no assistant

    admin = Console(cluster.b, admin_id)  # type: ignore[arg-type]
    source_id = before["source_id"]
    form = {
        "csrf_token": admin.csrf,
        "mode": "ai_first",
        "assistant_name": "Ava",
        "max_unresolved_turns": "3",
        "price_input_per_million": "0",
        "price_output_per_million": "0",
    }
    saved = admin.http.post(
        f"{cluster.b.url}/chats/settings/sources/{source_id}/ai", data=form, allow_redirects=False
    )
    assert saved.status_code == 302, saved.text

    # The invalidation is asynchronous (a Redis hop): A may answer the first message after the
    # save from its old copy for a moment. A few messages, each waited for, never a sleep.
    for attempt in range(50):
        body = f"After the change {attempt}"
        assert chat.visitor.send(body).status_code == 201
        row = recv_until(chat.mws, row_of(body))[-1]["conversation"]
        if row["ai"] is not None:
            break
    assert row["ai"]["mode"] == "ai_first", row["ai"]
    assert attempt < 5, f"process A still had the old mode after {attempt} messages"
