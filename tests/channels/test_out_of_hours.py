"""The automatic out-of-hours reply of a messenger source, against the fake Telegram Bot API:
once per conversation per closed period, sent by the outbound job after commit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ..conftest import Console
from .conftest import make_channel_source, run_worker, stored_credentials, webhook_url
from .fakes import TELEGRAM_TOKEN, telegram_update
from .test_telegram import update

REPLY = "We are closed now and answer from 09:00 (Berlin time)."


@pytest.fixture
def clock(monkeypatch):
    from gincore_chats.services.hours import status

    def set_to(iso: str) -> None:
        at = datetime.fromisoformat(iso).astimezone(UTC)
        monkeypatch.setattr(status, "now", lambda: at)

    return set_to


@pytest.fixture
def bot(app, channels, live_server, manager_id):
    from gincore_chats.models import Source
    from gincore_chats.services.hours import settings as hours_settings
    from gincore_chats.services.unit_of_work import unit_of_work

    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    state = app.extensions["gincore_chats"]
    weekdays = {f"day_{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    form = {"enabled": "on", "timezone": "Europe/Berlin", **weekdays,
            "auto_reply_enabled": "on", "auto_reply": REPLY}  # fmt: skip
    with app.app_context(), unit_of_work(state.session):
        hours_settings.do_set(state.session.get(Source, source_id), form)
    secret = stored_credentials(app, source_id)["webhook_secret"]
    return webhook_url(live_server, key), secret


def deliver(app, url: str, secret: str, message_id: int, text: str) -> None:
    assert telegram_update(url, update(message_id, text), secret).status_code == 200
    run_worker(app)  # stores the message, then sends what it queued
    run_worker(app)


def test_one_reply_per_closed_period(app, live_server, bot, clock, fake_telegram, manager_id):
    url, secret = bot
    clock("2026-03-27T18:00:00+01:00")  # Friday evening: closed until Monday 09:00
    deliver(app, url, secret, 1301, "Hello, anyone?")
    [call] = fake_telegram.calls("sendMessage")
    assert call.params["text"] == REPLY and call.params["chat_id"] == 987654321

    clock("2026-03-28T11:00:00+01:00")  # Saturday: the same closed period
    deliver(app, url, secret, 1302, "Still there?")
    assert len(fake_telegram.calls("sendMessage")) == 1

    clock("2026-03-30T10:00:00+02:00")  # Monday morning: open, nothing automatic
    deliver(app, url, secret, 1303, "Good morning")
    assert len(fake_telegram.calls("sendMessage")) == 1

    clock("2026-03-30T19:00:00+02:00")  # Monday evening: a new closed period
    deliver(app, url, secret, 1304, "One more thing")
    calls = fake_telegram.calls("sendMessage")
    assert [c.params["text"] for c in calls] == [REPLY, REPLY]

    # The console shows the replies as sent system messages of the conversation.
    console = Console(live_server, manager_id)
    [row] = console.api("GET", "/conversations").json()["conversations"]
    detail = console.api("GET", f"/conversations/{row['id']}").json()
    replies = [m for m in detail["messages"] if m.get("system_code") == "out_of_hours"]
    assert [m["body"] for m in replies] == [REPLY, REPLY]
    assert all(m["delivery_status"] == "sent" for m in replies)


def test_no_reply_when_switched_off(app, live_server, bot, clock, fake_telegram):
    from gincore_chats.models import Source
    from gincore_chats.services.unit_of_work import unit_of_work

    url, secret = bot
    state = app.extensions["gincore_chats"]
    with app.app_context(), unit_of_work(state.session):
        source = state.session.query(Source).one()
        hours = dict(source.settings["hours"], auto_reply=None)
        source.settings = {**source.settings, "hours": hours}
    clock("2026-03-27T18:00:00+01:00")
    deliver(app, url, secret, 1401, "Hello?")
    assert fake_telegram.calls("sendMessage") == []
