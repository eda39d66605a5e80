"""The console's HTTP surface: permissions, assignment, join/leave, replies, edit/delete."""

from __future__ import annotations

import uuid

import pytest
import requests

from .conftest import ALL_PERMS, Console, Visitor, create_source, make_staff


@pytest.fixture
def chat(app, live_server, manager_id):
    """A conversation on an assigned source, with one visitor message."""
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    visitor.send("Do you ship to Lviv?")
    return visitor, conv_id


def send(console, conv_id, body, **extra):
    return console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": body, "client_id": str(uuid.uuid4()), **extra},
    )


def test_assigned_manager_sees_the_conversation_and_others_do_not(
    app, live_server, manager_id, chat
):
    _, conv_id = chat
    mine = Console(live_server, manager_id).api("GET", "/conversations").json()["conversations"]
    assert [c["id"] for c in mine] == [conv_id]
    assert mine[0]["last_message_preview"] == "Do you ship to Lviv?"

    outsider = Console(live_server, make_staff(app, "Otto Outsider", ALL_PERMS))
    assert outsider.api("GET", "/conversations").json()["conversations"] == []
    r = outsider.api("GET", f"/conversations/{conv_id}")
    assert r.status_code == 403 and "not assigned" in r.json()["error"]
    assert outsider.api("POST", f"/conversations/{conv_id}/join").status_code == 403

    admin = Console(live_server, make_staff(app, "Ada Admin", "chats.admin"))
    assert [c["id"] for c in admin.api("GET", "/conversations").json()["conversations"]] == [
        conv_id
    ]


def test_join_posts_a_system_message_and_unlocks_replies(live_server, manager_id, chat):
    visitor, conv_id = chat
    console = Console(live_server, manager_id)
    r = send(console, conv_id, "Hi!")
    assert r.status_code == 403 and "Join" in r.json()["error"]

    assert console.api("POST", f"/conversations/{conv_id}/join").json()["joined"] is True
    assert (
        console.api("POST", f"/conversations/{conv_id}/join").json()["joined"] is False
    )  # no duplicate

    r = send(console, conv_id, "Yes, we do.")
    assert r.status_code == 201
    assert r.json()["message"]["author_name"] == "Mia Manager"

    seen = visitor.api("GET", "/conversation").json()["messages"]
    assert [(m["kind"], m["body"]) for m in seen] == [
        ("customer", "Do you ship to Lviv?"),
        ("system", "Mia Manager joined the chat"),
        ("manager", "Yes, we do."),
    ]
    assert seen[2]["author_name"] == "Mia Manager"

    console.api("POST", f"/conversations/{conv_id}/leave")
    assert (
        visitor.api("GET", "/conversation").json()["messages"][-1]["body"]
        == "Mia Manager left the chat"
    )
    assert send(console, conv_id, "still here?").status_code == 403


def test_two_managers_in_one_chat_each_signed(app, live_server, manager_id, chat):
    visitor, conv_id = chat
    source_id = None
    with app.app_context():
        from gincore_chats.models import Conversation

        source_id = app.extensions["gincore_chats"].session.get(Conversation, conv_id).source_id
    colleague_id = make_staff(app, "Colin Colleague", ALL_PERMS)
    with app.app_context():
        from gincore_chats.models import Source
        from gincore_chats.services import sources
        from gincore_chats.services.unit_of_work import unit_of_work

        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            sources.do_set_employees(
                state, state.session.get(Source, source_id), [manager_id, colleague_id]
            )
    mia, colin = Console(live_server, manager_id), Console(live_server, colleague_id)
    for c in (mia, colin):
        c.api("POST", f"/conversations/{conv_id}/join")
    send(mia, conv_id, "from Mia")
    send(colin, conv_id, "from Colin")
    detail = mia.api("GET", f"/conversations/{conv_id}").json()
    assert set(detail["conversation"]["managers"]) == {manager_id, colleague_id}
    signed = [
        (m["author_name"], m["body"])
        for m in visitor.api("GET", "/conversation").json()["messages"]
        if m["kind"] == "manager"
    ]
    assert signed == [("Mia Manager", "from Mia"), ("Colin Colleague", "from Colin")]


