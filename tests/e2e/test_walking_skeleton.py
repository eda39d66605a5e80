"""The walking skeleton in real browsers: a visitor on a shop (another origin) and a manager.

Visitor: the widget snippet on ``http://127.0.0.1:<shop port>``. Manager: the console on
``http://localhost:<chats port>``. Every wait is one of Playwright's auto-waiting ``expect``
assertions; nothing sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer

pytestmark = pytest.mark.e2e

XSS = '<img src=x onerror="window.__pwned=1">'


# -- helpers --------------------------------------------------------------------------------------


def conversation_ids(app: Any) -> list[int]:
    from gincore_chats.models import Conversation

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return list(session.scalars(select(Conversation.id).order_by(Conversation.id)))
        finally:
            session.remove()


def open_console(side: BrowserSide, chats_url: str, user_id: str) -> Page:
    """Log in through the host's login route and land on the console with a live socket."""
    page = side.page
    page.goto(f"{chats_url}/test-login/{user_id}?next=/chats/console")
    expect(page).to_have_url(f"{chats_url}/chats/console")
    expect(page.locator("#gc-conn")).to_have_text("Live")
    return page


def console_rows(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversation list").get_by_role("button")


def console_messages(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Open chat")


def widget_panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Chat with us")


def widget_log(page: Page) -> Locator:
    return widget_panel(page).get_by_role("list", name="Chat with us")


def widget_send(page: Page, text: str) -> None:
    box = widget_panel(page).get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def console_reply(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Reply").fill(text)
    page.get_by_role("button", name="Send").click()


def page_storage(page: Page) -> dict[str, Any]:
    return page.evaluate(
        "() => ({cookie: document.cookie, storage: localStorage.length,"
        " keys: Object.keys(localStorage)})"
    )


def pwned(page: Page) -> Any:
    return page.evaluate("() => window.__pwned")


# -- the scenario ---------------------------------------------------------------------------------


def test_visitor_and_manager_chat_live_and_history_survives_reload(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    shop_url = shop.add_page("/shoes", chats_url, key)

    # The manager's console is open before anything happens, and is never reloaded until the end.
    manager = open_browser()
    console = open_console(manager, chats_url, manager_id)
    expect(console_rows(console)).to_have_count(0)

    visitor = open_browser()
    shop_page = visitor.page
    requested: list[str] = []
    shop_page.on("request", lambda r: requested.append(r.url))
    shop_page.goto(shop_url)
    expect(launcher(shop_page)).to_be_visible()

    # Before the visitor opens the chat: no cookie, no storage, nothing fetched but the loader.
    assert page_storage(shop_page) == {"cookie": "", "storage": 0, "keys": []}
    assert visitor.context.cookies() == []
    assert [u for u in requested if u.startswith(chats_url)] == [f"{chats_url}/chats/widget.js"]
    assert conversation_ids(app) == []

    launcher(shop_page).click()
    expect(widget_panel(shop_page)).to_be_visible()
    # The launcher now closes the chat (its name and state say so).
    expect(shop_page.get_by_role("button", name="Close chat", expanded=True)).to_be_visible()

    # The conversation shows up in the open console without a reload: as a visit until the
    # visitor writes (nobody has asked anything yet), under Visits.
    console.get_by_role("button", name="Visits", exact=True).click()
    expect(console_rows(console)).to_have_count(1)
    [conv_id] = conversation_ids(app)
    row = console_rows(console).first
    expect(row).to_contain_text(f"Visitor #{conv_id}")
    expect(row).to_contain_text("Visit · no message yet")

    # Opening the chat stored the visitor's token (and nothing else); still no cookie anywhere.
    assert page_storage(shop_page)["keys"] == [f"gincore-chats:{key}"]
    assert visitor.context.cookies() == []

    row.click()
    expect(console.get_by_role("heading", name=f"Visitor #{conv_id}")).to_be_visible()
    console.get_by_role("button", name="Join").click()
    expect(console.get_by_role("button", name="Leave")).to_be_visible()

    log = widget_log(shop_page)
    expect(log.locator(".gc-sys")).to_have_text(["Mia Manager joined the chat"])

    console_reply(console, "Hello! How can I help?")
    reply = log.locator("li", has_text="Hello! How can I help?")
    expect(reply).to_have_count(1)
    expect(reply.locator(".gc-sig")).to_have_text("Mia Manager")

    widget_send(shop_page, "Do you have these in size 43?")
    msgs = console_messages(console)
    customer = msgs.locator(".gc-msg-customer")
    expect(customer).to_have_count(1)
    expect(customer.locator(".gc-text")).to_have_text("Do you have these in size 43?")
    # No longer a visit: it left Visits (live) for All, the manager's work.
    expect(console_rows(console)).to_have_count(0)
    console.get_by_role("button", name="All", exact=True).click()
    expect(console_rows(console)).to_have_count(1)
    row = console_rows(console).first
    expect(row).to_contain_text("Do you have these in size 43?")
    # The visitor's own message is confirmed by the server (one bubble, no pending copy).
    expect(log.locator(".gc-mine")).to_have_count(1)

    # The launcher toggles: it closes the chat it opened, and opens it again.
    shop_page.get_by_role("button", name="Close chat", expanded=True).click()
    expect(widget_panel(shop_page)).to_be_hidden()
    launcher(shop_page).click()
    expect(widget_panel(shop_page)).to_be_visible()

    # Reload both pages: both histories come back; the widget restores its conversation.
    shop_page.reload()
    expect(launcher(shop_page)).to_be_visible()
    launcher(shop_page).click()
    expect(widget_panel(shop_page)).to_be_visible()
    log = widget_log(shop_page)
    expect(log.locator("li")).to_have_text(
        [
            "We are online. Ask us anything!",  # the greeting: Mia's console is open
            "Mia Manager joined the chat",
            re.compile(r"^Mia Manager\s*Hello! How can I help\?\s*\d"),
            re.compile(r"^Do you have these in size 43\?\s*\d.*(Sent|Seen)$"),
        ]
    )
    assert conversation_ids(app) == [conv_id]

    console.reload()
    expect(console.locator("#gc-conn")).to_have_text("Live")
    expect(console_rows(console)).to_have_count(1)
    console_rows(console).first.click()
    msgs = console_messages(console)
    expect(msgs.locator("li")).to_have_count(3)
    expect(msgs.locator(".gc-system")).to_have_text("Mia Manager joined the chat")
    expect(msgs.locator(".gc-msg-manager .gc-text")).to_have_text("Hello! How can I help?")
    expect(msgs.locator(".gc-msg-customer .gc-text")).to_have_text("Do you have these in size 43?")

    # Still live after both reloads, in both directions.
    console_reply(console, "Yes, we do.")
    expect(log.locator("li", has_text="Yes, we do.")).to_have_count(1)
    widget_send(shop_page, "Great, thanks!")
    expect(msgs.locator(".gc-msg-customer .gc-text")).to_have_text(
        ["Do you have these in size 43?", "Great, thanks!"]
    )


def test_user_strings_are_shown_as_text_never_as_html(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
) -> None:
    evil_name = '<b onmouseover="window.__pwned=3">Eve</b>'
    eve = make_staff(
        app, evil_name, "chats.view,chats.reply,customers.view", email="eve@example.com"
    )
    _, key = create_source(app, [shop.host], [eve])
    shop_url = shop.add_page("/xss", chats_url, key)

    manager = open_browser()
    console = open_console(manager, chats_url, eve)
    visitor = open_browser()
    shop_page = visitor.page
    shop_page.goto(shop_url)
    launcher(shop_page).click()
    expect(widget_panel(shop_page)).to_be_visible()
    widget_send(shop_page, XSS)
    row = console_rows(console).first
    expect(row).to_contain_text(XSS)  # the list preview, live

    # The visitor also names themselves with markup (the widget API the contact form uses).
    token = shop_page.evaluate(f"() => localStorage.getItem('gincore-chats:{key}')")
    r = requests.patch(
        f"{chats_url}/chats/widget/api/contact",
        json={"name": "<script>window.__pwned=4</script>Bob"},
        headers={"Origin": shop.origin, "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text

    expect(row).to_contain_text("<script>window.__pwned=4</script>Bob")
    row.click()
    msgs = console_messages(console)
    expect(msgs.locator(".gc-msg-customer .gc-text")).to_have_text(XSS)
    console.get_by_role("button", name="Join").click()
    console_reply(console, '<img src=y onerror="window.__pwned=2">reply')

    log = widget_log(shop_page)
    expect(log.locator(".gc-sys")).to_have_text([f"{evil_name} joined the chat"])
    reply = log.locator("li", has_text="reply")
    expect(reply.locator(".gc-sig")).to_have_text(evil_name)
    expect(reply.locator(".gc-m")).to_have_text('<img src=y onerror="window.__pwned=2">reply')
    expect(log.locator(".gc-mine .gc-m")).to_have_text(XSS)
    expect(msgs.locator(".gc-system")).to_have_text(f"{evil_name} joined the chat")

    # Nothing became markup: no element was created from a user string, no handler ran.
    for page in (console, shop_page):
        # (#gc-texts is the page's own JSON of script texts, not executable; staff_language.py)
        assert page.locator("img, script:not([src]):not(#gc-texts), b").count() == 0
        assert page.locator("script#gc-texts:not([type='application/json'])").count() == 0
        assert pwned(page) is None


def test_widget_on_a_foreign_origin_does_not_start_and_says_why(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, ["shop.example.com"], [manager_id])
    shop_url = shop.add_page("/elsewhere", chats_url, key)

    visitor = open_browser()
    shop_page = visitor.page
    sockets: list[str] = []
    shop_page.on("websocket", lambda ws: sockets.append(ws.url))
    shop_page.goto(shop_url)
    expect(launcher(shop_page)).to_be_visible()
    with shop_page.expect_console_message(lambda m: m.type == "warning") as warned:
        launcher(shop_page).click()

    text = warned.value.text
    assert text.startswith("gincore-chats:"), text
    assert f"not enabled on {shop.origin}" in text, text
    assert "allowed domains" in text, text
    # The reason is also on screen, and nothing was created or stored.
    expect(widget_panel(shop_page).get_by_role("status")).to_contain_text(
        f"not enabled on {shop.origin}"
    )
    assert conversation_ids(app) == []
    assert page_storage(shop_page) == {"cookie": "", "storage": 0, "keys": []}
    assert visitor.context.cookies() == []
    # No socket was attempted either.
    assert sockets == []
