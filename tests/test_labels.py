"""Labels: admins define them on a settings page; managers put them on conversations in the
console; the list filters by them; reports count by them."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from .conftest import ALL_PERMS, Console, Visitor, create_source, make_staff


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def settings_url(live_server, path: str = "") -> str:
    return f"{live_server.url}/chats/settings/labels{path}"


def create_label(admin: Console, live_server, name: str, color: str) -> requests.Response:
    token = form_token(admin.http.get(settings_url(live_server)).text)
    return admin.http.post(
        settings_url(live_server),
        data={"csrf_token": token, "name": name, "color": color},
        allow_redirects=False,
    )


def label_ids(console: Console) -> dict[str, int]:
    return {lb["name"]: lb["id"] for lb in console.api("GET", "/labels").json()["labels"]}


@pytest.fixture
def chats(app, live_server, manager_id):
    """Two conversations with a customer message each, on a source the manager works on."""
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    ids = []
    for text in ("Where is my refund?", "Do you ship to Lviv?"):
        visitor = Visitor(live_server, key)
        ids.append(visitor.open().json()["conversation_id"])
        visitor.send(text)
    return key, ids


def test_admin_defines_labels_with_unique_names_and_valid_colours(live_server, admin_id):
    admin = Console(live_server, admin_id)
    r = create_label(admin, live_server, "  Billing  ", "#1D4ED8")
    assert r.status_code == 302
    assert admin.api("GET", "/labels").json()["labels"] == [
        {"id": label_ids(admin)["Billing"], "name": "Billing", "color": "#1d4ed8"}
    ]

    r = create_label(admin, live_server, "billing", "#00ff00")
    assert r.status_code == 400 and "already exists" in r.text
    assert 'value="billing"' in r.text  # what was typed is kept
    r = create_label(admin, live_server, "VIP", "red; background:url(x)")
    assert r.status_code == 400 and "hex colour" in r.text
    r = create_label(admin, live_server, "x" * 51, "#000000")
    assert r.status_code == 400 and "at most 50" in r.text
    r = create_label(admin, live_server, "   ", "#000000")
    assert r.status_code == 400 and "name" in r.text
    assert list(label_ids(admin)) == ["Billing"]

    r = create_label(admin, live_server, "<b>vip</b>", "#abc")
    assert r.status_code == 302
    page = admin.http.get(settings_url(live_server)).text
    assert "&lt;b&gt;vip&lt;/b&gt;" in page and "<b>vip</b>" not in page
    vip = label_ids(admin)["<b>vip</b>"]
    token = form_token(page)
    r = admin.http.post(
        settings_url(live_server, f"/{vip}"),
        data={"csrf_token": token, "name": "VIP", "color": "#aabbcc"},
        allow_redirects=False,
    )
    assert r.status_code == 302
    r = admin.http.post(
        settings_url(live_server, f"/{vip}"),
        data={"csrf_token": token, "name": "BILLING", "color": "#aabbcc"},
    )
    assert r.status_code == 400 and "already exists" in r.text
    assert sorted(label_ids(admin)) == ["Billing", "VIP"]


def test_label_settings_need_admin_and_csrf(live_server, admin_id, manager_id):
    manager = Console(live_server, manager_id)
    assert manager.http.get(settings_url(live_server)).status_code == 403
    r = manager.http.post(
        settings_url(live_server),
        data={"csrf_token": manager.csrf, "name": "X", "color": "#000000"},
    )
    assert r.status_code == 403
    admin = Console(live_server, admin_id)
    r = admin.http.post(settings_url(live_server), data={"name": "X", "color": "#000000"})
    assert r.status_code == 400 and "CSRF" in r.text
    assert label_ids(admin) == {}
    assert requests.get(settings_url(live_server), allow_redirects=False).status_code in (302, 401)


def test_managers_label_conversations_and_filter_the_list(live_server, admin_id, manager_id, chats):
    _, (refund, shipping) = chats
    admin = Console(live_server, admin_id)
    create_label(admin, live_server, "Billing", "#1d4ed8")
    create_label(admin, live_server, "Urgent", "#b91c1c")
    manager = Console(live_server, manager_id)
    ids = label_ids(manager)

    r = manager.api("POST", f"/conversations/{refund}/labels", {"label_id": ids["Billing"]})
    assert r.status_code == 200 and r.json()["added"] is True
    r = manager.api("POST", f"/conversations/{refund}/labels", {"label_id": ids["Billing"]})
    assert r.json()["added"] is False  # once only
    manager.api("POST", f"/conversations/{refund}/labels", {"label_id": ids["Urgent"]})
    r = manager.api("POST", f"/conversations/{shipping}/labels", {"label_id": ids["Urgent"]})
    assert [lb["name"] for lb in r.json()["labels"]] == ["Urgent"]

    def listed(query: str) -> list[int]:
        r = manager.api("GET", f"/conversations{query}")
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["conversations"]]

    assert listed(f"?label={ids['Billing']}") == [refund]
    assert sorted(listed(f"?label={ids['Urgent']}")) == sorted([refund, shipping])
    assert sorted(listed("")) == sorted([refund, shipping])
    assert manager.api("GET", "/conversations?label=abc").status_code == 400
    rows = {c["id"]: c for c in manager.api("GET", "/conversations").json()["conversations"]}
    assert [lb["name"] for lb in rows[refund]["labels"]] == ["Billing", "Urgent"]
    detail = manager.api("GET", f"/conversations/{refund}").json()
    assert [lb["name"] for lb in detail["conversation"]["labels"]] == ["Billing", "Urgent"]

    r = manager.api("DELETE", f"/conversations/{refund}/labels/{ids['Urgent']}")
    assert r.json() == {
        "removed": True,
        "labels": [{"id": ids["Billing"], "name": "Billing", "color": "#1d4ed8"}],
    }
    assert listed(f"?label={ids['Urgent']}") == [shipping]

    # Staff see the change in the conversation's events; the visitor never does.
    events = manager.api("GET", f"/conversations/{refund}/events").json()["events"]
    changes = [e for e in events if e["event"] == "conversation.labels"]
    assert len(changes) == 3 and all(e["staff_only"] for e in changes)
    assert [lb["name"] for lb in changes[-1]["data"]["labels"]] == ["Billing"]


def test_label_changes_need_reply_rights_and_source_access(
    app, live_server, admin_id, manager_id, chats
):
    _, (refund, _) = chats
    admin = Console(live_server, admin_id)
    create_label(admin, live_server, "Billing", "#1d4ed8")
    billing = label_ids(admin)["Billing"]
    viewer = Console(live_server, make_staff(app, "Vic Viewer", "chats.view"))
    r = viewer.api("POST", f"/conversations/{refund}/labels", {"label_id": billing})
    assert r.status_code == 403
    outsider = Console(live_server, make_staff(app, "Otto Outsider", ALL_PERMS))
    r = outsider.api("POST", f"/conversations/{refund}/labels", {"label_id": billing})
    assert r.status_code == 403 and "not assigned" in r.json()["error"]
    manager = Console(live_server, manager_id)
    r = manager.http.post(
        f"{live_server.url}/chats/console/api/conversations/{refund}/labels",
        json={"label_id": billing},
    )
    assert r.status_code == 400 and "CSRF" in r.json()["error"]
    r = manager.api("POST", f"/conversations/{refund}/labels", {"label_id": 999999})
    assert r.status_code == 404
    r = manager.api("POST", f"/conversations/{refund}/labels", {"label_id": "x"})
    assert r.status_code == 400
    events = manager.api("GET", f"/conversations/{refund}/events").json()["events"]
    assert not [e for e in events if e["event"] == "conversation.labels"]


def test_deleting_a_label_takes_it_off_conversations_and_reports_count_by_label(
    app, live_server, admin_id, manager_id, chats
):
    from gincore_chats.services.labels import grouping

    _, (refund, shipping) = chats
    admin = Console(live_server, admin_id)
    for name in ("Billing", "Urgent", "Unused"):
        create_label(admin, live_server, name, "#123456")
    ids = label_ids(admin)
    manager = Console(live_server, manager_id)
    for conv, name in ((refund, "Billing"), (refund, "Urgent"), (shipping, "Urgent")):
        manager.api("POST", f"/conversations/{conv}/labels", {"label_id": ids[name]})

    with app.app_context():
        counts = grouping.conversation_counts(app.extensions["gincore_chats"])
    assert [(c.name, c.conversations) for c in counts] == [
        ("Billing", 1),
        ("Unused", 0),
        ("Urgent", 2),
    ]

    page = admin.http.get(settings_url(live_server)).text
    r = admin.http.post(
        settings_url(live_server, f"/{ids['Urgent']}/delete"),
        data={"csrf_token": form_token(page)},
        allow_redirects=False,
    )
    assert r.status_code == 302
    rows = {c["id"]: c for c in manager.api("GET", "/conversations").json()["conversations"]}
    assert [lb["name"] for lb in rows[refund]["labels"]] == ["Billing"]
    assert rows[shipping]["labels"] == []


def test_a_new_message_keeps_the_list_rows_labels_live(app, live_server, admin_id, manager_id):
    """The message statement returns the labels with the row it updates (no extra query):
    the live list row after a visitor's message and after a reply still carries them."""
    from .test_realtime import console_socket, frames_until

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    cid = visitor.open().json()["conversation_id"]
    visitor.send("first")
    admin = Console(live_server, admin_id)
    create_label(admin, live_server, "Urgent", "#b91c1c")
    create_label(admin, live_server, "Billing", "#1d4ed8")
    manager = Console(live_server, manager_id)
    ids = label_ids(manager)
    for name in ("Urgent", "Billing"):
        manager.api("POST", f"/conversations/{cid}/labels", {"label_id": ids[name]})
    assert manager.api("POST", f"/conversations/{cid}/join").status_code == 200
    ws = console_socket(live_server, manager)
    try:
        visitor.send("still waiting")
        row = frames_until(ws, lambda f: f["type"] == "conversation")[-1]["conversation"]
        assert row["last_message_preview"] == "still waiting"
        assert row["labels"] == [
            {"id": ids["Billing"], "name": "Billing", "color": "#1d4ed8"},
            {"id": ids["Urgent"], "name": "Urgent", "color": "#b91c1c"},
        ]
        reply = {"body": "on it", "client_id": str(uuid.uuid4())}
        assert manager.api("POST", f"/conversations/{cid}/messages", reply).status_code == 201
        row = frames_until(
            ws,
            lambda f: (
                f["type"] == "conversation" and f["conversation"]["last_message_preview"] == "on it"
            ),
        )[-1]["conversation"]
        assert [lb["name"] for lb in row["labels"]] == ["Billing", "Urgent"]
    finally:
        ws.close()
