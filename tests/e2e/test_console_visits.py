"""Visits in the console: a visitor who only opened the widget is not work.

The open console hears the new conversation (the Visits filter shows it, live) but lists it
neither under All nor in the unread count, and makes no sound; the visitor's first message
brings it into All, live, as a new chat. Anonymous visitors get a neutral icon, not initials
("V1" for visitors #10 to #19 alike).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .console_kit import open_console, open_conversations, row, rows
from .widget_support import (  # noqa: F401  (fixtures)
    open_chat,
    send,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


def test_a_visit_waits_under_visits_until_the_customer_writes(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    # A named customer who wrote, for the avatar comparison.
    open_conversations(app, source_id, [{"name": "Nadia Novak"}], message="Hello")
    page = open_console(open_browser(), chats_url, manager_id)
    expect(rows(page)).to_have_count(1)
    visits = page.get_by_role("button", name="Visits", exact=True)
    everything = page.get_by_role("button", name="All", exact=True)

    t = texts(app, "en")
    visitor = visitor_browser().page
    visitor.goto(shop.add_page("/visit", chats_url, key))
    open_chat(visitor, t)

    # Heard live: under Visits, with "no message yet"; the title counts nothing new.
    visits.click()
    expect(visits).to_have_attribute("aria-pressed", "true")
    visit = rows(page).filter(has_text="Visit · no message yet")
    expect(visit).to_have_count(1)
    expect(rows(page)).to_have_count(1)
    name = visit.locator(".gc-row-name").inner_text()
    assert name.startswith("Visitor #")
    # A neutral icon, no initials.
    icon = visit.locator(".gc-avatar")
    expect(icon).to_have_class("gc-avatar gc-avatar-md gc-avatar-anon")
    expect(icon).to_have_text("")
    expect(icon.locator("svg")).to_have_count(1)

    everything.click()
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Nadia Novak")).to_have_count(1)
    expect(row(page, name)).to_have_count(0)
    expect(page).to_have_title("(1) Chats · Console")
    expect(row(page, "Nadia Novak").locator(".gc-avatar")).to_have_text("NN")

    # The first message: in All at once, unread, and the visit is no longer one.
    send(visitor, t, "Is the copper kettle in stock?")
    expect(row(page, name)).to_contain_text("Is the copper kettle in stock?")
    expect(row(page, name).locator(".gc-unread")).to_have_text("1 1 unread")
    expect(page).to_have_title("(2) Chats · Console")
    expect(page.locator("#gc-announce")).to_have_text(f"New conversation from {name}.")
    visits.click()
    expect(page.locator("#gc-list-empty")).to_be_visible()
    expect(rows(page)).to_have_count(0)
