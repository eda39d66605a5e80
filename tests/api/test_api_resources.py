"""The REST API through HTTP: each resource, pagination, problem details, plan, tokens,
idempotency and the rate limit."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image

from gincore_chats.models import utcnow

from ..conftest import ALL_PERMS, Console, Visitor, create_source, make_staff
from .conftest import API, Client, make_token

PROBLEM = "application/problem+json"


def problem(r: requests.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == PROBLEM
    body = r.json()
    assert body["type"] == f"tag:gincore-chats,2026:problem/{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.fixture
def shop(app: Any, pro_server: Any, manager_id: str) -> dict[str, Any]:
    source_id, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(pro_server, key)
    cid = visitor.open().json()["conversation_id"]
    assert visitor.send("Where is my order?").status_code == 201
    return {"source_id": source_id, "key": key, "visitor": visitor, "cid": cid}


def test_free_plan_answers_every_route_with_pro_required(app, live_server, manager_id):
    token = make_token(app, manager_id)
    for method, path in [("GET", "/me"), ("GET", "/openapi.json"), ("POST", "/nothing")]:
        r = requests.request(
            method, f"{live_server.url}{API}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        body = problem(r, 403, "pro-plan-required")
        assert "Pro plan" in body["title"]


def test_tokens_authenticate_and_fail_clearly(app, pro_server, manager_id):
    assert problem(Client(pro_server, None).get("/me"), 401, "unauthorized")
    r = Client(pro_server, "gcc_" + "x" * 43).get("/me")
    problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    expired = make_token(app, manager_id, expires_at=utcnow() + timedelta(seconds=1))
    from gincore_chats.models import ApiToken

    with app.app_context():
        state = app.extensions["gincore_chats"]
        row = state.session.query(ApiToken).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        state.session.commit()
    problem(Client(pro_server, expired).get("/me"), 401, "unauthorized")

    token = make_token(app, manager_id, ["chats.view"], name="CRM sync")
    me = Client(pro_server, token).get("/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["manager_id"] == manager_id and body["name"] == "Mia Manager"
    assert body["permissions"] == ["chats.view"] and body["token_name"] == "CRM sync"
    assert token.startswith(body["token_prefix"])
    with app.app_context():
        state = app.extensions["gincore_chats"]
        used = [t.last_used_at for t in state.session.query(ApiToken).filter_by(name="CRM sync")]
        assert used[0] is not None  # last use recorded

    from gincore_chats.services.api import tokens as api_tokens
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context(), unit_of_work(state.session):
        api_tokens.do_revoke(state, state.session.query(ApiToken).filter_by(name="CRM sync").one())
    problem(Client(pro_server, token).get("/me"), 401, "unauthorized")


def test_token_scopes_cannot_exceed_the_user(app, manager_id):
    with pytest.raises(ValueError, match=r"lacks chats\.admin"):
        make_token(app, manager_id, ["chats.view", "chats.admin"])
    with pytest.raises(ValueError, match="Unknown scope"):
        make_token(app, manager_id, ["chats.everything"])


def test_conversations_list_get_join_send_close_reopen(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    listing = api.get("/conversations")
    assert listing.status_code == 200, listing.text
    [row] = listing.json()["items"]
    assert row["id"] == shop["cid"] and row["unread"] == 1 and row["status"] == "open"
    assert listing.json()["next_cursor"] is None
    cid = shop["cid"]
    assert api.get(f"/conversations/{cid}").json()["last_message_preview"] == "Where is my order?"

    refused = api.post(f"/conversations/{cid}/messages", json={"body": "Hello"})
    assert "Join the conversation" in problem(refused, 403, "forbidden")["detail"]
    joined = api.post(f"/conversations/{cid}/join")
    assert [m["name"] for m in joined.json()["managers"]] == ["Mia Manager"]
    sent = api.post(f"/conversations/{cid}/messages", json={"body": "It ships today."})
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    assert message["author_name"] == "Mia Manager" and message["kind"] == "manager"
    # The visitor gets it like any reply.
    history = shop["visitor"].api("GET", "/conversation").json()["messages"]
    assert history[-1]["body"] == "It ships today."

    note = api.post(f"/conversations/{cid}/messages", json={"body": "VIP", "note": True})
    assert note.json()["message"]["kind"] == "note"
    assert all(
        m["body"] != "VIP" for m in shop["visitor"].api("GET", "/conversation").json()["messages"]
    )

    mid = message["id"]
    edited = api("PATCH", f"/conversations/{cid}/messages/{mid}", json={"body": "Ships tomorrow."})
    assert edited.json()["body"] == "Ships tomorrow." and edited.json()["edited_at"]
    deleted = api("DELETE", f"/conversations/{cid}/messages/{mid}")
    assert deleted.json()["deleted"] is True and deleted.json()["body"] == ""
    problem(
        api("PATCH", f"/conversations/{cid}/messages/999999", json={"body": "x"}), 404, "not-found"
    )

    assert api.post(f"/conversations/{cid}/close").json()["status"] == "closed"
    assert api.get("/conversations", params={"status": "open"}).json()["items"] == []
    assert api.post(f"/conversations/{cid}/reopen").json()["status"] == "open"
    assert api.post(f"/conversations/{cid}/leave").json()["managers"] == []

    kinds = [m["kind"] for m in api.get(f"/conversations/{cid}/messages").json()["items"]]
    assert kinds == ["customer", "system", "manager", "note", "system"]


def test_keyset_pages_are_stable_under_inserts(app, pro_server, manager_id):
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    ids = []
    for _ in range(5):
        v = Visitor(pro_server, key)
        ids.append(v.open().json()["conversation_id"])
        v.send("hi")
        v.send("there")
    api = Client(pro_server, make_token(app, manager_id))
    first = api.get("/conversations", params={"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    # A new conversation arrives between pages: the next page neither repeats nor skips.
    late = Visitor(pro_server, key)
    late.open()
    late.send("me too")
    second = api.get("/conversations", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/conversations", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert seen == ids[::-1] and third["next_cursor"] is None

    asc = api.get("/conversations", params={"order": "asc", "limit": 10}).json()["items"]
    assert [c["id"] for c in asc][:5] == ids
    problem(api.get("/conversations", params={"cursor": "nonsense"}), 400, "bad-cursor")
    messages = api.get(f"/conversations/{ids[0]}/messages", params={"limit": 1}).json()
    assert len(messages["items"]) == 1 and messages["next_cursor"]
    wrong_list = api.get("/contacts", params={"cursor": first["next_cursor"]})
    problem(wrong_list, 400, "bad-cursor")


def test_filters(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    cid = shop["cid"]
    assert [
        c["id"] for c in api.get("/conversations", params={"unread": "true"}).json()["items"]
    ] == [cid]
    assert api.get("/conversations", params={"assigned_to": manager_id}).json()["items"] == []
    assert len(api.get("/conversations", params={"assigned_to": "none"}).json()["items"]) == 1
    api.post(f"/conversations/{cid}/join")
    assert len(api.get("/conversations", params={"assigned_to": manager_id}).json()["items"]) == 1
    later = (utcnow() + timedelta(hours=1)).isoformat()
    assert api.get("/conversations", params={"updated_since": later}).json()["items"] == []
    assert (
        api.get("/conversations", params={"source_id": shop["source_id"] + 1}).json()["items"] == []
    )
    bad = problem(api.get("/conversations", params={"status": "pending"}), 422, "validation")
    assert bad["errors"][0]["loc"] == ["query", "status"]


def test_contacts_search_get_update_with_custom_fields(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    cid = shop["cid"]
    contact_id = api.get(f"/conversations/{cid}").json()["contact"]["id"]
    patched = api(
        "PATCH",
        f"/contacts/{contact_id}",
        json={
            "name": "Olena",
            "email": "Olena@Example.com",
            "custom_fields": {"plan": "gold", "orders": 3},
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["custom_fields"] == {"plan": "gold", "orders": 3}
    removed = api("PATCH", f"/contacts/{contact_id}", json={"custom_fields": {"plan": None}})
    assert removed.json()["custom_fields"] == {"orders": 3} and removed.json()["name"] == "Olena"
    found = api.get("/contacts", params={"email": "olena@example.com"}).json()["items"]
    assert [c["id"] for c in found] == [contact_id]
    assert [c["id"] for c in api.get("/contacts", params={"name": "len"}).json()["items"]] == [
        contact_id
    ]
    assert api.get("/contacts", params={"q": "nobody"}).json()["items"] == []
    assert api.get(f"/contacts/{contact_id}").json()["email"] == "Olena@Example.com"
    bad = api("PATCH", f"/contacts/{contact_id}", json={"custom_fields": {"bad key!": 1}})
    problem(bad, 422, "invalid-request")
    typed = api("PATCH", f"/contacts/{contact_id}", json={"name": 5})
    assert problem(typed, 422, "validation")["errors"][0]["loc"][:2] == ["body", "name"]
    # The console shows the change live (an event on the conversation).
    console = Console(pro_server, manager_id)
    events = console.api("GET", f"/conversations/{cid}/events").json()["events"]
    assert any(e["event"] == "contact.updated" for e in events)


def test_problem_details_for_malformed_input_and_unknown_paths(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    cid = shop["cid"]
    url = f"/conversations/{cid}/messages"
    problem(
        api.post(url, data=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "malformed-body",
    )
    problem(
        api.post(url, data="body=x", headers={"Content-Type": "text/plain"}), 415, "malformed-body"
    )
    problem(api.post(url, json=["a list"]), 400, "malformed-body")
    problem(api.post(url, json={"body": "x", "extra": 1}), 422, "validation")
    problem(api.get("/no/such/thing"), 404, "not-found")
    r = api("PUT", "/conversations")
    problem(r, 405, "method-not-allowed")
    assert r.headers["Allow"] == "GET, HEAD"
    problem(api("OPTIONS", "/conversations"), 405, "method-not-allowed")
    problem(api.get("/conversations/99999999"), 404, "not-found")
    problem(api.get("/files/nope"), 404, "not-found")


def test_idempotency_key_replays_and_refuses_a_different_body(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    cid = shop["cid"]
    api.post(f"/conversations/{cid}/join")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post(f"/conversations/{cid}/messages", json={"body": "Once"}, headers=key)
    again = api.post(f"/conversations/{cid}/messages", json={"body": "Once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    other = api.post(f"/conversations/{cid}/messages", json={"body": "Twice"}, headers=key)
    problem(other, 422, "idempotency-key-reused")
    bodies = [m["body"] for m in api.get(f"/conversations/{cid}/messages").json()["items"]]
    assert bodies.count("Once") == 1 and "Twice" not in bodies
    # Another token's key space is its own.
    other_token = Client(pro_server, make_token(app, manager_id))
    fresh = other_token.post(f"/conversations/{cid}/messages", json={"body": "Once"}, headers=key)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers


def test_rate_limit_per_token(app, pro_server, manager_id, monkeypatch):
    from dataclasses import replace

    from gincore_chats.rate_limit import Limit

    state = pro_server.app.extensions["gincore_chats"]
    monkeypatch.setattr(state, "config", replace(state.config, api_rate_limit=Limit(3, 3600)))
    limited = Client(pro_server, make_token(app, manager_id))
    for _ in range(3):
        assert limited.get("/me").status_code == 200
    r = limited.get("/me")
    body = problem(r, 429, "rate-limited")
    assert int(r.headers["Retry-After"]) > 0 and body["retry_after"] == int(
        r.headers["Retry-After"]
    )
    # Another token has its own budget.
    assert Client(pro_server, make_token(app, manager_id)).get("/me").status_code == 200


def test_attachments_upload_and_download(app, pro_server, manager_id, shop):
    api = Client(pro_server, make_token(app, manager_id))
    cid = shop["cid"]
    api.post(f"/conversations/{cid}/join")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    png = buffer.getvalue()
    key = {"Idempotency-Key": "upload-1"}
    up = api.post(
        f"/conversations/{cid}/attachments",
        files={"file": ("dot.png", png, "image/png")},
        data={"body": "Photo"},
        headers=key,
    )
    assert up.status_code == 201, up.text
    again = api.post(
        f"/conversations/{cid}/attachments",
        files={"file": ("dot.png", png, "image/png")},
        data={"body": "Photo"},
        headers=key,
    )
    assert again.status_code == 201 and again.json() == up.json()
    [attachment] = up.json()["message"]["attachments"]
    got = api.get(f"/files/{attachment['id']}")
    assert got.status_code == 200 and got.content == png
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    bad = api.post(
        f"/conversations/{cid}/attachments",
        files={"file": ("x.exe", b"MZ\x90\x00" * 10, "application/octet-stream")},
    )
    assert bad.status_code == 415 and bad.headers["Content-Type"] == PROBLEM
    # A user who does not work on the source sees no file.
    outsider = make_staff(app, "Otto", ALL_PERMS)
    problem(
        Client(pro_server, make_token(app, outsider)).get(f"/files/{attachment['id']}"),
        404,
        "not-found",
    )


def test_knowledge_base_readers_and_admins(app, pro_server, manager_id, admin_id, shop):
    admin = Client(pro_server, make_token(app, admin_id))
    reader = Client(pro_server, make_token(app, manager_id))
    created = admin.post(
        "/kb/entries",
        json={"language": "en", "question": "How long does shipping take?", "answer": "Two days."},
    )
    assert created.status_code == 201, created.text
    entry_id = created.json()["id"]
    assert created.json()["status"] == "candidate"
    problem(reader.get(f"/kb/entries/{entry_id}"), 404, "not-found")
    problem(reader.post("/kb/entries", json={"language": "en", "question": "q?"}), 403, "forbidden")
    assert admin.post(f"/kb/entries/{entry_id}/publish").json()["status"] == "published"
    assert reader.get(f"/kb/entries/{entry_id}").json()["answer"] == "Two days."
    assert [e["id"] for e in reader.get("/kb/entries").json()["items"]] == [entry_id]
    problem(reader.get("/kb/entries", params={"status": "candidate"}), 403, "forbidden")
    found = reader.get("/kb/search", params={"q": "how long is shipping"}).json()["items"]
    assert found and found[0]["entry_id"] == entry_id
    edited = admin("PATCH", f"/kb/entries/{entry_id}", json={"phrasings": ["Delivery time?"]})
    assert edited.json()["phrasings"] == ["Delivery time?"]
    assert admin.post(f"/kb/entries/{entry_id}/archive").json()["status"] == "archived"
    assert reader.get("/kb/entries").json()["items"] == []


def test_sources_list_follows_assignments(app, pro_server, manager_id, admin_id, shop):
    create_source(app, ["other.example.com"], [], name="Other")
    mine = Client(pro_server, make_token(app, manager_id)).get("/sources").json()["items"]
    assert [s["name"] for s in mine] == ["Shop"]
    every = Client(pro_server, make_token(app, admin_id)).get("/sources").json()["items"]
    assert [s["name"] for s in every] == ["Shop", "Other"]
