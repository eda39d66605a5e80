"""The permission matrix over the REST API, like the console's: for each role (the user's
permissions, the token's scopes, assigned to the source or not) every operation answers as the
console would. A token never reads what its user could not; narrowing its scopes or the user's
permissions narrows it at once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ..conftest import ALL_PERMS, Console, Visitor, create_source, make_staff
from .conftest import Client, make_token

ADMIN = "chats.admin"

#: name: (user's permissions, token's scopes (None: all of them), assigned to the source)
ROLES: dict[str, tuple[str, str | None, bool]] = {
    "view": ("chats.view", None, True),
    "reply": ("chats.view,chats.reply", None, True),
    "customers": ("chats.view,customers.view", None, True),
    "editor": ("chats.view,customers.edit", None, True),
    "agent": (ALL_PERMS, None, True),
    "agent_view_token": (ALL_PERMS, "chats.view", True),  # the token narrows the agent
    "admin": (ADMIN, None, False),
    "admin_agent": (f"{ALL_PERMS},{ADMIN}", None, False),
    "admin_reply_token": (f"{ALL_PERMS},{ADMIN}", "chats.view,chats.reply", False),
    "outsider": (ALL_PERMS, None, False),
}

VIEWERS = set(ROLES)
SEE_CONV = VIEWERS - {"outsider", "admin_reply_token"}  # admin_reply_token: not assigned
REPLIERS = {"reply", "agent", "admin_agent"}
CUSTOMER_VIEWERS = {"customers", "agent", "admin", "admin_agent"}
CUSTOMER_EDITORS = {"editor", "agent", "admin_agent"}
ADMINS = {"admin", "admin_agent"}


def expected(ok: set[str], code: int = 200, refused: int = 403) -> dict[str, int]:
    return {role: code if role in ok else refused for role in ROLES}


# (action, method, path, body, expected per role); run in this order per role.
ACTIONS: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("me", "GET", "/me", None, expected(set(ROLES))),
    ("sources", "GET", "/sources", None, expected(VIEWERS)),
    ("list", "GET", "/conversations", None, expected(VIEWERS)),
    ("get", "GET", "/conversations/{c}", None, expected(SEE_CONV)),
    ("messages", "GET", "/conversations/{c}/messages", None, expected(SEE_CONV)),
    ("join", "POST", "/conversations/{c}/join", None, expected(REPLIERS)),
    ("send", "POST", "/conversations/{c}/messages", "reply", expected(REPLIERS, 201)),
    ("note", "POST", "/conversations/{c}/messages", "note", expected(REPLIERS, 201)),
    ("edit_own", "PATCH", "/conversations/{c}/messages/{own}", {"body": "e"}, expected(REPLIERS)),
    ("edit_other", "PATCH", "/conversations/{c}/messages/{other}", {"body": "x"}, expected(set())),
    ("delete_other", "DELETE", "/conversations/{c}/messages/{other}", None, expected(set())),
    ("delete_own", "DELETE", "/conversations/{c}/messages/{own}", None, expected(REPLIERS)),
    ("close", "POST", "/conversations/{c}/close", None, expected(REPLIERS)),
    ("reopen", "POST", "/conversations/{c}/reopen", None, expected(REPLIERS)),
    ("leave", "POST", "/conversations/{c}/leave", None, expected(SEE_CONV)),
    ("contacts", "GET", "/contacts", None, expected(CUSTOMER_VIEWERS | {"outsider"})),
    ("contact", "GET", "/contacts/{contact}", None, expected(CUSTOMER_VIEWERS)),
    (
        "edit_contact",
        "PATCH",
        "/contacts/{contact}",
        {"phone": "+1 555"},
        expected(CUSTOMER_EDITORS),
    ),
    ("kb", "GET", "/kb/entries", None, expected(VIEWERS)),
    (
        "kb_create",
        "POST",
        "/kb/entries",
        {"language": "en", "question": "Can {role} pay by card?"},
        expected(ADMINS, 201),
    ),
    ("webhooks", "GET", "/webhooks", None, expected(ADMINS)),
]


@pytest.fixture
def world(app: Any, pro_server: Any, manager_id: str) -> dict[str, Any]:
    users = {
        role: make_staff(app, f"Role {role}", perms) for role, (perms, _s, _a) in ROLES.items()
    }
    assigned = [manager_id] + [users[r] for r, (_p, _s, on) in ROLES.items() if on]
    _, key = create_source(app, ["shop.example.com"], assigned)
    visitor = Visitor(pro_server, key)
    conv = visitor.open().json()["conversation_id"]
    visitor.send("Hello?")
    agent = Client(pro_server, make_token(app, manager_id))
    agent.post(f"/conversations/{conv}/join")
    other = agent.post(f"/conversations/{conv}/messages", json={"body": "hi"}).json()
    contact = agent.get(f"/conversations/{conv}").json()["contact"]["id"]
    agent("PATCH", f"/contacts/{contact}", json={"email": "olena@example.com"})
    clients = {
        role: Client(
            pro_server,
            make_token(app, users[role], scopes.split(",") if scopes else None),
        )
        for role, (_p, scopes, _a) in ROLES.items()
    }
    return {
        "conv": conv,
        "other": other["message"]["id"],
        "contact": contact,
        "clients": clients,
        "users": users,
        "agent_id": manager_id,
    }


def test_api_matrix(world: dict[str, Any]) -> None:
    mismatches = []
    for role, client in world["clients"].items():
        ids = {"c": world["conv"], "other": world["other"], "contact": world["contact"]}
        ids["own"] = world["other"]
        for action, method, path, body, wanted in ACTIONS:
            payload = body
            if body in ("reply", "note"):
                payload = {"body": f"{body} by {role}", "note": body == "note"}
            elif isinstance(body, dict):
                payload = {k: v.format(role=role) for k, v in body.items()}
            r = client(method, path.format(**ids), json=payload)
            if action == "send" and r.status_code == 201:
                ids["own"] = r.json()["message"]["id"]
            if r.status_code != wanted[role]:
                mismatches.append(f"{role} {action}: {r.status_code} (wanted {wanted[role]})")
            elif r.status_code == 403:
                problem = r.json()
                assert r.headers["Content-Type"] == "application/problem+json"
                assert (
                    problem.get("permission")
                    or "assigned" in problem["detail"]
                    or "own" in (problem["detail"])
                ), (role, action, problem)
    assert not mismatches, "\n".join(mismatches)


def test_a_token_sees_what_its_user_sees_in_the_console(
    app: Any, pro_server: Any, world: dict[str, Any]
) -> None:
    for role in ("view", "customers", "agent", "outsider", "admin"):
        console = Console(pro_server, world["users"][role])
        in_console = console.api("GET", "/conversations").json()["conversations"]
        in_api = world["clients"][role].get("/conversations").json()["items"]
        assert [c["id"] for c in in_api] == [c["id"] for c in in_console], role
        for seen_console, seen_api in zip(in_console, in_api, strict=True):
            assert seen_api["contact"].get("email") == seen_console["contact"].get("email"), role
    # Outsiders with customers.view find no contact of a source they do not work on.
    assert world["clients"]["outsider"].get("/contacts").json()["items"] == []
    found = world["clients"]["agent"].get("/contacts", params={"email": "olena@example.com"})
    assert [c["id"] for c in found.json()["items"]] == [world["contact"]]
    redacted = world["clients"]["view"].get(f"/conversations/{world['conv']}").json()["contact"]
    assert redacted["redacted"] is True and redacted["email"] is None


def test_narrowing_the_user_narrows_the_token_at_once(app: Any, world: dict[str, Any]) -> None:
    from .. import hostapp

    client = world["clients"]["agent"]
    assert client.post(f"/conversations/{world['conv']}/join").status_code == 200
    with app.app_context():
        user = hostapp.db.session.get(hostapp.Staff, world["users"]["agent"])
        user.perms = "chats.view"
        hostapp.db.session.commit()
    r = client.post(f"/conversations/{world['conv']}/messages", json={"body": str(uuid.uuid4())})
    assert r.status_code == 403 and r.json()["permission"] == "chats.reply"
    assert client.get("/me").json()["permissions"] == ["chats.view"]
    with app.app_context():
        hostapp.db.session.delete(hostapp.db.session.get(hostapp.Staff, world["users"]["agent"]))
        hostapp.db.session.commit()
    assert client.get("/me").status_code == 401
