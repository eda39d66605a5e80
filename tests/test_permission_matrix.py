"""The permission matrix: every console route and every console socket action, for each set of
permissions, assigned to the conversation's source or not.

Rows are roles, columns are actions; each cell is the expected answer. A refused action must
say why (the permission it needs, the missing assignment, or the ownership rule). A new console
route fails ``test_matrix_covers_every_console_route`` until it gets a column here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import ALL_PERMS, Console, Visitor, create_source, make_staff
from .test_realtime import console_socket, frames_until

ADMIN = "chats.admin"

#: name: (permissions, assigned to the source)
ROLES: dict[str, tuple[str, bool]] = {
    "nothing": ("", True),
    "view": ("chats.view", True),
    "reply": ("chats.view,chats.reply", True),
    "customers": ("chats.view,customers.view", True),
    "editor": ("chats.view,customers.edit", True),
    "agent": (ALL_PERMS, True),
    "admin": (ADMIN, False),
    "admin_agent": (f"{ALL_PERMS},{ADMIN}", False),
    "outsider": (ALL_PERMS, False),
}

VIEWERS = {"view", "reply", "customers", "editor", "agent", "admin", "admin_agent", "outsider"}
SEE_CONV = VIEWERS - {"outsider"}  # chats.view (or admin) and the source (or admin)
REPLIERS = {"reply", "agent", "admin_agent"}
CUSTOMER_VIEWERS = {"customers", "agent", "admin", "admin_agent"}
CUSTOMER_EDITORS = {"editor", "agent", "admin_agent"}


def expected(ok: set[str], code: int = 200, refused: int = 403) -> dict[str, int]:
    return {role: code if role in ok else refused for role in ROLES}


# (action, method, path, body, expected status per role). {c}: the conversation, {own}: a
# message the role wrote itself (or, if it cannot write, the agent's), {other}: the agent's.
ACTIONS: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("page", "GET", "/chats/console", None, expected(VIEWERS)),
    ("me", "GET", "/chats/console/api/me", None, expected(set(ROLES))),
    ("list", "GET", "/chats/console/api/conversations", None, expected(VIEWERS)),
    ("unread", "GET", "/chats/console/api/unread?ids={c}", None, expected(VIEWERS)),
    ("detail", "GET", "/chats/console/api/conversations/{c}", None, expected(SEE_CONV)),
    ("events", "GET", "/chats/console/api/conversations/{c}/events", None, expected(SEE_CONV)),
    ("join", "POST", "/chats/console/api/conversations/{c}/join", None, expected(REPLIERS)),
    (
        "send",
        "POST",
        "/chats/console/api/conversations/{c}/messages",
        "reply",
        expected(REPLIERS, 201),
    ),
    (
        "note",
        "POST",
        "/chats/console/api/conversations/{c}/messages",
        "note",
        expected(REPLIERS, 201),
    ),
    (
        "edit_own",
        "PATCH",
        "/chats/console/api/conversations/{c}/messages/{own}",
        {"body": "edited"},
        expected(REPLIERS),
    ),
    (
        "edit_other",
        "PATCH",
        "/chats/console/api/conversations/{c}/messages/{other}",
        {"body": "hijack"},
        expected(set()),
    ),
    (
        "delete_other",
        "DELETE",
        "/chats/console/api/conversations/{c}/messages/{other}",
        None,
        expected(set()),
    ),
    (
        "retry",  # a reply that did not fail: allowed to ask, refused as input (400)
        "POST",
        "/chats/console/api/conversations/{c}/messages/{own}/retry",
        None,
        expected(REPLIERS, 400),
    ),
    (
        "delete_own",
        "DELETE",
        "/chats/console/api/conversations/{c}/messages/{own}",
        None,
        expected(REPLIERS),
    ),
    (
        "draft",
        "PUT",
        "/chats/console/api/conversations/{c}/draft",
        {"body": "d"},
        expected(REPLIERS),
    ),
    (
        "status",
        "POST",
        "/chats/console/api/conversations/{c}/status",
        {"status": "open"},
        expected(REPLIERS),
    ),
    ("read", "POST", "/chats/console/api/conversations/{c}/read", None, expected(SEE_CONV)),
    (
        "mark_unread",
        "POST",
        "/chats/console/api/conversations/{c}/unread",
        None,
        expected(SEE_CONV),
    ),
    (
        "contact",
        "PATCH",
        "/chats/console/api/conversations/{c}/contact",
        {"phone": "+1 555 0100"},
        expected(CUSTOMER_EDITORS),
    ),
    (
        "customer_note",
        "POST",
        "/chats/console/api/conversations/{c}/notes",
        {"body": "internal"},
        expected(CUSTOMER_EDITORS, 201),
    ),
    # Contacts: the search finds nothing for a manager of other sources (it is not refused);
    # a merge of the contact with itself gets past every check and is refused as input (400);
    # an unknown merge or suggestion is 404 once the permission is there (source access is
    # checked on the merge's contact, so an unassigned manager also just finds nothing).
    (
        "contact_search",
        "GET",
        "/chats/console/api/contacts?q=a",
        None,
        expected(CUSTOMER_VIEWERS | {"outsider"}),
    ),
    (
        "contact_page",
        "GET",
        "/chats/console/api/contacts/{contact}",
        None,
        expected(CUSTOMER_VIEWERS),
    ),
    (
        "contact_merge",
        "POST",
        "/chats/console/api/contacts/{contact}/merge",
        "merge_self",
        expected(CUSTOMER_EDITORS, 400),
    ),
    (
        "merge_undo",
        "POST",
        "/chats/console/api/merges/999999/undo",
        None,
        expected(CUSTOMER_EDITORS | {"outsider"}, 404),
    ),
    (
        "suggestion_dismiss",
        "POST",
        "/chats/console/api/merge-suggestions/999999/dismiss",
        None,
        expected(CUSTOMER_EDITORS | {"outsider"}, 404),
    ),
    ("presence", "GET", "/chats/console/api/presence", None, expected(VIEWERS)),
    (
        "set_presence",
        "POST",
        "/chats/console/api/presence",
        {"status": "online"},
        expected(VIEWERS),
    ),
    # The source is humans only and the app has no AI provider: repliers get past the checks
    # and are told why (400); everyone else is refused first.
    (
        "ai_hand_back",
        "POST",
        "/chats/console/api/conversations/{c}/ai/hand-back",
        None,
        expected(REPLIERS, 400),
    ),
    (
        "ai_draft",
        "POST",
        "/chats/console/api/conversations/{c}/ai/draft",
        None,
        expected(REPLIERS, 400),
    ),
    ("leave", "POST", "/chats/console/api/conversations/{c}/leave", None, expected(SEE_CONV)),
    ("notifications", "GET", "/chats/console/api/notifications", None, expected(VIEWERS)),
    ("settings", "GET", "/chats/settings", None, expected({"admin", "admin_agent"})),
    ("labels", "GET", "/chats/console/api/labels", None, expected(VIEWERS)),
    # No such label: repliers get past the checks and are told so (404).
    (
        "add_label",
        "POST",
        "/chats/console/api/conversations/{c}/labels",
        {"label_id": 999999},
        expected(REPLIERS, 404),
    ),
    (
        "remove_label",
        "DELETE",
        "/chats/console/api/conversations/{c}/labels/999999",
        None,
        expected(REPLIERS),
    ),
    ("canned_for", "GET", "/chats/console/api/conversations/{c}/canned", None, expected(SEE_CONV)),
    ("canned_list", "GET", "/chats/console/api/canned", None, expected(VIEWERS)),
    (
        "canned_create",
        "POST",
        "/chats/console/api/canned",
        {"shortcut": "mine", "text": "My reply"},
        expected(VIEWERS, 201),
    ),
    # Nobody sees a reply that does not exist (or is another manager's): 404 past the checks.
    (
        "canned_update",
        "PATCH",
        "/chats/console/api/canned/999999",
        {"shortcut": "x", "text": "y"},
        expected(VIEWERS, 404),
    ),
    ("canned_delete", "DELETE", "/chats/console/api/canned/999999", None, expected(VIEWERS, 404)),
    ("replies_page", "GET", "/chats/console/replies", None, expected(VIEWERS)),
    # A JSON body is no form: an empty reply, refused as input.
    ("replies_create", "POST", "/chats/console/replies", {}, expected(VIEWERS, 400)),
    ("replies_save", "POST", "/chats/console/replies/999999", {}, expected(VIEWERS, 404)),
    (
        "replies_delete",
        "POST",
        "/chats/console/replies/999999/delete",
        None,
        expected(VIEWERS, 404),
    ),
    # Reports: every manager (their own figures), admins (everyone's).
    ("reports_page", "GET", "/chats/console/reports", None, expected(VIEWERS)),
    ("reports", "GET", "/chats/console/api/reports", None, expected(VIEWERS)),
    ("reports_csv", "GET", "/chats/console/api/reports/daily.csv", None, expected(VIEWERS)),
    # GDPR export and erase need customers.edit and chats.admin (last: the erase is for ever).
    (
        "export_contact",
        "POST",
        "/chats/console/api/contacts/{contact}/export",
        None,
        expected({"admin_agent"}),
    ),
    (
        "erase_contact",
        "POST",
        "/chats/console/api/contacts/{contact}/erase",
        {"confirm": True},
        expected({"admin_agent"}),
    ),
]

#: Console blueprint endpoints and the matrix action covering each (the socket: its own test).
COVERED = {
    "page": "page",
    "reports_page": "reports_page",
    "report_data": "reports",
    "report_csv": "reports_csv",
    "me": "me",
    "list_conversations": "list",
    "unread": "unread",
    "get_conversation": "detail",
    "get_events": "events",
    "join": "join",
    "leave": "leave",
    "send": "send",
    "edit": "edit_own",
    "delete": "delete_own",
    "retry_send": "retry",
    "edit_contact": "contact",
    "add_note": "customer_note",
    "set_status": "status",
    "mark_read": "read",
    "mark_unread": "mark_unread",
    "save_draft": "draft",
    "hand_back": "ai_hand_back",
    "request_draft": "ai_draft",
    "get_presence": "presence",
    "search_contacts": "contact_search",
    "get_contact": "contact_page",
    "merge_contacts": "contact_merge",
    "undo_merge": "merge_undo",
    "dismiss_suggestion": "suggestion_dismiss",
    "set_presence": "set_presence",
    "list_labels": "labels",
    "add_label": "add_label",
    "remove_label": "remove_label",
    "for_conversation": "canned_for",
    "list_replies": "canned_list",
    "create_reply": "canned_create",
    "update_reply": "canned_update",
    "delete_reply": "canned_delete",
    "replies_page": "replies_page",
    "save_new_reply": "replies_create",
    "save_reply": "replies_save",
    "remove_reply": "replies_delete",
    "console_socket": "socket",
    "static": "static",
    "export_contact": "export_contact",
    "erase_contact": "erase_contact",
}


@pytest.fixture
def world(app: Any, live_server: Any, manager_id: str) -> dict[str, Any]:
    """One conversation (a visitor message and a reply by the assigned agent ``manager_id``),
    and a logged-in console per role."""
    users = {role: make_staff(app, f"Role {role}", perms) for role, (perms, _) in ROLES.items()}
    assigned = [manager_id] + [users[r] for r, (_, on) in ROLES.items() if on]
    _, key = create_source(app, ["shop.example.com"], assigned)
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    visitor.send("Hello?")
    agent = Console(live_server, manager_id)
    agent.api("POST", f"/conversations/{conv_id}/join")
    other = agent.api(
        "POST", f"/conversations/{conv_id}/messages", {"body": "hi", "client_id": str(uuid.uuid4())}
    ).json()["message"]["id"]
    consoles = {role: Console(live_server, uid) for role, uid in users.items()}
    contact = agent.api("GET", f"/conversations/{conv_id}").json()["contact"]["id"]
    return {
        "contact": contact,
        "visitor": visitor,
        "conv": conv_id,
        "other": other,
        "consoles": consoles,
        "users": users,
    }


def call(console: Console, method: str, path: str, body: Any, ids: dict[str, Any]) -> Any:
    url = console.server.url + path.format(**ids)
    if body in ("reply", "note"):
        body = {"body": f"{body} text", "client_id": str(uuid.uuid4()), "note": body == "note"}
    elif body == "merge_self":
        body = {"other_id": ids["contact"]}
    return console.http.request(method, url, json=body, headers={"X-CSRF-Token": console.csrf})


def explains_refusal(response: Any) -> bool:
    """A 403 says what is missing: a permission, the assignment, or the ownership rule."""
    try:
        data = response.json()
    except ValueError:
        text = response.text
        return "chats.view" in text or "chats.admin" in text
    message = data.get("error") or ""
    return bool(message) and (
        bool(data.get("permission"))
        or "permission" in message
        or "assigned" in message
        or "own" in message
    )


def test_http_matrix(world: dict[str, Any]) -> None:
    problems = []
    for role, console in world["consoles"].items():
        ids = {
            "c": world["conv"],
            "other": world["other"],
            "own": world["other"],
            "contact": world["contact"],
        }
        for action, method, path, body, want in ACTIONS:
            r = call(console, method, path, body, ids)
            if action in ("send", "note") and r.status_code == 201:
                ids["own"] = r.json()["message"]["id"]
            got = r.status_code
            if got != want[role]:
                problems.append(
                    f"{role:12} {action:14} expected {want[role]}, got {got}: {r.text[:120]}"
                )
            elif got == 403 and not explains_refusal(r):
                problems.append(f"{role:12} {action:14} 403 without a reason: {r.text[:120]}")
    assert not problems, "\n" + "\n".join(problems)


def test_customer_details_follow_customers_view(world: dict[str, Any]) -> None:
    conv = world["conv"]
    world["visitor"].api("PATCH", "/contact", {"name": "Olena", "email": "olena@example.com"})
    for role, console in world["consoles"].items():
        if role not in SEE_CONV:
            continue
        detail = console.api("GET", f"/conversations/{conv}").json()
        listing = json.dumps(console.api("GET", "/conversations").json())
        sees = role in CUSTOMER_VIEWERS
        assert ("contact" in detail) is sees, role
        assert ("olena@example.com" in listing) is sees, role
        assert detail["conversation"]["contact"]["name"] == "Olena", role
    # customers.edit alone may change fields, but the answer does not reveal them.
    edited = world["consoles"]["editor"].api(
        "PATCH", f"/conversations/{conv}/contact", {"name": "Olena P."}
    )
    assert edited.status_code == 200
    assert edited.json()["contact"] == {"id": edited.json()["contact"]["id"], "name": "Olena P."}


def test_socket_matrix(app: Any, live_server: Any, world: dict[str, Any]) -> None:
    conv = world["conv"]
    sockets = {}
    for role, console in world["consoles"].items():
        if role not in VIEWERS:
            with pytest.raises(ConnectionClosed) as refused:
                ws = console_socket(live_server, console)
                ws.recv(timeout=5)
            assert refused.value.rcvd is not None and refused.value.rcvd.code == 1008
            continue
        if role in REPLIERS:
            console.api("POST", f"/conversations/{conv}/join")
        sockets[role] = console_socket(live_server, console)

    def answers(ws: Any, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Everything the op produced, up to the pong of a ping sent right after it."""
        ws.send(json.dumps(frame))
        ws.send(json.dumps({"op": "ping"}))
        return frames_until(ws, lambda f: f["type"] == "pong")

    problems = []
    for role, ws in sockets.items():
        checks = {
            "sync": ({"op": "sync", "conversation_id": conv, "after": 0}, role in SEE_CONV),
            "viewing": (
                {"op": "viewing", "conversation_id": conv, "active": True},
                role in SEE_CONV,
            ),
            "typing": ({"op": "typing", "conversation_id": conv, "active": True}, role in REPLIERS),
            "unfollow": ({"op": "unfollow", "conversation_id": conv}, True),
            "bogus": ({"op": "bogus"}, False),
        }
        for name, (frame, allowed) in checks.items():
            got = answers(ws, frame)
            errors = [f for f in got if f["type"] == "error"]
            if allowed and errors:
                problems.append(f"{role} {name}: refused {errors}")
            if not allowed and not errors:
                problems.append(f"{role} {name}: allowed")
            if (
                errors
                and name != "bogus"
                and not any(k in errors[0]["message"] for k in ("permission", "assigned", "Join"))
            ):
                problems.append(f"{role} {name}: unclear refusal {errors[0]['message']!r}")
            if name == "sync" and allowed and not any(f["type"] == "synced" for f in got):
                problems.append(f"{role} sync: no synced frame")
    assert not problems, "\n" + "\n".join(problems)

    # Live list rows go to managers of the source and admins, never to outsiders. The hub hands
    # one publish to every local socket at once, so once the others have it, so would he.
    world["visitor"].send("Anyone there?")
    for role, ws in sockets.items():
        if role != "outsider":
            frames_until(ws, lambda f: f["type"] == "conversation")
    assert not any(
        f["type"] == "conversation" for f in answers(sockets["outsider"], {"op": "ping"})
    )
    for ws in sockets.values():
        ws.close()


def test_matrix_covers_every_console_route(app: Any) -> None:
    endpoints = {
        rule.endpoint.split(".", 1)[1]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("gincore_chats_console.")
    }
    missing = endpoints - set(COVERED)
    assert not missing, f"console routes missing from the permission matrix: {sorted(missing)}"
    assert {a for a, *_ in ACTIONS} >= {
        v for v in COVERED.values() if v not in ("socket", "static")
    }