def test_edit_and_delete_only_own_messages(app, live_server, manager_id, chat):
    visitor, conv_id = chat
    colleague_id = make_staff(app, "Colin Colleague", ALL_PERMS + ",chats.admin")
    mia, colin = Console(live_server, manager_id), Console(live_server, colleague_id)
    for c in (mia, colin):
        c.api("POST", f"/conversations/{conv_id}/join")
    mid = send(mia, conv_id, "Prise is 10 EUR").json()["message"]["id"]

    r = colin.api("PATCH", f"/conversations/{conv_id}/messages/{mid}", {"body": "hacked"})
    assert r.status_code == 403 and "own" in r.json()["error"]
    assert colin.api("DELETE", f"/conversations/{conv_id}/messages/{mid}").status_code == 403

    r = mia.api("PATCH", f"/conversations/{conv_id}/messages/{mid}", {"body": "Price is 10 EUR"})
    assert r.status_code == 200 and r.json()["message"]["edited_at"]
    seen = {m["id"]: m for m in visitor.api("GET", "/conversation").json()["messages"]}
    assert seen[mid]["body"] == "Price is 10 EUR" and seen[mid]["edited_at"]

    customer_msg = next(m for m in seen.values() if m["kind"] == "customer")
    assert (
        mia.api("DELETE", f"/conversations/{conv_id}/messages/{customer_msg['id']}").status_code
        == 403
    )

    assert mia.api("DELETE", f"/conversations/{conv_id}/messages/{mid}").status_code == 200
    seen = {m["id"]: m for m in visitor.api("GET", "/conversation").json()["messages"]}
    assert seen[mid]["deleted"] is True and seen[mid]["body"] == ""
    with app.app_context():
        from gincore_chats.models import Message, MessageRevision

        session = app.extensions["gincore_chats"].session
        assert session.get(Message, mid).body == "Price is 10 EUR"  # kept for audit
        revisions = [
            r.body
            for r in session.query(MessageRevision)
            .filter_by(message_id=mid)
            .order_by(MessageRevision.id)
        ]
        assert revisions == ["Prise is 10 EUR", "Price is 10 EUR"]


@pytest.mark.parametrize(
    ("perms", "expected"),
    [
        # (permissions, {action: expected status})
        ("", {"list": 403, "detail": 403, "join": 403, "contact": 403}),
        ("chats.view", {"list": 200, "detail": 200, "join": 403, "contact": 403}),
        ("chats.view,chats.reply", {"list": 200, "detail": 200, "join": 200, "contact": 403}),
        ("chats.view,customers.edit", {"list": 200, "detail": 200, "join": 403, "contact": 200}),
    ],
)
def test_permission_matrix(app, live_server, chat, perms, expected):
    _, conv_id = chat
    user_id = make_staff(app, "Pat", perms)
    with app.app_context():
        from gincore_chats.models import Source
        from gincore_chats.services import sources
        from gincore_chats.services.unit_of_work import unit_of_work

        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = state.session.query(Source).one()
            sources.do_set_employees(state, source, [*source.employee_ids, user_id])
    console = Console(live_server, user_id)
    got = {
        "list": console.api("GET", "/conversations").status_code,
        "detail": console.api("GET", f"/conversations/{conv_id}").status_code,
        "join": console.api("POST", f"/conversations/{conv_id}/join").status_code,
        "contact": console.api(
            "PATCH", f"/conversations/{conv_id}/contact", {"name": "Jo"}
        ).status_code,
    }
    assert got == expected
    if "customers.view" not in perms:
        detail = console.api("GET", f"/conversations/{conv_id}")
        if detail.status_code == 200:
            assert "contact" not in detail.json() and "context" not in detail.json()


def test_login_and_csrf_are_required(live_server, manager_id, chat):
    _, conv_id = chat
    anonymous = requests.get(f"{live_server.url}/chats/console/api/conversations")
    assert anonymous.status_code == 401
    page = requests.get(f"{live_server.url}/chats/console", allow_redirects=False)
    assert page.status_code == 401
    console = Console(live_server, manager_id)
    r = console.http.post(f"{live_server.url}/chats/console/api/conversations/{conv_id}/join")
    assert r.status_code == 400 and "CSRF" in r.json()["error"]
    r = console.http.post(
        f"{live_server.url}/chats/console/api/conversations/{conv_id}/join",
        headers={"X-CSRF-Token": "wrong"},
    )
    assert r.status_code == 400


def test_list_is_keyset_paginated(app, live_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitors = [Visitor(live_server, key) for _ in range(5)]
    ids = [v.open().json()["conversation_id"] for v in visitors]
    console = Console(live_server, manager_id)

    def pages(filter_: str) -> list[int]:
        seen, cursor = [], None
        while True:
            q = f"/conversations?filter={filter_}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = console.api("GET", q).json()
            seen += [c["id"] for c in page["conversations"]]
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    # Nobody wrote yet: five visits, no work.
    assert pages("visits") == list(reversed(ids)) and pages("all") == []
    for visitor in visitors:
        assert visitor.send("Hello").status_code == 201
    assert pages("all") == list(reversed(ids)) and pages("visits") == []
    assert console.api("GET", "/conversations?cursor=garbage").status_code == 400


def test_manager_edits_customer_fields(live_server, manager_id, chat):
    visitor, conv_id = chat
    console = Console(live_server, manager_id)
    r = console.api(
        "PATCH",
        f"/conversations/{conv_id}/contact",
        {"name": "Olena", "email": "olena@example.com"},
    )
    assert r.status_code == 200 and r.json()["contact"]["name"] == "Olena"
    assert visitor.api("GET", "/conversation").json()["contact"]["name"] == "Olena"
    r = console.api("PATCH", f"/conversations/{conv_id}/contact", {"email": "not-an-email"})
    assert r.status_code == 400 and "email" in r.json()["error"]
