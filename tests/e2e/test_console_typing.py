"""Typing indicators both ways, the Pro live preview (on and off, checked on the wire), and the
customer's local time in real browsers.

The visitor's typing is sent over a visitor socket that uses the widget's own token and Origin
(the widget build under test may not send typing yet); what the widget itself puts on the wire
is checked too: on the free plan, text typed in the widget never leaves the visitor's browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from ..conftest import LiveServer, create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    composer,
    conversation_ids,
    join,
    message,
    new_side,
    open_chat,
    open_console,
    quiet_server,
    row,
    send_reply,
    set_source_settings,
    start_widget,
    tap,
    visitor_socket,
    widget_panel,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"
SECRET = "my card is 4111 1111"


@pytest.fixture
def custom_browser(chromium: Browser) -> Iterator[Callable[..., BrowserSide]]:
    """Like open_browser, with context options (time zone, locale)."""
    sides: list[BrowserSide] = []
    yield lambda **options: new_side(chromium, sides, **options)
    errors = [e for side in sides for e in side.errors]
    for side in sides:
        side.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def typing_frames(frames: list[dict[str, Any]], who: str) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "typing" and f.get("who") == who]


def test_typing_shows_both_ways_and_free_plan_text_never_leaves_the_browser(
    app: Any,
    live_server: LiveServer,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    colin_id = make_staff(app, "Colin Colleague", ALL)
    _, key = create_source(app, [shop.host], [manager_id, colin_id])
    mia_side = open_browser()
    mia_wire = tap(mia_side.page, "/chats/console/ws")
    mia = open_console(mia_side, chats_url, manager_id)
    colin = open_console(open_browser(), chats_url, colin_id)
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "hello")
    [conv_id] = conversation_ids(app)
    name = f"Visitor #{conv_id}"
    open_chat(mia, name)
    join(mia)
    open_chat(colin, name)

    # The visitor types in the widget without sending: the managers see that, never the text
    # (the free plan's widget does not send it).
    box = visitor.page.get_by_role("textbox", name="Message")
    box.press_sequentially(SECRET)
    for page in (mia, colin):
        expect(page.locator(".gc-typing-status")).to_have_text(f"{name} is typing…")
        expect(page.locator(".gc-preview")).to_be_hidden()
    box.fill("")
    box.press("Backspace")
    expect(mia.locator(".gc-typing-status")).to_have_text("")
    # A client that sends text anyway (an old or tampered widget) is cut off by the server.
    with visitor_socket(live_server, shop.origin, visitor.token()) as vws:
        vws.send(json.dumps({"op": "typing", "active": True, "text": SECRET}))
        expect(mia.locator(".gc-typing-status")).to_have_text(f"{name} is typing…")
        vws.send(json.dumps({"op": "typing", "active": False}))
        expect(mia.locator(".gc-typing-status")).to_have_text("")
    customer_typing = typing_frames([json.loads(f) for f in mia_wire.received], "customer")
    assert customer_typing and all("preview" not in f for f in customer_typing)
    assert "4111" not in "\n".join(mia_wire.received)
    assert "4111" not in "\n".join(visitor.wire.sent)

    # Mia types: the visitor's socket gets "Mia Manager is typing" (no text); Colin sees it too.
    with visitor.wire.expect_frame(
        lambda f: f.get("type") == "typing" and f.get("who") == "manager"
    ) as typing:
        composer(mia).press_sequentially("Let me check")
    frame = json.loads(typing.value)
    assert frame["name"] == "Mia Manager" and frame["active"] is True
    assert "Let me check" not in typing.value
    expect(colin.locator(".gc-typing-status")).to_have_text("Mia Manager is typing…")
    expect(widget_panel(visitor.page).locator(".gc-typing")).to_have_text("Mia Manager is typing…")
    # Sending ends the indicator for the colleague.
    composer(mia).press("Enter")
    expect(message(colin, "Let me check")).to_be_visible()
    expect(colin.locator(".gc-typing-status")).to_have_text("")


def test_pro_plan_shows_the_visitors_unsent_text_live(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    set_source_settings(app, source_id, plan="pro")
    page = open_console(open_browser(), chats_url, manager_id)
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "Hello")
    [conv_id] = conversation_ids(app)
    open_chat(page, f"Visitor #{conv_id}")
    box = visitor.page.get_by_role("textbox", name="Message")
    box.press_sequentially("I would like to ret")
    preview = page.locator(".gc-preview")
    expect(preview).to_contain_text("Live preview, not sent yet")
    expect(preview.locator(".gc-preview-text")).to_have_text("I would like to ret")
    box.press_sequentially("urn")
    expect(preview.locator(".gc-preview-text")).to_have_text("I would like to return")
    box.press("Enter")
    expect(message(page, "I would like to return")).to_be_visible()
    expect(preview).to_be_hidden()
    expect(page.locator(".gc-typing-status")).to_have_text("")


def test_customer_local_time_in_the_panel_and_on_messages(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    custom_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    # The manager is in UTC with a 24-hour locale; the visitor is in Tokyo (UTC+9).
    manager = custom_browser(locale="en-GB", timezone_id="UTC")
    page = open_console(manager, chats_url, manager_id)
    visitor_side = custom_browser(timezone_id="Asia/Tokyo")
    visitor = start_widget(lambda: visitor_side, shop, chats_url, key)
    widget_send(visitor.page, "What time do you close?")
    [conv_id] = conversation_ids(app)
    row(page, f"Visitor #{conv_id}").click()
    join(page)
    send_reply(page, "At 18:00 your time.")

    def tokyo(at: datetime) -> str:
        return (at + timedelta(hours=9)).strftime("%H:%M")

    now = datetime.now(UTC)
    clock = page.locator("#gc-local-time")
    # The browser sends its IANA zone, shown beside the offset (correct across DST changes).
    expect(clock).to_contain_text("(Asia/Tokyo, UTC+09:00)")
    expect(clock).to_contain_text(re.compile(f"({tokyo(now)}|{tokyo(now + timedelta(minutes=1))})"))

    stamp = message(page, "What time do you close?").locator("time")
    at = datetime.fromisoformat(stamp.get_attribute("datetime") or "")
    expect(stamp).to_have_text(at.astimezone(UTC).strftime("%H:%M"))  # the manager's own zone
    toggle = page.get_by_role("button", name="Customer's time")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(stamp).to_have_text(tokyo(at))
    expect(stamp).to_have_attribute("title", re.compile(r"Customer's time"))
    toggle.click()
    expect(stamp).to_have_text(at.astimezone(UTC).strftime("%H:%M"))
