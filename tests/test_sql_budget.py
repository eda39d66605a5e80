"""How many SQL statements one message costs, counted on the engine around real requests.

The live server runs the app in this process, so a ``before_cursor_execute`` listener on the
app's engine sees every statement a request sends (the host's user load included). A count is
deterministic, unlike a time: these budgets guard the fast path (``bench/message_path.py``
prints the same counts beside timings). Counted in the steady state: one message has been
sent before (the per-process settings cache is filled) and the hub is subscribed (the cache
keeps nothing before).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from . import hostapp
from .conftest import Console, LiveServer, Visitor, create_source
from .test_realtime import console_socket, frames_until

SHOP = "https://shop.example.com"
VISITOR_BUDGET = 4
MANAGER_BUDGET = 5


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The statements the app's engine sends while the block runs (any thread)."""
    seen: list[str] = []
    lock = threading.Lock()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with lock:
            seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = hostapp.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def listing(seen: list[str]) -> str:
    return "\n".join(f"{i + 1}. {s[:160]}" for i, s in enumerate(seen))


def hub_ready(app: Any) -> None:
    assert app.extensions["gincore_chats"].hub.wait_ready(10)


def chat_with_manager(
    app: Any, live_server: LiveServer, manager_id: str
) -> tuple[Visitor, Console, int]:
    """A visitor's conversation a (non-admin) manager has joined, one message each sent."""
    _sid, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key, SHOP)
    opened = visitor.open()
    assert opened.status_code == 201
    cid = opened.json()["conversation_id"]
    console = Console(live_server, manager_id)
    assert console.api("POST", f"/conversations/{cid}/join").status_code == 200
    assert visitor.send("warm up").status_code == 201
    reply = {"body": "warm up", "client_id": str(uuid.uuid4())}
    assert console.api("POST", f"/conversations/{cid}/messages", reply).status_code == 201
    hub_ready(app)
    return visitor, console, cid


def test_a_visitor_message_costs_at_most_four_statements(app, live_server, manager_id):
    visitor, console, cid = chat_with_manager(app, live_server, manager_id)
    ws = console_socket(live_server, console)
    ws.send(json.dumps({"op": "sync", "conversation_id": cid, "after": 0}))
    frames_until(ws, lambda f: f["type"] == "synced")
    with statements(app) as seen:
        sent = visitor.send("Where is my order?")
    assert sent.status_code == 201, sent.text
    assert len(seen) <= VISITOR_BUDGET, listing(seen)
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in seen), listing(seen)
    message = sent.json()["message"]
    # The row written is the payload: the live event, the stored event (a resync) and the HTTP
    # answer are one and the same message, under the conversation's next number.
    live = frames_until(ws, lambda f: f.get("event") == "message.created")[-1]
    assert live["data"]["message"] == message
    ws.close()
    stored = visitor.api("GET", f"/events?after={live['seq'] - 1}").json()["events"]
    assert [e["event"] for e in stored] == ["message.created"]
    assert stored[0]["data"]["message"] == message and stored[0]["seq"] == live["seq"]
    row = console.api("GET", "/conversations").json()["conversations"][0]
    assert row["last_message_preview"] == "Where is my order?"
    assert row["last_seq"] == live["seq"]


def test_a_retried_visitor_message_creates_nothing(app, live_server, manager_id):
    visitor, _console, _cid = chat_with_manager(app, live_server, manager_id)
    client_id = str(uuid.uuid4())
    first = visitor.send("Once only", client_id)
    upto = visitor.api("GET", "/conversation").json()["last_seq"]
    with statements(app) as seen:
        again = visitor.send("Once only", client_id)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["message"] == first.json()["message"]
    # The insert that found the row, then the read of the original: no savepoint either way.
    assert len(seen) <= VISITOR_BUDGET + 1, listing(seen)
    assert not any(s.startswith("SAVEPOINT") for s in seen), listing(seen)
    after = visitor.api("GET", "/conversation").json()
    assert after["last_seq"] == upto
    assert [m["body"] for m in after["messages"]].count("Once only") == 1


def test_a_manager_reply_costs_at_most_five_statements(app, live_server, manager_id):
    visitor, console, cid = chat_with_manager(app, live_server, manager_id)
    with statements(app) as seen:
        r = console.api(
            "POST",
            f"/conversations/{cid}/messages",
            {"body": "On its way", "client_id": str(uuid.uuid4())},
        )
    assert r.status_code == 201, r.text
    assert len(seen) <= MANAGER_BUDGET, listing(seen)
    assert not any(s.startswith("SAVEPOINT") for s in seen), listing(seen)
    history = visitor.api("GET", "/conversation").json()["messages"]
    assert history[-1] == r.json()["message"]
    assert history[-1]["author_name"] == "Mia Manager"


def test_a_note_costs_the_same_and_stays_with_staff(app, live_server, manager_id):
    visitor, console, cid = chat_with_manager(app, live_server, manager_id)
    note = {"body": "VIP customer", "client_id": str(uuid.uuid4()), "note": True}
    with statements(app) as seen:
        r = console.api("POST", f"/conversations/{cid}/messages", note)
    assert r.status_code == 201, r.text
    assert len(seen) <= MANAGER_BUDGET, listing(seen)
    assert "VIP customer" not in [
        m["body"] for m in visitor.api("GET", "/conversation").json()["messages"]
    ]
    row = console.api("GET", "/conversations").json()["conversations"][0]
    assert row["last_message_preview"] == "warm up"  # a note is not the chat's last message
