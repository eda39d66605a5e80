"""The widget as visitors know it from Intercom, Crisp or Chatwoot: their bubbles on the right,
the team's on the left, each with its local time; their own messages marked sent, then seen
once a manager has read them (live and after a reload); the team's greeting in the empty chat;
and the launcher turning into a close button while the chat is open."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    chat_log,
    launcher,
    only_conversation,
    open_chat,
    panel,
    send,
    set_presence,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e

TOKYO = "Asia/Tokyo"


def clock(iso: str) -> re.Pattern[str]:
    """What en-US shows for a message time in Tokyo today ("7:05 PM"; ICU may put a narrow
    no-break space before PM)."""
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(TOKYO))
    return re.compile(rf"^{local.strftime('%I:%M').lstrip('0')}\s{local.strftime('%p')}$")


def test_sides_times_and_seen_marks(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    t = texts(app, "en")
    page = visitor_browser(timezone_id=TOKYO).page
    page.goto(shop.add_page("/polish", chats_url, key))
    open_chat(page, t)
    log = chat_log(page, t)
    # The greeting is the team's first line, on the team's side, before anything is written.
    greeting = log.locator(".gc-greet")
    expect(greeting).to_have_text(t["business_hours"])
    expect(log.locator("li")).to_have_count(1)

    send(page, t, "Is the mug dishwasher safe?")
    mine = log.locator(".gc-mine:not(.gc-pending)")
    expect(mine).to_have_count(1)
    tick = mine.locator(".gc-tick")
    expect(tick).to_have_text(t["sent"])  # the words are there for screen readers
    expect(tick).to_have_attribute("title", t["sent"])

    manager = Manager(live_server, manager_id, only_conversation(app).id)
    manager.join()
    reply = manager.say("Yes, it is.")
    theirs = log.locator("li", has_text="Yes, it is.")
    expect(theirs).to_have_count(1)

    # Local times, in the visitor's time zone.
    sent_at = manager.detail()["messages"][0]["created_at"]
    expect(mine.locator("time")).to_have_text(clock(sent_at))
    expect(mine.locator("time")).to_have_attribute("datetime", sent_at)
    expect(theirs.locator("time")).to_have_text(clock(reply["created_at"]))

    # Visitor right, team left.
    box = log.bounding_box()
    mine_box, theirs_box = mine.bounding_box(), theirs.locator(".gc-m").bounding_box()
    assert box and mine_box and theirs_box
    assert abs((mine_box["x"] + mine_box["width"]) - (box["x"] + box["width"])) < 20
    assert abs(theirs_box["x"] - box["x"]) < 20

    # The manager reads the conversation: the visitor sees "seen", live.
    r = manager.api("POST", f"/conversations/{manager.conv}/read")
    assert r.status_code == 200, r.text
    expect(tick).to_have_text(t["seen"])
    expect(tick).to_have_class("gc-tick gc-seen")

    # A new message is only sent, until the team reads again; after a reload the marks stay.
    send(page, t, "Thanks!")
    expect(mine).to_have_count(2)
    expect(mine.locator(".gc-tick")).to_have_text([t["seen"], t["sent"]])
    page.reload()
    open_chat(page, t)
    expect(mine.locator(".gc-tick")).to_have_text([t["seen"], t["sent"]])


def test_the_greeting_follows_whether_the_team_is_online(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    set_presence(app, manager_id)
    uk = texts(app, "uk")
    page = visitor_browser(locale="uk-UA").page
    page.goto(shop.add_page("/online", chats_url, key))
    chat = open_chat(page, uk)
    expect(chat_log(page, uk).locator(".gc-greet")).to_have_text(uk["greeting_online"])
    expect(chat.locator(".gc-team")).to_have_text("Mia Manager")
    expect(chat.locator(".gc-hint")).to_have_text("")


def test_the_launcher_is_the_close_button_while_open(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    t = texts(app, "en")
    page = visitor_browser().page
    page.goto(shop.add_page("/launcher", chats_url, key))
    button = launcher(page, t["open"])
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button.locator("svg.o")).to_be_visible()
    expect(button.locator("svg.x")).to_be_hidden()
    open_chat(page, t)
    closer = page.get_by_role("button", name=t["close"], expanded=True).last
    expect(closer.locator("svg.x")).to_be_visible()
    expect(closer.locator("svg.o")).to_be_hidden()
    closer.click()
    expect(panel(page, t)).to_be_hidden()
    expect(button.locator("svg.o")).to_be_visible()
    expect(button).to_be_focused()
