"""Viber end to end against a fake REST API: signed callbacks, 64-bit tokens, receipts, limits."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from gincore_chats.channels.base import HeaderDict, OutboundAttachment, OutboundMessage

from ..conftest import Console
from .conftest import (
    count_rows,
    make_channel_source,
    pending_jobs,
    run_worker,
    webhook_url,
    work_until,
)
from .fakes import VIBER_TOKEN, viber_callback, viber_signature

# reference/channels.md §6: the exact bytes and their signature.
VECTOR_BODY = (
    b'{"event":"message","timestamp":1457764197627,"chat_hostname":"SN-CHAT-03_",'
    b'"message_token":4912661846655238145,"sender":{"id":"01234567890A=","name":"John McClane",'
    b'"avatar":"https://avatar.example.com","language":"en","country":"GB","api_version":10},'
    b'"message":{"type":"text","text":"a message to the service","tracking_data":"conv-42"},'
    b'"silent":false}'
)
VECTOR_SIGNATURE = "fab4ad526916dba819b5d408d3c7a44c452571ec3d0687a6e60a2d9ec7453495"
JOHN = {
    "id": "01234567890A=",
    "name": "John McClane",
    "avatar": "https://avatar.example.com",
    "country": "GB",
    "language": "en",
    "api_version": 10,
}
PICTURE = {
    "event": "message",
    "timestamp": 1700000060123,
    "chat_hostname": "SN-CHAT-03_",
    "message_token": 5741311803571721087 - 1000,
    "sender": JOHN,
    "message": {
        "type": "picture",
        "text": "Damaged box",
        "media": "https://dl-media.viber.com/1/share/2/long/vibes/icon/image/0x0/95e0/x.jpg",
        "file_name": "IMG-20231114-WA0001.jpg",
        "file_size": 120544,
    },
    "silent": False,
}
FILE = {
    "event": "message",
    "timestamp": 1700000120456,
    "chat_hostname": "SN-CHAT-03_",
    "message_token": 5741311803571721099 - 1000,
    "sender": JOHN,
    "message": {
        "type": "file",
        "media": "https://dl-media.viber.com/5/share/2/long/bots/generic/file/invoice-5521.pdf",
        "file_name": "invoice-5521.pdf",
        "size": 48213,
    },
    "silent": False,
}


def text_message(token: int, text: str) -> dict[str, Any]:
    return {
        "event": "message",
        "timestamp": 1700000000000,
        "chat_hostname": "SN-CHAT-03_",
        "message_token": token,
        "sender": JOHN,
        "message": {"type": "text", "text": text},
        "silent": False,
    }


@pytest.fixture
def viber(app, channels, live_server, manager_id):
    source_id, key = make_channel_source(
        app, "viber", {"auth_token": VIBER_TOKEN, "sender_name": "Acme Support"}, [manager_id]
    )
    return source_id, webhook_url(live_server, key)


def only_conversation(console: Console) -> dict[str, Any]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    assert len(rows) == 1, rows
    return console.api("GET", f"/conversations/{rows[0]['id']}").json()


def test_signature_matches_the_test_vector():
    from gincore_chats.channels.viber import ViberChannel

    adapter = ViberChannel()
    creds = {"auth_token": VIBER_TOKEN}
    assert viber_signature(VIBER_TOKEN, VECTOR_BODY) == VECTOR_SIGNATURE
    assert adapter.verify(
        creds, HeaderDict({"X-Viber-Content-Signature": VECTOR_SIGNATURE}), VECTOR_BODY
    )
    assert not adapter.verify(
        creds,
        HeaderDict({"X-Viber-Content-Signature": VECTOR_SIGNATURE}),
        VECTOR_BODY.replace(b"a message", b"A message"),
    )
    assert not adapter.verify(
        {"auth_token": "other"},
        HeaderDict({"X-Viber-Content-Signature": VECTOR_SIGNATURE}),
        VECTOR_BODY,
    )
    assert not adapter.verify(creds, HeaderDict(), VECTOR_BODY)
    # The 64-bit token survives parsing exactly (it exceeds 2**53).
    parsed = adapter.parse(VECTOR_BODY).messages[0]
    assert parsed.external_id == "4912661846655238145" and 4912661846655238145 > 2**53
    assert (parsed.sender.name, parsed.sender.avatar_url, parsed.sender.language) == (
        "John McClane",
        "https://avatar.example.com",
        "en",
    )


def test_receipts_parse_to_delivery_states():
    from gincore_chats.channels.viber import ViberChannel

    parse = ViberChannel().parse
    seen = parse(
        b'{"event":"seen","timestamp":1,"message_token":5466297578174182639,"user_id":"u"}'
    )
    assert (seen.deliveries[0].status, seen.deliveries[0].external_id) == (
        "read",
        "5466297578174182639",
    )
    failed = parse(
        json.dumps({"event": "failed", "message_token": 1, "user_id": "u", "desc": "boom"}).encode()
    )
    assert (failed.deliveries[0].status, failed.deliveries[0].error) == ("failed", "boom")
    subscribed = parse(b'{"event":"subscribed","timestamp":1457764197627,"user":{"id":"u"}}')
    assert subscribed.reachability[0].user_id == "u" and subscribed.reachability[0].reachable
    gone = parse(b'{"event":"unsubscribed","timestamp":1595347885535,"user_id":"u"}')
    assert (gone.reachability[0].reachable, gone.reachability[0].at.year) == (False, 2020)
    assert parse(b'{"event":"conversation_started","user":{"id":"u"}}').ignored == (
        "conversation_started",
    )


def test_signed_message_is_stored_once_and_a_bad_signature_stores_nothing(
    app, live_server, viber, manager_id
):
    from gincore_chats.models import InboundEvent, Message

    _, url = viber
    wrong = {"Content-Type": "application/json", "X-Viber-Content-Signature": "0" * 64}
    import requests

    assert requests.post(url, data=VECTOR_BODY, headers=wrong).status_code == 403
    assert requests.post(url, data=VECTOR_BODY).status_code == 403
    assert count_rows(app, InboundEvent) == 0 and pending_jobs(app) == 0
    for _ in range(3):
        assert viber_callback(url, VECTOR_BODY).status_code == 200
    run_worker(app)
    assert count_rows(app, Message) == 1
    detail = only_conversation(Console(live_server, manager_id))
    contact = detail["conversation"]["contact"]
    assert (contact["name"], contact["avatar_url"], contact["language"]) == (
        "John McClane",
        "https://avatar.example.com",
        "en",
    )
    assert [m["body"] for m in detail["messages"]] == ["a message to the service"]


def test_pictures_and_files_arrive_with_their_references(app, live_server, viber, manager_id):
    _, url = viber
    viber_callback(url, PICTURE)
    viber_callback(url, FILE)
    run_worker(app)
    detail = only_conversation(Console(live_server, manager_id))
    picture, file = detail["messages"]
    assert picture["body"] == "Damaged box"
    assert picture["system_data"]["media"][0]["ref"].startswith("https://dl-media.viber.com/1/")
    assert file["body"] == "[file: invoice-5521.pdf]"
    assert file["system_data"]["media"][0]["size"] == 48213  # "size" accepted as "file_size"


def reply(console: Console, conv_id: int, text: str) -> dict[str, Any]:
    r = console.api(
        "POST", f"/conversations/{conv_id}/messages", {"body": text, "client_id": str(uuid.uuid4())}
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]


def state_of(console: Console, conv_id: int, message_id: int) -> dict[str, Any]:
    detail = console.api("GET", f"/conversations/{conv_id}").json()
    return next(m for m in detail["messages"] if m["id"] == message_id)


def joined(app, live_server, url, manager_id) -> tuple[Console, int]:
    viber_callback(url, VECTOR_BODY)
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = only_conversation(console)["conversation"]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    return console, conv_id


def test_reply_goes_out_and_viber_receipts_move_it_to_read(
    app, live_server, viber, manager_id, fake_viber
):
    _, url = viber
    console, conv_id = joined(app, live_server, url, manager_id)
    fake_viber.webhook_url = url
    fake_viber.send_receipts = True  # delivered + seen come back signed, right after the send
    sent = reply(console, conv_id, "Hi John, we'll send a replacement today.")
    assert sent["edits_reach_customer"] is False  # Viber keeps the original
    run_worker(app)
    [call] = fake_viber.calls("send_message")
    assert call.headers["X-Viber-Auth-Token"] == VIBER_TOKEN
    assert call.params["receiver"] == "01234567890A=" and call.params["type"] == "text"
    assert call.params["sender"] == {"name": "Acme Support"}
    assert call.params["text"] == "Hi John, we'll send a replacement today."
    fake_viber.wait_receipts()
    work_until(app, lambda: state_of(console, conv_id, sent["id"])["delivery_status"] == "read")
    from gincore_chats.models import Message

    with app.app_context():
        row = app.extensions["gincore_chats"].session.get(Message, sent["id"])
        assert row.external_id == "5741311803571721087"  # the 64-bit token, exactly
        app.extensions["gincore_chats"].session.remove()


def test_a_receipt_before_the_send_is_recorded_is_not_lost(
    app, live_server, viber, manager_id, fake_viber
):
    """Viber may call back before the job has stored the token: the receipt waits for it."""
    from gincore_chats.services.channels.outbound import deliver

    _, url = viber
    console, conv_id = joined(app, live_server, url, manager_id)
    sent = reply(console, conv_id, "Early bird")
    # The receipt for the token the fake will hand out arrives first.
    seen = {
        "event": "seen",
        "timestamp": 1,
        "chat_hostname": "SN-CHAT-02_",
        "message_token": 5741311803571721087,
        "user_id": "01234567890A=",
    }
    assert viber_callback(url, seen).status_code == 200
    state = app.extensions["gincore_chats"]
    clear = state.queue.fetch_job(state.queue.job_ids[0])
    assert clear.func_name == "gincore_chats.jobs.outbound.send"
    state.queue.remove(clear)  # run the receipt first, the send afterwards
    run_worker(app)
    assert state_of(console, conv_id, sent["id"])["delivery_status"] == "pending"
    with app.app_context():
        deliver(state, sent["id"], 1)
    assert state_of(console, conv_id, sent["id"])["delivery_status"] == "read"


def test_too_many_requests_then_success(app, live_server, viber, manager_id, fake_viber):
    _, url = viber
    console, conv_id = joined(app, live_server, url, manager_id)
    fake_viber.fail_next(12, "tooManyRequests")
    sent = reply(console, conv_id, "Still there?")
    run_worker(app)
    waiting = state_of(console, conv_id, sent["id"])
    assert waiting["delivery_status"] == "pending"
    assert waiting["delivery_error"] == "Retrying: Viber: tooManyRequests (status 12)"
    work_until(app, lambda: state_of(console, conv_id, sent["id"])["delivery_status"] == "sent")
    assert len(fake_viber.calls("send_message")) == 2


def test_unsubscribed_customer_fails_at_once_and_failed_receipt_is_shown(
    app, live_server, viber, manager_id, fake_viber
):
    _, url = viber
    console, conv_id = joined(app, live_server, url, manager_id)
    fake_viber.fail_next(6, "receiverNotSubscribed")
    first = reply(console, conv_id, "Hello?")
    run_worker(app)
    assert (
        state_of(console, conv_id, first["id"])["delivery_error"]
        == "Viber: receiverNotSubscribed (status 6)"
    )
    assert len(fake_viber.calls("send_message")) == 1 and pending_jobs(app) == 0

    # Status 6 marks the customer unreachable: the next reply is not even attempted ...
    held = reply(console, conv_id, "Anyone?")
    assert held["delivery_status"] == "failed" and held["delivery_error"].startswith("Not sent:")
    assert len(fake_viber.calls("send_message")) == 1
    # ... until they write again (which re-subscribes them on Viber).
    back = {**text_message(5741311803571720000, "I'm back"), "timestamp": int(time.time() * 1000)}
    assert viber_callback(url, back).status_code == 200
    run_worker(app)
    second = reply(console, conv_id, "Second try")
    run_worker(app)
    assert state_of(console, conv_id, second["id"])["delivery_status"] == "sent"
    failed = {
        "event": "failed",
        "timestamp": 1,
        "chat_hostname": "SN-CHAT-02_",
        "message_token": 5741311803571721088,
        "user_id": "01234567890A=",
        "desc": "failure description",
    }
    assert viber_callback(url, failed).status_code == 200
    run_worker(app)
    shown = state_of(console, conv_id, second["id"])
    assert (shown["delivery_status"], shown["delivery_error"]) == ("failed", "failure description")


def test_pictures_and_files_go_out_by_public_url(channels, fake_viber):
    from gincore_chats.channels.viber import ViberChannel

    adapter = ViberChannel()
    label = OutboundAttachment(
        "image", "https://cdn.example.com/labels/return-5521.jpg", "l.jpg", "image/jpeg"
    )
    pdf = OutboundAttachment(
        "file",
        "https://cdn.example.com/docs/invoice-5521.pdf",
        "invoice-5521.pdf",
        "application/pdf",
        size=48213,
    )
    result = adapter.send(
        channels.config.channels,
        {"auth_token": VIBER_TOKEN},
        OutboundMessage("01234567890A=", "Return label", (label, pdf), sender_name="Mia"),
    )
    picture, file = fake_viber.calls("send_message")
    assert (picture.params["type"], picture.params["media"], picture.params["text"]) == (
        "picture",
        label.url,
        "Return label",
    )
    assert picture.params["sender"]["name"] == "Mia"
    assert (file.params["type"], file.params["size"], file.params["file_name"]) == (
        "file",
        48213,
        "invoice-5521.pdf",
    )
    assert result.extra["external_ids"] == ["5741311803571721087", "5741311803571721088"]


def test_connect_registers_the_webhook_viber_checks_it_at_once(
    app, live_server, viber, admin_id, fake_viber
):
    source_id, url = viber
    result = app.test_cli_runner().invoke(args=["chats", "connect", str(source_id)])
    assert result.exit_code == 0, result.output
    assert "Viber now delivers" in result.output
    [call] = fake_viber.calls("set_webhook")
    assert call.params["url"] == url and call.params["send_name"] is True
    assert fake_viber.webhook_url == url  # our endpoint answered Viber's signed check with 200
    run_worker(app)  # the "webhook" event is stored, processed, and creates nothing
    from gincore_chats.models import InboundEvent, Message

    assert count_rows(app, Message) == 0 and count_rows(app, InboundEvent) == 1

    # A wrong token: Viber's refusal is the error shown.
    from gincore_chats.models import Source
    from gincore_chats.services.channels import sources as channel_sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            channel_sources.do_update_credentials(
                state, state.session.get(Source, source_id), {"auth_token": "wrong"}
            )
    result = app.test_cli_runner().invoke(args=["chats", "connect", str(source_id)])
    assert (
        result.exit_code != 0
        and "Viber refused: Viber: invalidAuthToken (status 2)" in result.output
    )
