"""The shared channel machinery, with a Meta-style stub adapter: handshake, limits, batches,
echoes, watermarks, a 24-hour-window failure, reprocessing, and the adapter registry."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import requests

from gincore_chats.channels import registry
from gincore_chats.channels.base import (
    ChannelError,
    DeliveryUpdate,
    InboundMessage,
    OutboundMessage,
    ParsedWebhook,
    Sender,
    SendResult,
)

from ..conftest import Console, create_source
from .conftest import count_rows, make_channel_source, pending_jobs, run_worker, webhook_url

APP_SECRET = "test_app_secret"
# reference/channels.md §6: Meta's signature over these exact bytes.
META_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":'
    b'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",'
    b'"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},'
    b'"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0'
    b'MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":'
    b'{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}'
)
META_SIGNATURE = "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42"


class StubMeta:
    """Meta-style authenticity and handshake; a body is a list of ready-made items."""

    kind: ClassVar[str] = "stubmeta"
    supports_edit: ClassVar[bool] = False
    supports_delete: ClassVar[bool] = False
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "app_secret": ("App secret", True),
        "verify_token": ("Verify token", False),
    }
    script: ClassVar[list[Any]] = []
    sent: ClassVar[list[OutboundMessage]] = []

    def verify(self, credentials, headers, raw_body):
        expected = (
            "sha256="
            + hmac.new(credentials["app_secret"].encode(), raw_body, hashlib.sha256).hexdigest()
        )
        return hmac.compare_digest(expected, headers.get("X-Hub-Signature-256") or "")

    def handshake(self, credentials, query):
        ok = (
            query.get("hub.mode") == "subscribe"
            and query.get("hub.verify_token") == credentials["verify_token"]
        )
        return query.get("hub.challenge") if ok else None

    def parse(self, raw_body):
        data = json.loads(raw_body)
        if "object" in data:  # the §6 vector: one WhatsApp text message
            value = data["entry"][0]["changes"][0]["value"]
            m = value["messages"][0]
            sender = Sender(m["from"], value["contacts"][0]["profile"]["name"])
            return ParsedWebhook(messages=(InboundMessage(m["id"], sender, m["text"]["body"]),))
        messages = tuple(
            InboundMessage(
                i["id"],
                Sender(i["from"], i.get("name")),
                i.get("text"),
                is_echo=i.get("echo", False),
            )
            for i in data.get("messages", [])
        )
        deliveries = tuple(
            DeliveryUpdate(
                d["status"],
                d["to"],
                d.get("id"),
                datetime.fromtimestamp(d["upto"], UTC) if "upto" in d else None,
                d.get("error"),
            )
            for d in data.get("deliveries", [])
        )
        return ParsedWebhook(messages=messages, deliveries=deliveries)

    def send(self, config, credentials, message):
        StubMeta.sent.append(message)
        outcome = StubMeta.script.pop(0) if StubMeta.script else f"m_{len(StubMeta.sent)}"
        if isinstance(outcome, ChannelError):
            raise outcome
        return outcome if isinstance(outcome, SendResult) else SendResult(outcome)


@pytest.fixture
def stub(app, channels, live_server, manager_id):
    registry.register(StubMeta())
    StubMeta.script, StubMeta.sent = [], []
    source_id, key = make_channel_source(
        app, "stubmeta", {"app_secret": APP_SECRET, "verify_token": "vt-123"}, [manager_id]
    )
    yield source_id, webhook_url(live_server, key)
    registry.unregister("stubmeta")


def signed_post(
    url: str, body: bytes | dict[str, Any], secret: str = APP_SECRET
) -> requests.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(
        url,
        data=raw,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )


def details(console: Console) -> list[dict[str, Any]]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    return [console.api("GET", f"/conversations/{r['id']}").json() for r in rows]


def test_meta_handshake_and_signature_on_the_raw_body(app, stub):
    from gincore_chats.models import InboundEvent

    _, url = stub
    ok = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "vt-123"}
    r = requests.get(url, params=ok)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (
        200,
        "1158201444",
        "text/plain; charset=utf-8",
    )
    assert requests.get(url, params={**ok, "hub.verify_token": "nope"}).status_code == 403
    assert requests.get(url, params={**ok, "hub.mode": "unsubscribe"}).status_code == 403
    assert signed_post(url, META_BODY).request.headers["X-Hub-Signature-256"] == META_SIGNATURE
    # Re-serialised JSON (other bytes, same data) does not match: the raw body is what counts.
    respaced = json.dumps(json.loads(META_BODY)).encode()
    bad = requests.post(url, data=respaced, headers={"X-Hub-Signature-256": META_SIGNATURE})
    assert bad.status_code == 403
    assert count_rows(app, InboundEvent) == 1


def test_switched_off_widget_unknown_and_oversized_are_refused(app, stub, live_server, monkeypatch):
    from gincore_chats.models import InboundEvent, Source

    source_id, url = stub
    state = app.extensions["gincore_chats"]
    _, widget_key = create_source(app, ["shop.example.com"], [])
    assert signed_post(webhook_url(live_server, widget_key), META_BODY).status_code == 404
    assert signed_post(webhook_url(live_server, "no-such-key"), META_BODY).status_code == 404
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, webhook_max_body=100))
    assert signed_post(url, META_BODY).status_code == 413
    chunked = requests.post(
        url,
        data=iter([META_BODY[:80], META_BODY[80:]]),
        headers={"X-Hub-Signature-256": META_SIGNATURE},
    )
    assert chunked.status_code == 413  # no Content-Length: counted while reading
    monkeypatch.undo()
    with app.app_context():
        state.session.get(Source, source_id).active = False
        state.session.commit()
        state.session.remove()
    assert signed_post(url, META_BODY).status_code == 403
    assert count_rows(app, InboundEvent) == 0


def test_a_batch_is_handled_item_by_item_with_echoes_and_receipts(
    app, live_server, stub, manager_id
):
    from gincore_chats.models import Contact, Message

    _, url = stub
    batch = {
        "messages": [
            {"id": "mid.1", "from": "psid-1", "name": "Ann", "text": "first"},
            {"id": "mid.2", "from": "psid-2", "name": "Ben", "text": "second"},
            {"id": "mid.3", "from": "psid-1", "text": "third"},
        ]
    }
    assert signed_post(url, batch).status_code == 200
    assert signed_post(url, batch).status_code == 200  # retried delivery
    run_worker(app)
    assert count_rows(app, Message) == 3 and count_rows(app, Contact) == 2
    console = Console(live_server, manager_id)
    by_name = {d["conversation"]["contact"]["name"]: d for d in details(console)}
    assert [m["body"] for m in by_name["Ann"]["messages"]] == ["first", "third"]
    conv_id = by_name["Ann"]["conversation"]["id"]
    console.api("POST", f"/conversations/{conv_id}/join")
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "hello Ann", "client_id": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    run_worker(app)
    assert [m.text for m in StubMeta.sent] == ["hello Ann"]
    assert StubMeta.sent[0].recipient_id == "psid-1" and StubMeta.sent[0].customer_last_message_at

    later = {
        "messages": [
            # Our own reply echoed back: no new message, never a customer message.
            {"id": "m_1", "from": "psid-1", "text": "hello Ann", "echo": True},
            # A reply typed in the platform's own inbox: shown as a manager message, not re-sent.
            {"id": "m_inbox", "from": "psid-1", "text": "sent from the Page inbox", "echo": True},
        ],
        "deliveries": [
            {"status": "read", "to": "psid-1", "upto": datetime.now(UTC).timestamp() + 5},
        ],
    }
    signed_post(url, later)
    run_worker(app)
    [ann] = [d for d in details(console) if d["conversation"]["id"] == conv_id]
    kinds = [(m["kind"], m["body"]) for m in ann["messages"] if m["kind"] != "system"]
    assert kinds == [
        ("customer", "first"),
        ("customer", "third"),
        ("manager", "hello Ann"),
        ("manager", "sent from the Page inbox"),
    ]
    statuses = {m["body"]: m["delivery_status"] for m in ann["messages"]}
    assert statuses["hello Ann"] == "read"  # the watermark covered it
    assert len(StubMeta.sent) == 1


def test_a_24_hour_window_failure_is_visible_to_the_manager(app, live_server, stub, manager_id):
    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "name": "Ann", "text": "hi"}]})
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = details(console)[0]["conversation"]["id"]
    console.api("POST", f"/conversations/{conv_id}/join")
    window = (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )
    StubMeta.script = [ChannelError(window, code=131047, permanent=True)]
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Still interested?", "client_id": str(uuid.uuid4())},
    )
    message_id = r.json()["message"]["id"]
    run_worker(app)
    shown = next(m for m in details(console)[0]["messages"] if m["id"] == message_id)
    assert (shown["delivery_status"], shown["delivery_error"], shown["can_retry"]) == (
        "failed",
        window,
        True,
    )
    assert shown["edits_reach_customer"] is False
    assert pending_jobs(app) == 0

    # The platform can also fail a message it accepted, later, by webhook.
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Second", "client_id": str(uuid.uuid4())},
    )
    second = r.json()["message"]["id"]
    run_worker(app)
    signed_post(
        url, {"deliveries": [{"status": "failed", "to": "psid-1", "id": "m_2", "error": window}]}
    )
    signed_post(
        url, {"deliveries": [{"status": "delivered", "to": "psid-1", "id": "m_2"}]}
    )  # too late
    run_worker(app)
    shown = next(m for m in details(console)[0]["messages"] if m["id"] == second)
    assert (shown["delivery_status"], shown["delivery_error"]) == ("failed", window)


def test_the_console_hears_delivery_changes_live(app, live_server, stub, manager_id):
    """Each state change is a message.updated event: every console following sees it."""
    from gincore_chats.services.conversations.events import events_after

    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "name": "Ann", "text": "hi"}]})
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = details(console)[0]["conversation"]["id"]
    console.api("POST", f"/conversations/{conv_id}/join")
    StubMeta.script = [ChannelError("(#130429) Rate limit hit", code=130429, retry_after=0.1)]
    console.api(
        "POST", f"/conversations/{conv_id}/messages", {"body": "x", "client_id": str(uuid.uuid4())}
    )
    from .conftest import work_until

    work_until(app, lambda: len(StubMeta.sent) == 2)
    with app.app_context():
        state = app.extensions["gincore_chats"]
        events = events_after(state, conv_id, 0, staff=True)
        state.session.remove()
    states = [
        (e["data"]["message"]["delivery_status"], e["data"]["message"]["delivery_error"])
        for e in events
        if e["event"] in ("message.created", "message.updated")
        and e["data"]["message"]["kind"] == "manager"
    ]
    assert states == [
        ("pending", None),
        ("pending", "Retrying: (#130429) Rate limit hit"),
        ("sent", None),
    ]


def test_unreadable_deliveries_are_kept_and_can_be_processed_again(app, stub):
    from sqlalchemy import select

    from gincore_chats.models import InboundEvent, Message

    _, url = stub
    # Authentic but not a JSON object: no platform sends that, so the sender hears it at once.
    refused = signed_post(url, b"[1, 2, 3]")
    assert refused.status_code == 400 and refused.json()["code"] == "not_an_object"
    unreadable = b'{"messages": "not a list"}'
    assert signed_post(url, unreadable).status_code == 200  # an object this version cannot read
    assert (
        signed_post(url, {"messages": [{"id": "mid.9", "from": "p", "text": "hi"}]}).status_code
        == 200
    )
    state = app.extensions["gincore_chats"]
    state.queue.empty()  # as if Redis had lost the jobs
    run_worker(app)
    assert count_rows(app, Message) == 0
    result = app.test_cli_runner().invoke(args=["chats", "process-inbound"])
    assert result.exit_code == 0 and "Queued 2 stored deliveries." in result.output
    run_worker(app)
    assert count_rows(app, Message) == 1
    with app.app_context():
        events = state.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()
        assert len(events) == 2
        assert events[0].processed_at is None and events[0].error.startswith(
            "Unreadable: TypeError"
        )
        assert events[0].body == unreadable
        assert events[1].processed_at is not None and events[1].summary == "message"
        assert "x-hub-signature-256" not in events[1].headers  # secrets are not kept
        state.session.remove()


def test_platform_details_fill_in_but_never_overwrite_a_managers_correction(
    app, live_server, stub, manager_id
):
    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "text": "hi"}]})
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = details(console)[0]["conversation"]["id"]
    assert details(console)[0]["contact"]["name"] is None
    signed_post(
        url, {"messages": [{"id": "mid.2", "from": "psid-1", "name": "Annie", "text": "it's me"}]}
    )
    run_worker(app)
    assert details(console)[0]["contact"]["name"] == "Annie"
    console.api("PATCH", f"/conversations/{conv_id}/contact", {"name": "Anna Schmidt"})
    signed_post(
        url, {"messages": [{"id": "mid.3", "from": "psid-1", "name": "Annie", "text": "again"}]}
    )
    run_worker(app)
    assert details(console)[0]["contact"]["name"] == "Anna Schmidt"


def test_registry_knows_the_builtin_channels_and_labels():
    kinds = registry.channel_kinds()
    assert {"telegram", "viber", "generic"} <= set(kinds)
    assert registry.get_adapter("widget") is None and registry.get_adapter("nope") is None
    for kind in kinds:
        adapter = registry.get_adapter(kind)
        assert adapter is not None and adapter.kind == kind
        assert callable(adapter.verify) and callable(adapter.parse) and callable(adapter.send)


def test_a_concurrent_duplicate_is_caught_by_the_unique_constraint(app, stub):
    """Two workers with the same platform message at once: the second insert waits on the
    first one's uncommitted row, conflicts on (source, external id) once it commits, and
    answers with the first worker's row instead of storing a second message."""
    from gincore_chats.models import Conversation, Message
    from gincore_chats.services.conversations import messages
    from gincore_chats.services.unit_of_work import unit_of_work

    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "text": "hi"}]})
    run_worker(app)
    state = app.extensions["gincore_chats"]
    inserted, go = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def receive(name: str, hold: bool) -> None:
        try:
            with app.app_context():
                with unit_of_work(state.session):
                    conv = state.session.query(Conversation).one()
                    message, created = messages.do_receive_channel_message(
                        state, conv, "second", "mid.2"
                    )
                    results[name] = (message.id, created)
                    if hold:  # keep the row uncommitted while the other worker inserts
                        inserted.set()
                        go.wait(10)
                state.session.remove()
        except BaseException as exc:  # surfaced by the asserts below
            results[name] = exc
            inserted.set()

    first = threading.Thread(target=receive, args=("first", True))
    first.start()
    assert inserted.wait(10)
    second = threading.Thread(target=receive, args=("second", False))
    second.start()
    second.join(0.5)  # it is blocked on the first one's row lock, or done after it
    go.set()
    first.join(10)
    second.join(10)
    first_id, first_created = results["first"]
    second_id, second_created = results["second"]
    assert first_created is True and second_created is False
    assert second_id == first_id
    assert count_rows(app, Message) == 2  # mid.1 and one mid.2


