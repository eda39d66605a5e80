"""The generic source: signed pushes in, signed outgoing webhook with retries out."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
import requests

from ..conftest import Console
from .conftest import (
    count_rows,
    make_channel_source,
    pending_jobs,
    run_worker,
    stored_credentials,
    webhook_url,
    work_until,
)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push(
    url: str,
    payload: Any,
    secret: str | None = None,
    bearer: str | None = None,
    signature: str | None = None,
) -> requests.Response:
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Gincore-Signature"] = sign(secret, body)
    if signature is not None:
        headers["X-Gincore-Signature"] = signature
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.post(url, data=body, headers=headers, timeout=10)


BATCH = {
    "messages": [
        {
            "id": "crm-1001",
            "sender": {
                "id": "cust-42",
                "name": "Anna",
                "language": "de",
                "phone": "+43 660 1234567",
            },
            "text": "Hallo!",
        },
        {
            "id": "crm-1002",
            "sender": {"id": "cust-42"},
            "text": "Is my order ready?",
            "attachments": [
                {
                    "type": "image",
                    "url": "https://files.example.com/a.png",
                    "filename": "a.png",
                    "mime_type": "image/png",
                    "size": 3,
                }
            ],
        },
        {"id": 1003, "sender": {"id": 7, "name": "Bob"}, "text": "Hi from Bob"},
    ]
}


@pytest.fixture
def generic(app, channels, live_server, manager_id, receiver):
    source_id, key = make_channel_source(
        app, "generic", {"outgoing_url": f"{receiver.url}/hooks/chat"}, [manager_id], name="CRM"
    )
    return source_id, webhook_url(live_server, key), stored_credentials(app, source_id)["secret"]


def conversations(console: Console) -> list[dict[str, Any]]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    return [console.api("GET", f"/conversations/{r['id']}").json() for r in rows]


def test_a_signed_batch_creates_every_message_once(app, live_server, generic, manager_id):
    from gincore_chats.models import Contact, Message

    _, url, secret = generic
    for _ in range(3):
        r = push(url, BATCH, secret)
        assert r.status_code == 200, r.text
    run_worker(app)
    assert count_rows(app, Message) == 3 and count_rows(app, Contact) == 2
    details = {
        d["conversation"]["contact"]["name"]: d
        for d in conversations(Console(live_server, manager_id))
    }
    anna = details["Anna"]
    assert [m["body"] for m in anna["messages"]] == ["Hallo!", "Is my order ready?"]
    assert (
        anna["messages"][1]["system_data"]["media"][0]["ref"] == "https://files.example.com/a.png"
    )
    assert (anna["contact"]["phone"], anna["contact"]["language"]) == ("+43 660 1234567", "de")
    assert [m["body"] for m in details["Bob"]["messages"]] == ["Hi from Bob"]


def test_bearer_token_works_and_anything_unauthenticated_or_invalid_stores_nothing(app, generic):
    from gincore_chats.models import InboundEvent

    _, url, secret = generic
    one = {"messages": [BATCH["messages"][0]]}
    assert push(url, one, secret="wrong-secret").status_code == 403
    assert push(url, one, bearer="wrong-secret").status_code == 403
    assert push(url, one).status_code == 403
    assert push(url, one, signature="sha256=" + "0" * 64).status_code == 403
    r = push(url, {"messages": [{"id": "x", "text": "no sender"}]}, secret)
    assert (
        r.status_code == 400
        and r.json()["error"] == "messages[0].sender must be an object with an id."
    )
    assert push(url, b"not json", secret).status_code == 400
    assert count_rows(app, InboundEvent) == 0 and pending_jobs(app) == 0
    assert push(url, one, bearer=secret).status_code == 200
    assert count_rows(app, InboundEvent) == 1


def joined(app, live_server, url, secret, manager_id) -> tuple[Console, int]:
    push(url, {"messages": [BATCH["messages"][0]]}, secret)
    run_worker(app)
    console = Console(live_server, manager_id)
    [detail] = conversations(console)
    conv_id = detail["conversation"]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    return console, conv_id


def reply(console: Console, conv_id: int, text: str) -> dict[str, Any]:
    r = console.api(
        "POST", f"/conversations/{conv_id}/messages", {"body": text, "client_id": str(uuid.uuid4())}
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]


def state_of(console: Console, conv_id: int, message_id: int) -> dict[str, Any]:
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    return next(m for m in detail["messages"] if m["id"] == message_id)


def test_replies_are_signed_retried_with_one_event_id_and_receipts_come_back(
    app, live_server, generic, manager_id, receiver
):
    _, url, secret = generic
    console, conv_id = joined(app, live_server, url, secret, manager_id)
    receiver.answer_next(500, {"error": "database down"})
    receiver.answer_next(200, {"id": "crm-out-9"})
    sent = reply(console, conv_id, "Your order is ready.")
    assert sent["edits_reach_customer"] is True
    work_until(app, lambda: state_of(console, conv_id, sent["id"])["delivery_status"] == "sent")
    first, second = receiver.requests
    for call in (first, second):
        assert call.headers["X-Gincore-Signature"] == sign(secret, call.body)
        assert call.headers["X-Gincore-Event"] == "message.created"
    event = json.loads(second.body)
    assert (
        json.loads(first.body)["event_id"]
        == event["event_id"]
        == second.headers["X-Gincore-Event-Id"]
    )
    assert event["recipient"] == {"id": "cust-42"} and event["conversation_id"] == conv_id
    assert event["message"]["text"] == "Your order is ready."
    assert event["message"]["author_name"] == "Mia Manager"

    # The other system reports what happened, naming the message by its own id.
    r = push(
        url,
        {"deliveries": [{"message_id": "crm-out-9", "status": "read", "recipient_id": "cust-42"}]},
        secret,
    )
    assert r.status_code == 200
    run_worker(app)
    assert state_of(console, conv_id, sent["id"])["delivery_status"] == "read"

    console.api(
        "PATCH", f"/conversations/{conv_id}/messages/{sent['id']}", {"body": "Ready at 5 pm."}
    )
    run_worker(app)
    console.api("DELETE", f"/conversations/{conv_id}/messages/{sent['id']}")
    run_worker(app)
    edited, deleted = (json.loads(r.body) for r in receiver.requests[2:])
    assert (edited["event"], edited["message"]) == (
        "message.edited",
        {"id": "crm-out-9", "text": "Ready at 5 pm."},
    )
    assert (deleted["event"], deleted["message"]) == ("message.deleted", {"id": "crm-out-9"})


def test_a_429_retry_after_is_honoured(app, live_server, generic, manager_id, receiver):
    _, url, secret = generic
    console, conv_id = joined(app, live_server, url, secret, manager_id)
    receiver.answer_next(429, {"error": "slow down"}, {"Retry-After": "1"})
    sent = reply(console, conv_id, "One moment")
    work_until(app, lambda: state_of(console, conv_id, sent["id"])["delivery_status"] == "sent")
    first, second = receiver.requests
    assert second.at - first.at >= 1.0


def test_a_refusal_is_shown_to_the_manager(app, live_server, generic, manager_id, receiver):
    _, url, secret = generic
    console, conv_id = joined(app, live_server, url, secret, manager_id)
    receiver.answer_next(422, {"error": "customer cust-42 is archived"})
    sent = reply(console, conv_id, "Hello")
    run_worker(app)
    shown = state_of(console, conv_id, sent["id"])
    assert shown["delivery_status"] == "failed"
    assert shown["delivery_error"] == (
        'The outgoing webhook answered HTTP 422: {"error": "customer cust-42 is archived"}'
    )
    assert len(receiver.requests) == 1


def test_without_an_outgoing_url_replies_fail_with_a_reason(app, live_server, channels, manager_id):
    source_id, key = make_channel_source(app, "generic", {}, [manager_id])
    url, secret = webhook_url(live_server, key), stored_credentials(app, source_id)["secret"]
    console, conv_id = joined(app, live_server, url, secret, manager_id)
    sent = reply(console, conv_id, "Hello")
    run_worker(app)
    assert state_of(console, conv_id, sent["id"])["delivery_error"] == (
        "No outgoing webhook URL is set for this source, so replies cannot leave."
    )


def test_settings_page_shows_the_url_and_reveals_the_secret(app, live_server, generic, admin_id):
    source_id, url, secret = generic
    admin = Console(live_server, admin_id)
    page = admin.http.get(f"{live_server.url}/chats/settings/channels/{source_id}")
    assert page.status_code == 200
    assert url in page.text
    assert secret not in page.text  # masked until an admin reveals it (audit-logged)
    assert "Shared secret (signs pushes to and replies from this source)" in page.text
    assert "Connect</button>" not in page.text  # nothing to register with
    reveal = f"{live_server.url}/chats/settings/channels/{source_id}/connection/secrets/secret"
    r = admin.http.post(
        f"{reveal}/reveal", headers={"X-CSRF-Token": admin.csrf, "Accept": "application/json"}
    )
    assert r.json()["value"] == secret
