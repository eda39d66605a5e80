"""Live delivery over real WebSockets (one server process; see test_two_processes for two)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .conftest import Console, Visitor, create_source


def frames_until(ws: Any, predicate, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Read frames until one matches; return all read (the match last). Fails on timeout."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; got {got}")
        frame = json.loads(ws.recv(timeout=remaining))
        got.append(frame)
        if predicate(frame):
            return got


def visitor_socket(server, visitor: Visitor, after: int = 0, **options: Any):
    ws = connect(
        server.ws_url("/chats/widget/ws"), additional_headers={"Origin": visitor.origin}, **options
    )
    ws.send(json.dumps({"op": "auth", "token": visitor.token}))
    frames_until(ws, lambda f: f["type"] == "hello")
    ws.send(json.dumps({"op": "sync", "after": after}))
    return ws


def console_socket(server, console: Console, **options: Any):
    ws = connect(
        server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": server.url, "Cookie": console.cookie_header()},
        **options,
    )
    frames_until(ws, lambda f: f["type"] == "hello")
    return ws


@pytest.fixture
def setup(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    console = Console(live_server, manager_id)
    app.extensions["gincore_chats"].hub.wait_ready()
    return visitor, console, conv_id


def is_event(name: str, **match):
    def pred(f):
        if f.get("type") != "event" or f.get("event") != name:
            return False
        msg = f["data"].get("message", {})
        return all(msg.get(k) == v for k, v in match.items())

    return pred


def test_walking_skeleton_over_websockets(live_server, setup):
    visitor, console, conv_id = setup
    mws = console_socket(live_server, console)
    vws = visitor_socket(live_server, visitor)
    frames_until(vws, lambda f: f["type"] == "synced")

    visitor.send("Hello, anyone?")
    # The console's list updates without following the conversation ...
    row = frames_until(mws, lambda f: f["type"] == "conversation")[-1]
    assert row["conversation"]["last_message_preview"] == "Hello, anyone?"
    mws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))
    frames_until(mws, is_event("message.created", body="Hello, anyone?"))

    console.api("POST", f"/conversations/{conv_id}/join")
    joined = frames_until(vws, is_event("message.created", kind="system"))[-1]
    assert joined["data"]["message"]["body"] == "Mia Manager joined the chat"

    console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Hi! How can I help?", "client_id": str(uuid.uuid4())},
    )
    reply = frames_until(vws, is_event("message.created", kind="manager"))[-1]
    assert reply["data"]["message"]["author_name"] == "Mia Manager"

    visitor.send("Where is my order?")
    frames_until(mws, is_event("message.created", body="Where is my order?"))
    vws.close()
    mws.close()


def test_reconnect_replays_exactly_the_missed_events(live_server, setup):
    visitor, console, conv_id = setup
    console.api("POST", f"/conversations/{conv_id}/join")
    vws = visitor_socket(live_server, visitor)
    last = frames_until(vws, lambda f: f["type"] == "synced")[-1]["upto"]
    vws.close()

    for i in range(3):
        console.api(
            "POST",
            f"/conversations/{conv_id}/messages",
            {"body": f"missed {i}", "client_id": str(uuid.uuid4())},
        )
    console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "secret note", "note": True, "client_id": str(uuid.uuid4())},
    )

    vws = visitor_socket(live_server, visitor, after=last)
    frames = frames_until(vws, lambda f: f["type"] == "synced")
    bodies = [f["data"]["message"]["body"] for f in frames if f["type"] == "event"]
    assert bodies == ["missed 0", "missed 1", "missed 2"]
    seqs = [f["seq"] for f in frames if f["type"] == "event"]
    assert seqs == sorted(set(seqs))
    assert frames[-1]["upto"] >= seqs[-1]
    vws.close()


def test_notes_and_context_stay_off_the_visitor_socket(live_server, setup):
    visitor, console, conv_id = setup
    console.api("POST", f"/conversations/{conv_id}/join")
    vws = visitor_socket(live_server, visitor)
    frames_until(vws, lambda f: f["type"] == "synced")
    mws = console_socket(live_server, console)
    mws.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": 0}))
    frames_until(mws, lambda f: f["type"] == "synced")

    console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "VIP, be nice", "note": True, "client_id": str(uuid.uuid4())},
    )
    visitor.api("POST", "/context", {"url": "https://shop.example.com/cart", "title": "Cart"})
    console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "public reply", "client_id": str(uuid.uuid4())},
    )

    staff = frames_until(mws, is_event("message.created", body="public reply"))
    assert any(
        f.get("event") == "message.created" and f["data"]["message"]["body"] == "VIP, be nice"
        for f in staff
    )
    ctx = [f for f in staff if f.get("event") == "visitor.context"]
    assert ctx and ctx[-1]["data"]["context"]["current_page"] == "https://shop.example.com/cart"

    seen = frames_until(vws, is_event("message.created", body="public reply"))
    assert not any("VIP" in json.dumps(f) for f in seen)
    assert not any(f.get("event") == "visitor.context" for f in seen)
    vws.close()
    mws.close()


def close_code(ws: Any, timeout: float = 5.0) -> int | None:
    """The close code the server sent. Werkzeug may leave TCP open after its close frame, so
    the received frame counts even when the connection has not finished closing."""
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        frame = ws.protocol.close_rcvd
        return frame.code if frame else None


def test_sockets_refuse_foreign_origins_and_bad_tokens(app, live_server, setup):
    visitor, console, _ = setup
    ws = connect(
        live_server.ws_url("/chats/console/ws"),
        additional_headers={"Origin": "https://evil.example", "Cookie": console.cookie_header()},
    )
    assert close_code(ws) == 1008

    ws = connect(
        live_server.ws_url("/chats/widget/ws"),
        additional_headers={"Origin": "https://evil.example"},
    )
    ws.send(json.dumps({"op": "auth", "token": visitor.token}))
    assert "not enabled" in json.loads(ws.recv(timeout=5))["message"]
    assert close_code(ws) == 1008

    ws = connect(
        live_server.ws_url("/chats/widget/ws"), additional_headers={"Origin": visitor.origin}
    )
    ws.send(json.dumps({"op": "auth", "token": "forged"}))
    assert json.loads(ws.recv(timeout=5))["type"] == "error"
    assert close_code(ws) == 1008


def test_oversized_frames_close_the_socket(app, live_server, setup):
    visitor, _, _ = setup
    # The dev server leaves TCP open after its 1009 close frame, so don't wait long for it.
    vws = visitor_socket(live_server, visitor, close_timeout=0.5)
    frames_until(vws, lambda f: f["type"] == "synced")
    limit = app.config["CHATS_WS_MAX_MESSAGE_SIZE"]
    vws.send("x" * (limit + 1))
    assert close_code(vws, timeout=3) == 1009


def test_garbage_frames_get_errors_not_disconnects(live_server, setup):
    visitor, _, _ = setup
    vws = visitor_socket(live_server, visitor)
    frames_until(vws, lambda f: f["type"] == "synced")
    vws.send("not json")
    assert frames_until(vws, lambda f: f["type"] == "error")[-1]["message"]
    vws.send(json.dumps({"op": "ping"}))
    frames_until(vws, lambda f: f["type"] == "pong")


def test_deeply_nested_frames_get_errors_on_both_sockets(live_server, setup):
    visitor, console, _ = setup
    deep = "[" * 5000 + "]" * 5000  # once a RecursionError that killed the socket's handler
    first = connect(
        live_server.ws_url("/chats/widget/ws"), additional_headers={"Origin": visitor.origin}
    )
    first.send(deep)
    assert "deeper than" in json.loads(first.recv(timeout=5))["message"]
    assert close_code(first) == 1008
    for ws in (visitor_socket(live_server, visitor), console_socket(live_server, console)):
        ws.send(deep)
        assert "deeper than" in frames_until(ws, lambda f: f["type"] == "error")[-1]["message"]
        ws.send(json.dumps({"op": "ping"}))
        frames_until(ws, lambda f: f["type"] == "pong")
        ws.close()


def test_losing_redis_subscription_tells_clients_to_resync(app, live_server, setup):
    visitor, console, conv_id = setup
    state = app.extensions["gincore_chats"]
    vws = visitor_socket(live_server, visitor)
    frames_until(vws, lambda f: f["type"] == "synced")
    # Kill only this app's subscriber connection (other test runs may share the Redis).
    name = state.key("conn").replace(":", "-")
    subscribers = [
        c for c in state.redis.client_list() if c.get("name") == name and int(c.get("sub", 0)) > 0
    ]
    assert subscribers, "the hub's subscriber connection should be named"
    for client in subscribers:
        state.redis.client_kill_filter(_id=client["id"])
    frames_until(vws, lambda f: f["type"] == "resync", timeout=10)
    assert state.hub.wait_ready(10)
    # Delivery works again after the listener came back.
    console.api("POST", f"/conversations/{conv_id}/join")
    frames_until(vws, is_event("message.created", kind="system"))
    vws.close()


def test_sockets_refuse_permessage_deflate_by_default(live_server, setup):
    # Browsers always offer it; its zlib contexts cost ~100 KB per idle socket.
    visitor, console, _conv_id = setup
    vws = visitor_socket(live_server, visitor, compression="deflate")
    mws = console_socket(live_server, console, compression="deflate")
    try:
        assert vws.response.headers.get("Sec-WebSocket-Extensions") is None
        assert mws.response.headers.get("Sec-WebSocket-Extensions") is None
        frames_until(vws, lambda f: f["type"] == "synced")
        assert visitor.send("Plain frames still arrive").status_code == 201
        frames_until(vws, is_event("message.created"))
    finally:
        vws.close()
        mws.close()


def test_ws_compression_setting_lets_the_offer_through(app, database_url, manager_id):
    from . import hostapp
    from .conftest import REDIS_URL, LiveServer

    other = hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        CHATS_REDIS_URL=REDIS_URL,
        CHATS_REDIS_PREFIX=app.extensions["gincore_chats"].config.redis_prefix,
        CHATS_WS_COMPRESSION=True,
    )
    server = LiveServer(other)
    try:
        _, key = create_source(other, ["shop.example.com"], [manager_id])
        visitor = Visitor(server, key)
        visitor.open()
        ws = visitor_socket(server, visitor, compression="deflate")
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        ws.close()
    finally:
        server.stop()
