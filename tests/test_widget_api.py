"""The widget's HTTP surface: origins, tokens, idempotent sends, visitor isolation."""

from __future__ import annotations

import uuid

from .conftest import Console, Visitor, create_source


def test_open_conversation_records_context_and_returns_token(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    r = visitor.open(title="Blue shoes", referrer="https://search.example/")
    assert r.status_code == 201, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    data = r.json()
    assert data["token"] and data["messages"] == [] and data["status"] == "open"

    console = Console(live_server, manager_id)
    detail = console.api("GET", f"/conversations/{data['conversation_id']}").json()
    ctx = detail["context"]
    assert ctx["current_page"] == "https://shop.example.com/p/1"
    assert ctx["page_title"] == "Blue shoes"
    assert ctx["referrer"] == "https://search.example/"
    assert ctx["language"] == "en-US"
    assert ctx["tz_offset_minutes"] == 120
    assert ctx["ip"] == "127.0.0.1"
    assert (
        ctx["browser"].startswith("Chrome") and ctx["os"] == "Linux" and ctx["device"] == "desktop"
    )


def test_other_origin_is_refused_with_a_readable_reason(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com", "*.brand.example"], [manager_id])
    assert Visitor(live_server, key, origin="https://eu.brand.example").open().status_code == 201
    r = Visitor(live_server, key, origin="https://evil.example").open()
    assert r.status_code == 403
    assert "evil.example" in r.json()["error"]
    # The refusal is readable by the page, so the widget can say why in the console.
    assert r.headers["Access-Control-Allow-Origin"] == "https://evil.example"
    with app.app_context():
        from gincore_chats.models import Conversation

        assert app.extensions["gincore_chats"].session.query(Conversation).count() == 1


def test_unknown_key_and_missing_origin(app, live_server, manager_id):
    create_source(app, ["shop.example.com"], [manager_id])
    assert Visitor(live_server, "nope").open().status_code == 404
    r = Visitor(live_server, "nope", origin="").open()
    assert r.status_code in (403, 404)


def test_retried_send_creates_one_message(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    visitor.open()
    cid = str(uuid.uuid4())
    first = visitor.send("Hello there", cid)
    second = visitor.send("Hello there", cid)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["message"]["id"] == second.json()["message"]["id"]
    history = visitor.api("GET", "/conversation").json()["messages"]
    assert [m["body"] for m in history] == ["Hello there"]


def test_bad_input_gets_clear_errors_and_stores_nothing(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    visitor.open()
    assert "empty" in visitor.send("   ").json()["error"]
    r = visitor.send("x" * 10_001)
    assert r.status_code == 400 and "too long" in r.json()["error"]
    r = visitor.api("POST", "/messages", {"body": "hi", "client_id": "short"})
    assert r.status_code == 400 and "client_id" in r.json()["error"]
    r = visitor.api("POST", "/messages", ["not", "an", "object"])
    assert r.status_code == 400
    assert visitor.api("GET", "/conversation").json()["messages"] == []


def test_a_visitor_cannot_read_another_conversation(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    alice, bob = Visitor(live_server, key), Visitor(live_server, key)
    alice.open()
    bob.open()
    alice.send("alice secret")
    bob_view = bob.api("GET", "/conversation").json()
    assert (
        bob_view["conversation_id"] != alice.api("GET", "/conversation").json()["conversation_id"]
    )
    assert all("alice" not in m["body"] for m in bob_view["messages"])
    # A forged token (Alice's conversation id, signed with another key) is refused.
    from gincore_chats.tokens import issue_visitor_token

    forged = issue_visitor_token("wrong-key", "gincore-chats-visitor", 1, "x")
    bob.token = forged
    assert bob.api("GET", "/conversation").status_code == 403
    bob.token = None
    assert bob.api("GET", "/conversation").status_code == 403


def test_notes_never_reach_the_visitor(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    console = Console(live_server, manager_id)
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "internal: VIP customer", "client_id": str(uuid.uuid4()), "note": True},
    )
    assert r.status_code == 201, r.text
    history = visitor.api("GET", "/conversation").json()["messages"]
    assert all("VIP" not in m["body"] for m in history)
    events = visitor.api("GET", "/events?after=0").json()["events"]
    assert events and all("VIP" not in str(e) for e in events)
    assert all(not e["staff_only"] for e in events)
    staff_events = console.api("GET", f"/conversations/{conv_id}/events?after=0").json()["events"]
    assert any("VIP" in str(e) for e in staff_events)


def test_preflight_answers_cors(app, live_server):
    import requests

    r = requests.options(
        f"{live_server.url}/chats/widget/api/messages",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in r.headers
