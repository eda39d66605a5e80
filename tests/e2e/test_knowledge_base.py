"""The knowledge base in real browsers: an admin approves and edits a candidate extracted from
a closed conversation; a manager inserts a suggested answer; a visitor sees suggestions while
typing when the source has them switched on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..channels.conftest import clear_queue, run_worker
from ..conftest import Console, LiveServer, create_source
from .conftest import BrowserSide, ShopServer
from .console_kit import (
    composer,
    join,
    open_chat,
    open_console,
    quiet_server,  # noqa: F401  (fixture)
    set_source_settings,
    start_widget,
    widget_panel,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]


def publish(console: Console, server: LiveServer, question: str, answer: str) -> None:
    r = console.http.post(
        f"{server.url}/chats/settings/knowledge/new",
        data={"csrf_token": console.csrf, "question": question, "answer": answer,
              "language": "en", "scope": "all", "publish": "1"},
        allow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 302, r.text


def test_admin_approves_and_edits_an_extracted_candidate(
    app: Any, live_server: LiveServer, chats_url: str, shop: ShopServer,
    open_browser: Callable[[], BrowserSide], admin_id: str,
):  # fmt: skip
    state = app.extensions["gincore_chats"]
    clear_queue(state)
    _source, key = create_source(app, [shop.host], [admin_id])
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(
        visitor.page, "Hi! How long does delivery to Lviv take? My phone is +380 67 123 45 67"
    )
    # widget_send waits for the bubble, which shows before the server has the message; the
    # API below reads the database, so wait until the widget has the stored message back.
    stored = widget_panel(visitor.page).locator(".gc-mine:not(.gc-pending)", has_text="Lviv")
    expect(stored).to_have_count(1)
    admin = Console(live_server, admin_id)
    conv_id = admin.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert admin.api("POST", f"/conversations/{conv_id}/join").ok
    admin.api(
        "POST",
        f"/conversations/{conv_id}/messages",
        {
            "body": "Delivery to Lviv takes one or two business days.",
            "client_id": str(uuid.uuid4()),
        },
    )
    admin.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
    run_worker(app)

    page = open_browser().page
    page.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/settings/knowledge?status=candidate")
    entries = page.get_by_role("table")
    expect(entries).to_contain_text("How long does delivery to Lviv take?")
    expect(entries).not_to_contain_text("380")
    entries.get_by_role("link", name=re.compile("How long does delivery to Lviv")).click()
    expect(page.get_by_role("link", name=f"Conversation {conv_id}", exact=True)).to_be_visible()
    page.get_by_label("Question").fill("How long does delivery to Lviv take?")
    page.get_by_label("Answer").fill("Delivery to Lviv takes 1-2 business days with Nova Poshta.")
    page.get_by_label("Alternative phrasings, one per line").fill("Delivery time to Lviv?")
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Saved and published.")
    expect(page.locator("#kb-meta")).to_contain_text("Published")
    expect(page.get_by_label("Answer")).to_have_value(
        "Delivery to Lviv takes 1-2 business days with Nova Poshta."
    )
    page.keyboard.press("Tab")  # the page stays usable from the keyboard
    clear_queue(state)


def test_manager_inserts_a_suggested_answer(
    app: Any, live_server: LiveServer, chats_url: str, shop: ShopServer,
    open_browser: Callable[[], BrowserSide], admin_id: str, manager_id: str,
):  # fmt: skip
    _source, key = create_source(app, [shop.host], [manager_id])
    answer = "Standard delivery takes 3-5 business days: https://shop.example.com/delivery"
    publish(Console(live_server, admin_id), live_server, "How long does delivery take?", answer)
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "how many days does delivery take?")
    page = open_console(open_browser(), chats_url, manager_id)
    open_chat(page, "how many days")
    suggestions = page.get_by_role("region", name="Suggested answers")
    expect(suggestions).to_contain_text("How long does delivery take?")
    expect(
        suggestions.get_by_role("link", name="https://shop.example.com/delivery")
    ).to_be_visible()
    join(page)
    composer(page).fill("Hello! ")
    suggestions.get_by_role("button", name="Insert answer: How long does delivery take?").click()
    expect(composer(page)).to_have_value(
        "Hello! Standard delivery takes 3-5 business days: https://shop.example.com/delivery"
    )
    expect(composer(page)).to_be_focused()
    composer(page).press("End")
    composer(page).type(" Anything else?")
    composer(page).press("Enter")
    expect(visitor.log()).to_contain_text("Standard delivery takes 3-5 business days")
    expect(visitor.log()).to_contain_text("Anything else?")


def test_widget_suggests_answers_while_typing_when_switched_on(
    app: Any, live_server: LiveServer, chats_url: str, shop: ShopServer,
    open_browser: Callable[[], BrowserSide], admin_id: str,
):  # fmt: skip
    source_id, key = create_source(app, [shop.host], [admin_id])
    answer = "Yes, within 30 days of delivery. Start at https://shop.example.com/returns"
    publish(Console(live_server, admin_id), live_server, "Can I return an item?", answer)
    visitor = start_widget(open_browser, shop, chats_url, key, path="/off")
    box = widget_panel(visitor.page).get_by_role("textbox", name="Message")
    box.fill("how do i return an item")
    widget_send(visitor.page, "hello")  # a round trip later: nothing was offered while off
    expect(
        widget_panel(visitor.page).get_by_role("region", name="Answers that may help")
    ).to_have_count(0)

    set_source_settings(app, source_id, kb_suggestions=True)
    other = start_widget(open_browser, shop, chats_url, key, path="/on")
    box = widget_panel(other.page).get_by_role("textbox", name="Message")
    box.press_sequentially("how do i return an item", delay=20)
    region = widget_panel(other.page).get_by_role("region", name="Answers that may help")
    expect(region).to_be_visible()
    region.get_by_text("Can I return an item?").click()
    expect(region.get_by_role("link", name="https://shop.example.com/returns")).to_be_visible()
    expect(region).to_contain_text("Yes, within 30 days of delivery.")
