"""A Telegram customer and a manager in a real browser, with a fake Telegram Bot API.

The customer writes (a signed webhook POST to our live server); the open console shows the
conversation live; the manager joins and replies; the worker sends the reply and the fake
Telegram server receives ``sendMessage`` with the text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..channels.conftest import (  # noqa: F401  (fixtures used by name)
    channels,
    fake_telegram,
    fake_viber,
    make_channel_source,
    receiver,
    run_worker,
    stored_credentials,
    webhook_url,
    work_until,
)
from ..channels.fakes import TELEGRAM_TOKEN, FakeTelegram, telegram_update
from ..channels.payloads import TEXT
from ..conftest import LiveServer
from .conftest import BrowserSide
from .test_walking_skeleton import console_messages, console_reply, console_rows, open_console

pytestmark = pytest.mark.e2e


def test_telegram_customer_writes_manager_replies_from_the_console(
    app: Any,
    channels: Any,  # noqa: F811
    live_server: LiveServer,
    chats_url: str,
    fake_telegram: FakeTelegram,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]

    console = open_console(open_browser(), chats_url, manager_id)
    expect(console_rows(console)).to_have_count(0)

    assert telegram_update(webhook_url(live_server, key), TEXT, secret).status_code == 200
    run_worker(app)

    # The worker's commit reaches the open console live, without a reload.
    row = console_rows(console).first
    expect(row).to_contain_text("Anna Kovacs")
    expect(row).to_contain_text("Hi, my order #5521 has not arrived")
    row.click()
    expect(console.get_by_role("heading", name="Anna Kovacs")).to_be_visible()
    customer = console_messages(console).locator(".gc-msg-customer")
    expect(customer.locator(".gc-text")).to_have_text("Hi, my order #5521 has not arrived")
    console.get_by_role("button", name="Join").click()
    expect(console.get_by_role("button", name="Leave")).to_be_visible()

    console_reply(console, "Hello Anna, I'm checking order #5521 now.")
    expect(console_messages(console)).to_contain_text("Hello Anna, I'm checking order #5521 now.")

    calls = work_until(app, lambda: fake_telegram.calls("sendMessage"))
    [call] = calls
    assert call.params == {
        "chat_id": 987654321,
        "text": "Hello Anna, I'm checking order #5521 now.",
    }


def test_a_customer_who_blocked_the_bot_is_shown_and_replies_say_why(
    app: Any,
    channels: Any,  # noqa: F811
    live_server: LiveServer,
    chats_url: str,
    fake_telegram: FakeTelegram,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    from ..channels.test_reachability import BLOCKED, member_update, text_update

    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]
    url = webhook_url(live_server, key)
    now = int(time.time())
    assert telegram_update(url, text_update("Hi there", now - 60), secret).status_code == 200
    run_worker(app)

    console = open_console(open_browser(), chats_url, manager_id)
    row = console_rows(console).first
    row.click()
    console.get_by_role("button", name="Join").click()
    expect(console.get_by_role("button", name="Leave")).to_be_visible()

    assert telegram_update(url, member_update("kicked", now - 30), secret).status_code == 200
    run_worker(app)
    # Live, without a reload: the list row, the header and the composer say it.
    expect(row.locator(".gc-tag-unreachable")).to_have_text("Unreachable")
    expect(console.locator("#gc-chat-sub .gc-tag-unreachable")).to_contain_text(BLOCKED)
    hint = console.get_by_role("status").filter(has_text="Replies are not sent")
    expect(hint).to_contain_text(BLOCKED)
    console_reply(console, "Are you there?")
    mine = console_messages(console).locator(".gc-msg-manager").last
    expect(mine).to_contain_text("Not sent: " + BLOCKED)
    expect(mine.get_by_role("button", name="Retry")).to_be_visible()
    assert fake_telegram.calls("sendMessage") == []

    assert telegram_update(url, member_update("member", now - 10), secret).status_code == 200
    run_worker(app)
    expect(row.locator(".gc-tag-unreachable")).to_have_count(0)
    expect(console.locator("#gc-chat-sub .gc-tag-unreachable")).to_have_count(0)
    expect(hint).to_be_hidden()
