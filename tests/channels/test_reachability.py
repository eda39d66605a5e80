"""Customers who blocked the bot or unsubscribed: marked, shown, not sent to, and back again.

Through the real surface: Telegram ``my_chat_member`` updates and Viber subscription callbacks
are POSTed to the live server like the platforms do, the real worker processes them, managers
read and reply over the console API and WebSocket, and the fake platform servers record that
no send was attempted while the mark stood.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
import uuid
from typing import Any

import pytest

from ..conftest import Console, make_staff
from ..test_realtime import console_socket, frames_until
from .conftest import (
    make_channel_source,
    pending_jobs,
    run_worker,
    stored_credentials,
    webhook_url,
)
from .fakes import BOT, TELEGRAM_TOKEN, VIBER_TOKEN, telegram_update, viber_callback
from .payloads import TEXT

BLOCKED = "The customer blocked the bot on Telegram."
UNSUBSCRIBED = "The customer unsubscribed from the bot on Viber."
CHAT = {"id": 987654321, "first_name": "Anna", "username": "anna_k", "type": "private"}
ANNA = {"id": 987654321, "is_bot": False, "first_name": "Anna", "username": "anna_k"}

_update_ids = iter(range(815700000, 815800000))


def member_update(status: str, date: int) -> dict[str, Any]:
    """``my_chat_member`` as Telegram sends it when the user blocks (kicked) or restarts the bot."""
    old = "member" if status == "kicked" else "kicked"
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": CHAT,
            "from": ANNA,
            "date": date,
            "old_chat_member": {"user": BOT, "status": old},
            "new_chat_member": {
                "user": BOT,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            },
        },
    }


def text_update(text: str, date: int) -> dict[str, Any]:
    update = copy.deepcopy(TEXT)
    update["update_id"] = next(_update_ids)
    update["message"]["message_id"] = update["update_id"] % 100000
    update["message"].update(text=text, date=date)
    return update


def reply(console: Console, conv_id: int, text: str) -> dict[str, Any]:
    r = console.api(
        "POST", f"/conversations/{conv_id}/messages", {"body": text, "client_id": str(uuid.uuid4())}
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]


def conversation(console: Console, conv_id: int) -> dict[str, Any]:
    return console.api("GET", f"/conversations/{conv_id}").json()


def message(console: Console, conv_id: int, message_id: int) -> dict[str, Any]:
    return next(m for m in conversation(console, conv_id)["messages"] if m["id"] == message_id)


def list_row(console: Console, conv_id: int) -> dict[str, Any]:
    rows = console.api("GET", "/conversations").json()["conversations"]
    return next(r for r in rows if r["id"] == conv_id)


@dataclasses.dataclass
class Chat:
    app: Any
    url: str
    secret: str
    console: Console
    conv_id: int
    now: int

    def deliver(self, update: dict[str, Any]) -> int:
        r = telegram_update(self.url, update, self.secret)
        assert r.status_code == 200, r.text
        return int(r.json()["event_id"])

    def post(self, update: dict[str, Any]) -> None:
        self.deliver(update)
        run_worker(self.app)

    def unreachable(self) -> dict[str, Any] | None:
        return conversation(self.console, self.conv_id)["conversation"]["unreachable"]


@pytest.fixture
def telegram(app, channels, live_server, manager_id) -> Chat:
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    url = webhook_url(live_server, key)
    secret = stored_credentials(app, source_id)["webhook_secret"]
    now = int(time.time())
    assert telegram_update(url, text_update("Hi, my order has not arrived", now - 60), secret).ok
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = console.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    return Chat(app, url, secret, console, conv_id, now)


def test_telegram_block_is_shown_replies_are_not_sent_and_restart_clears_it(
    app, live_server, telegram, fake_telegram
):
    chat, console, conv_id = telegram, telegram.console, telegram.conv_id
    socket = console_socket(live_server, console)
    after = conversation(console, conv_id)["last_seq"]
    socket.send(json.dumps({"op": "sync", "conversation_id": conv_id, "after": after}))
    frames_until(socket, lambda f: f["type"] == "synced")
    chat.post(member_update("kicked", chat.now - 30))

    # Live: the open conversation's event and the list row, in whichever order they come.
    seen: dict[str, Any] = {}

    def both(frame: dict[str, Any]) -> bool:
        if frame.get("event") == "contact.reachability":
            seen["event"] = frame["data"]["unreachable"]
        if frame.get("type") == "conversation":
            seen["row"] = frame["conversation"]["unreachable"]
        return {"event", "row"} <= set(seen)

    frames_until(socket, both)
    assert seen["event"]["reason"] == seen["row"]["reason"] == BLOCKED
    socket.close()
    # Over HTTP: the conversation and its list row.
    assert chat.unreachable()["reason"] == BLOCKED
    since = list_row(console, conv_id)["unreachable"]["since"]
    assert since.startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(chat.now - 30)))

    # A reply fails at once with the reason, and Telegram is not called.
    held = reply(console, conv_id, "Are you still there?")
    assert held["delivery_status"] == "failed" and held["can_retry"] is True
    assert held["delivery_error"].startswith(f"Not sent: {BLOCKED}")
    run_worker(app)
    assert fake_telegram.calls("sendMessage") == [] and pending_jobs(app) == 0
    # Internal notes still work.
    note = console.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {"body": "Customer blocked us", "client_id": str(uuid.uuid4()), "note": True},
    )
    assert note.status_code == 201 and note.json()["message"]["delivery_status"] is None

    # The customer restarts the bot: the mark is gone and replies go out again.
    chat.post(member_update("member", chat.now - 10))
    assert chat.unreachable() is None
    sent = reply(console, conv_id, "Welcome back!")
    run_worker(app)
    assert message(console, conv_id, sent["id"])["delivery_status"] == "sent"
    assert [c.params["text"] for c in fake_telegram.calls("sendMessage")] == ["Welcome back!"]


def test_a_manager_without_customers_view_sees_the_mark_too(app, live_server, telegram):
    chat = telegram
    chat.post(member_update("kicked", chat.now - 30))
    viewer_id = make_staff(app, "Vera Viewer", "chats.view,chats.reply")
    _assign(app, chat.conv_id, viewer_id)
    viewer = Console(live_server, viewer_id)
    row = list_row(viewer, chat.conv_id)
    assert row["unreachable"]["reason"] == BLOCKED and "username" not in row["contact"]


def _assign(app: Any, conv_id: int, manager_id: str) -> None:
    from gincore_chats.models import Conversation
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = state.session.get(Conversation, conv_id).source
            ids = sorted(source.employee_ids | {manager_id})
            sources.do_set_employees(state, source, ids)


def test_writing_again_clears_the_mark_but_late_older_updates_change_nothing(
    app, telegram, fake_telegram
):
    chat = telegram
    chat.post(member_update("kicked", chat.now - 30))
    # A message written before the block, delivered late: still unreachable.
    chat.post(text_update("sent before blocking", chat.now - 40))
    assert chat.unreachable()["reason"] == BLOCKED
    # A message written after it: reachable again.
    chat.post(text_update("I unblocked you", chat.now - 20))
    assert chat.unreachable() is None
    # A retried delivery of the old block (processed after the newer message) is stale.
    chat.post(member_update("kicked", chat.now - 30))
    assert chat.unreachable() is None
    # A restart processed before an older block leaves the customer reachable.
    chat.post(member_update("member", chat.now - 5))
    chat.post(member_update("kicked", chat.now - 8))
    assert chat.unreachable() is None
    reply(chat.console, chat.conv_id, "Hello")
    run_worker(app)
    assert len(fake_telegram.calls("sendMessage")) == 1


def test_a_block_processed_while_a_reply_waits_stops_the_send(app, telegram, fake_telegram):
    from gincore_chats.services.channels import inbound

    chat = telegram
    waiting = reply(chat.console, chat.conv_id, "One moment please")
    assert waiting["delivery_status"] == "pending"  # its send job is queued
    # A second worker processes the block before the send job runs.
    event_id = chat.deliver(member_update("kicked", chat.now - 1))
    with app.app_context():
        inbound.process_event(app.extensions["gincore_chats"], event_id)
    run_worker(app)
    shown = message(chat.console, chat.conv_id, waiting["id"])
    assert shown["delivery_status"] == "failed"
    assert shown["delivery_error"].startswith(f"Not sent: {BLOCKED}")
    assert fake_telegram.calls("sendMessage") == []


def test_a_blocked_bot_error_marks_the_customer_and_retry_tries_again(app, telegram, fake_telegram):
    chat = telegram
    blocked = {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    fake_telegram.fail_next("sendMessage", 403, blocked)
    first = reply(chat.console, chat.conv_id, "Hello?")
    run_worker(app)
    assert message(chat.console, chat.conv_id, first["id"])["delivery_error"] == (
        "Forbidden: bot was blocked by the user"
    )
    assert chat.unreachable()["reason"] == (
        "Telegram refused a reply: Forbidden: bot was blocked by the user."
    )
    # Further replies are not attempted ...
    second = reply(chat.console, chat.conv_id, "Hello again?")
    assert second["delivery_status"] == "failed"
    run_worker(app)
    assert len(fake_telegram.calls("sendMessage")) == 1
    # ... but a manager's retry asks Telegram again; it goes through and lifts the mark.
    r = chat.console.api("POST", f"/conversations/{chat.conv_id}/messages/{second['id']}/retry")
    assert r.status_code == 200 and r.json()["message"]["delivery_status"] == "pending"
    run_worker(app)
    assert message(chat.console, chat.conv_id, second["id"])["delivery_status"] == "sent"
    assert chat.unreachable() is None
    assert len(fake_telegram.calls("sendMessage")) == 2


# -- Viber ----------------------------------------------------------------------------------------

JOHN = {"id": "01234567890A=", "name": "John McClane", "language": "en", "api_version": 10}


def test_viber_unsubscribe_is_shown_replies_are_not_sent_and_subscribe_clears_it(
    app, live_server, channels, manager_id, fake_viber
):
    _, key = make_channel_source(
        app, "viber", {"auth_token": VIBER_TOKEN, "sender_name": "Acme Support"}, [manager_id]
    )
    url = webhook_url(live_server, key)
    now_ms = int(time.time() * 1000)
    first = {
        "event": "message",
        "timestamp": now_ms - 60_000,
        "chat_hostname": "SN-CHAT-03_",
        "message_token": 4912661846655238145,
        "sender": JOHN,
        "message": {"type": "text", "text": "Where is my parcel?"},
        "silent": False,
    }
    assert viber_callback(url, first).status_code == 200
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = console.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200

    unsubscribed = {
        "event": "unsubscribed",
        "timestamp": now_ms - 30_000,
        "chat_hostname": "SN-376_",
        "user_id": JOHN["id"],
        "message_token": 5466394919049723652,
    }
    assert viber_callback(url, unsubscribed).status_code == 200
    run_worker(app)
    assert list_row(console, conv_id)["unreachable"]["reason"] == UNSUBSCRIBED
    held = reply(console, conv_id, "Your parcel is on its way")
    assert held["delivery_error"].startswith(f"Not sent: {UNSUBSCRIBED}")
    run_worker(app)
    assert fake_viber.calls("send_message") == []

    subscribed = {
        "event": "subscribed",
        "timestamp": now_ms - 10_000,
        "chat_hostname": "SN-CHAT-01_",
        "user": JOHN,
        "message_token": 4912661846655238146,
    }
    assert viber_callback(url, subscribed).status_code == 200
    run_worker(app)
    assert conversation(console, conv_id)["conversation"]["unreachable"] is None
    sent = reply(console, conv_id, "Welcome back")
    run_worker(app)
    assert message(console, conv_id, sent["id"])["delivery_status"] == "sent"
    assert [c.params["text"] for c in fake_viber.calls("send_message")] == ["Welcome back"]