def test_an_echo_that_overtakes_our_own_send_is_not_shown_twice(app, live_server, stub, manager_id):
    from gincore_chats.services.channels.outbound import deliver

    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "name": "Ann", "text": "hi"}]})
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = details(console)[0]["conversation"]["id"]
    console.api("POST", f"/conversations/{conv_id}/join")
    r = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "on my way", "client_id": str(uuid.uuid4())},
    )
    mine = r.json()["message"]["id"]
    state = app.extensions["gincore_chats"]
    [send_job] = [state.queue.fetch_job(j) for j in state.queue.job_ids]
    state.queue.remove(send_job)  # the platform's echo is processed first
    signed_post(
        url, {"messages": [{"id": "m_1", "from": "psid-1", "text": "on my way", "echo": True}]}
    )
    run_worker(app)
    with app.app_context():
        deliver(state, mine, 1)
    managers = [m for m in details(console)[0]["messages"] if m["kind"] == "manager"]
    assert [(m["id"], m["body"], m["delivery_status"]) for m in managers] == [
        (mine, "on my way", "sent")
    ]


def test_every_channel_kind_has_a_settings_form(app, live_server, channels, admin_id):
    admin = Console(live_server, admin_id)
    index = admin.http.get(f"{live_server.url}/chats/settings").text
    for kind in registry.channel_kinds():
        assert f"/chats/settings/channels/new/{kind}" in index
        page = admin.http.get(f"{live_server.url}/chats/settings/channels/new/{kind}")
        assert page.status_code == 200, kind
        adapter = registry.get_adapter(kind)
        for name, (_label, secret) in adapter.credential_fields.items():
            assert f'name="credential_{name}"' in page.text
            if secret:
                assert f'name="credential_{name}" type="password"' in page.text
    assert (
        admin.http.get(f"{live_server.url}/chats/settings/channels/new/widget").status_code == 404
    )
    manager = Console(live_server, make_staff_manager(app))
    assert (
        manager.http.get(f"{live_server.url}/chats/settings/channels/new/telegram").status_code
        == 403
    )


def make_staff_manager(app) -> str:
    from ..conftest import ALL_PERMS, make_staff

    return make_staff(app, "Norm Manager", ALL_PERMS)


def test_echoes_of_every_part_of_a_long_reply_are_ours(app, live_server, stub, manager_id):
    """A reply sent in two parts comes back as two echoes; neither shows as a new reply."""
    _, url = stub
    signed_post(url, {"messages": [{"id": "mid.1", "from": "psid-1", "name": "Ann", "text": "hi"}]})
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = details(console)[0]["conversation"]["id"]
    console.api("POST", f"/conversations/{conv_id}/join")
    StubMeta.script = [SendResult("m_a", {"external_ids": ["m_a", "m_b"]})]
    console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "part one. part two.", "client_id": str(uuid.uuid4())},
    )
    run_worker(app)
    echoes = [
        {"id": "m_a", "from": "psid-1", "text": "part one.", "echo": True},
        {"id": "m_b", "from": "psid-1", "text": "part two.", "echo": True},
    ]
    assert signed_post(url, {"messages": echoes}).status_code == 200
    run_worker(app)
    managers = [m for m in details(console)[0]["messages"] if m["kind"] == "manager"]
    assert [m["body"] for m in managers] == ["part one. part two."]
