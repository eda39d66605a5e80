"""Outgoing webhooks end to end: a real HTTP receiver, the real RQ worker (burst), endpoints
made through the API. Signatures, retries after 500s and timeouts, redelivery, disablement
with an email to the admins (aiosmtpd), a rollback that sends nothing, and the SSRF guard at
save and at send time."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gincore_chats.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

from ..channels.conftest import clear_queue, work_until
from ..conftest import Visitor, create_source, make_staff
from ..test_notifications_email import SMTP_PASSWORD, SMTP_USER, Sink, free_port
from .conftest import Client, make_token

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

ADMIN_PERMS = "chats.view,chats.reply,customers.view,customers.edit,chats.admin"
SECRET = "whsec_test-secret-0123456789"


def verify(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, as docs/api.rst shows it."""
    timestamp = headers["Chats-Webhook-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    given = headers["Chats-Webhook-Signature"].removeprefix("v1=")
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), given)


class Receiver:
    """A real HTTP server; ``script`` says how to answer the next requests (200 when empty)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[Any] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    step = receiver.script.pop(0) if receiver.script else 200
                if step == "hang":
                    time.sleep(3)  # longer than the app's CHATS_WEBHOOK_TIMEOUT (2 s)
                    step = 200
                self.send_response(step)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if step == 200 else b"receiver broke")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/chats"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _h, body in self.requests]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def world(app: Any, pro_app: Any, pro_server: Any) -> Iterator[dict[str, Any]]:
    state = pro_app.extensions["gincore_chats"]
    clear_queue(state)
    admin_id = make_staff(app, "Ada Admin", ADMIN_PERMS, email="ada@shop.example")
    _, key = create_source(app, ["shop.example.com"], [admin_id])
    yield {
        "admin": admin_id,
        "key": key,
        "api": Client(pro_server, make_token(app, admin_id)),
        "state": state,
    }
    clear_queue(state)


def register(world: dict[str, Any], url: str, **extra: Any) -> dict[str, Any]:
    r = world["api"].post("/webhooks", json={"url": url, "secret": SECRET, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(app: Any) -> list[WebhookDelivery]:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        rows = list(state.session.query(WebhookDelivery).order_by(WebhookDelivery.id))
        for row in rows:
            state.session.expunge(row)
        return rows


def test_signed_events_for_a_conversation(app, pro_app, pro_server, world, receiver):
    register(world, receiver.url)
    visitor = Visitor(pro_server, world["key"])
    cid = visitor.open().json()["conversation_id"]
    visitor.send("Hello?")
    api = world["api"]
    api.post(f"/conversations/{cid}/join")
    api.post(f"/conversations/{cid}/messages", json={"body": "Hi!"})
    api.post(f"/conversations/{cid}/messages", json={"body": "VIP", "note": True})
    contact_id = api.get(f"/conversations/{cid}").json()["contact"]["id"]
    api("PATCH", f"/contacts/{contact_id}", json={"custom_fields": {"tier": "gold"}})
    api.post(f"/conversations/{cid}/close")
    wanted = [
        "conversation.created",
        "message.created",  # the customer's
        "message.created",  # "Ada Admin joined"
        "participant.joined",
        "message.created",
        "message.created",  # the note
        "contact.updated",
        "conversation.closed",
    ]
    work_until(pro_app, lambda: len(receiver.requests) >= len(wanted))
    events = receiver.events()
    # At least once, in any order: order per conversation is the sequence number.
    events.sort(key=lambda e: (e["sequence"], e["type"].startswith("participant")))
    assert [e["type"] for e in events] == wanted
    seqs = [e["sequence"] for e in events]
    assert seqs == sorted(seqs) and all(e["conversation_id"] == cid for e in events)
    for headers, body in receiver.requests:
        assert verify(SECRET, headers, body)
        assert not verify("another-secret-entirely", headers, body)
        event = json.loads(body)
        assert headers["Chats-Webhook-Id"] == event["id"] and event["id"].startswith("evt_")
        assert headers["Chats-Webhook-Event"] == event["type"]
        assert headers["Chats-Webhook-Sequence"] == str(event["sequence"])
    by_type = {e["type"]: e for e in events}
    assert by_type["participant.joined"]["data"]["name"] == "Ada Admin"
    notes = [e for e in events if e["type"] == "message.created" and e["data"]["note"]]
    assert [n["data"]["message"]["body"] for n in notes] == ["VIP"]
    assert by_type["contact.updated"]["data"]["contact"]["custom_fields"] == {"tier": "gold"}
    assert by_type["conversation.closed"]["data"]["conversation"]["status"] == "closed"
    # A tampered body fails the check.
    headers, body = receiver.requests[0]
    assert not verify(SECRET, headers, body.replace(b"conversation", b"cOnversation", 1))
    assert {d.status for d in deliveries(app)} == {DeliveryStatus.SUCCEEDED}


def test_subscriptions_filter_event_types(app, pro_app, pro_server, world, receiver):
    register(world, receiver.url, events=["conversation.created"])
    visitor = Visitor(pro_server, world["key"])
    visitor.open()
    visitor.send("Hello?")
    work_until(pro_app, lambda: receiver.requests)
    work_until(pro_app, lambda: all(d.status != "pending" for d in deliveries(app)))
    assert receiver.types() == ["conversation.created"]


def test_retries_after_500_and_timeout_then_redelivery(app, pro_app, pro_server, world, receiver):
    endpoint = register(world, receiver.url, events=["conversation.created"])
    receiver.script = [500, "hang", 200]
    Visitor(pro_server, world["key"]).open()
    work_until(pro_app, lambda: any(d.status == "succeeded" for d in deliveries(app)))
    [delivery] = deliveries(app)
    assert delivery.attempts == 3 and delivery.response_code == 200
    assert len(receiver.requests) == 3
    ids = {h["Chats-Webhook-Id"] for h, _b in receiver.requests}
    assert len(ids) == 1  # one event, delivered at least once: receivers deduplicate on the id
    assert [h["Chats-Webhook-Attempt"] for h, _b in receiver.requests] == ["1", "2", "3"]

    log = world["api"].get(f"/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 3
    again = world["api"].post(f"/webhooks/{endpoint['id']}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 201, again.text
    work_until(pro_app, lambda: len(receiver.requests) == 4)
    assert receiver.requests[3][0]["Chats-Webhook-Id"] in ids
    assert receiver.requests[3][1] == receiver.requests[0][1]  # the same bytes


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield sink, port
    controller.stop()


def test_continuous_failures_disable_the_endpoint_and_email_admins(
    app, pro_app, pro_server, world, receiver, smtp, monkeypatch
):
    from gincore_chats.services.notifications import mailbox
    from gincore_chats.services.unit_of_work import unit_of_work

    sink, port = smtp
    state = world["state"]
    with pro_app.app_context(), unit_of_work(state.session):
        mailbox.do_save(
            state,
            {
                "active": True,
                "host": "127.0.0.1",
                "port": str(port),
                "security": "none",
                "username": SMTP_USER,
                "password": SMTP_PASSWORD,
                "from_address": "support@shop.example",
                "from_name": "Shop",
            },
        )
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(state.config, webhook_disable_failures=3, webhook_disable_hours=0),
    )
    endpoint = register(world, receiver.url, events=["conversation.created"])
    receiver.script = [500] * 10
    Visitor(pro_server, world["key"]).open()
    work_until(
        pro_app, lambda: not world["api"].get(f"/webhooks/{endpoint['id']}").json()["active"]
    )
    after = world["api"].get(f"/webhooks/{endpoint['id']}").json()
    assert "3 failed deliveries in a row" in after["disabled_reason"]
    assert len(receiver.requests) == 3
    [delivery] = deliveries(app)
    assert delivery.status == "failed" and delivery.response_code == 500
    [(to, message)] = sink.wait_for(1)
    assert to == ["ada@shop.example"]
    assert receiver.url in message.get_body(preferencelist=("plain",)).get_content()
    # Nothing more is sent to a disabled endpoint; switching it on again starts afresh.
    Visitor(pro_server, world["key"]).open()
    assert [e for e in deliveries(app) if e.status == "pending"] == []
    on = world["api"]("PATCH", f"/webhooks/{endpoint['id']}", json={"active": True}).json()
    assert on["active"] and on["failure_streak"] == 0 and on["disabled_reason"] is None


def test_a_rolled_back_change_sends_nothing(app, pro_app, pro_server, world, receiver):
    from gincore_chats.models import Contact, Source
    from gincore_chats.services.conversations import lifecycle as conversations
    from gincore_chats.services.unit_of_work import unit_of_work

    register(world, receiver.url, events=["conversation.created"])
    state = world["state"]

    def open_conversation(fail: bool) -> None:
        with pro_app.test_request_context(), unit_of_work(state.session):
            source = state.session.query(Source).one()
            contact = Contact(source_id=source.id, name="Rolled back" if fail else "Kept")
            state.session.add(contact)
            conversations.do_open_conversation(state, source, contact)
            if fail:
                raise RuntimeError("the host's own check failed")

    with pytest.raises(RuntimeError):
        open_conversation(fail=True)
    with pro_app.app_context():
        assert state.session.query(WebhookEvent).count() == 0
    open_conversation(fail=False)
    work_until(pro_app, lambda: receiver.requests)
    work_until(pro_app, lambda: all(d.status != "pending" for d in deliveries(app)))
    [event] = receiver.events()
    assert event["data"]["conversation"]["contact"]["name"] == "Kept"


def test_private_addresses_refused_when_saved_and_when_sent(
    app, pro_app, pro_server, world, receiver, monkeypatch
):
    state = world["state"]
    api = world["api"]
    endpoint = register(world, receiver.url, events=["conversation.created"])  # allowed (tests)
    monkeypatch.setattr(
        state, "config", dataclasses.replace(state.config, webhooks_allow_private=False)
    )
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/x",
        "http://[::ffff:127.0.0.1]/x",
    ):
        r = api.post("/webhooks", json={"url": url})
        assert r.status_code == 422, (url, r.text)
        assert "not a public address" in r.json()["detail"]
    assert api.post("/webhooks", json={"url": "ftp://example.com/x"}).status_code == 422
    assert api.post("/webhooks", json={"url": "https://u:p@example.com/x"}).status_code == 422

    # DNS rebinding: a name that was public when saved and resolves to loopback at send time.
    real = socket.getaddrinfo

    def public_once(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
        return real(host, *args, **kwargs)

    port = receiver.server.server_port
    with monkeypatch.context() as m:
        m.setattr(socket, "getaddrinfo", public_once)
        r = api("PATCH", f"/webhooks/{endpoint['id']}", json={"url": f"http://localhost:{port}/x"})
        assert r.status_code == 200, r.text
    Visitor(pro_server, world["key"]).open()
    work_until(pro_app, lambda: any(d.status == "failed" for d in deliveries(app)))
    [delivery] = deliveries(app)
    assert "not a public address" in delivery.last_error and delivery.response_code is None
    assert receiver.requests == []
    with pro_app.app_context():
        assert state.session.get(WebhookEndpoint, endpoint["id"]).url.startswith("http://localhost")


def test_a_customer_writing_again_reopens_with_an_event(app, pro_app, pro_server, world, receiver):
    register(world, receiver.url, events=["conversation.closed", "conversation.reopened"])
    visitor = Visitor(pro_server, world["key"])
    cid = visitor.open().json()["conversation_id"]
    visitor.send("Hello?")
    world["api"].post(f"/conversations/{cid}/close")
    visitor.send("One more question")
    work_until(pro_app, lambda: len(receiver.requests) >= 2)
    events = sorted(receiver.events(), key=lambda e: e["sequence"])
    assert [e["type"] for e in events] == ["conversation.closed", "conversation.reopened"]
    assert events[1]["data"]["conversation"]["status"] == "open"
