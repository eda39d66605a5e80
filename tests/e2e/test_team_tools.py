"""Labels and saved replies in real browsers: a label one manager puts on a conversation
appears in a colleague's console live and filters the list; the composer's ``/`` picker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import Console, LiveServer, create_source, make_staff
from ..test_labels import create_label, label_ids
from .conftest import BrowserSide
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    composer,
    join,
    message,
    open_chat,
    open_console,
    open_conversations,
    quiet_server,
    row,
    rows,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def test_a_label_reaches_a_colleagues_console_live_and_filters_the_list(
    app: Any,
    live_server: LiveServer,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    colin_id = make_staff(app, "Colin Colleague", ALL)
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id, colin_id])
    admin = Console(live_server, admin_id)
    create_label(admin, live_server, "Billing", "#1d4ed8")
    create_label(admin, live_server, "Urgent", "#fde047")
    open_conversations(app, source_id, [{"name": "Refund Rita"}, {"name": "Shipping Sam"}], "Hello")
    mia = open_console(open_browser(), chats_url, manager_id)
    colin = open_console(open_browser(), chats_url, colin_id)
    open_chat(colin, "Refund Rita")
    open_chat(mia, "Refund Rita")

    labels_button = mia.get_by_role("button", name="Labels", exact=True)
    expect(labels_button).to_have_attribute("aria-expanded", "false")
    labels_button.click()
    expect(labels_button).to_have_attribute("aria-expanded", "true")
    billing = mia.get_by_role("group", name="Labels of this conversation").get_by_role(
        "checkbox", name="Billing"
    )
    expect(billing).to_be_focused()
    billing.check()
    expect(row(mia, "Refund Rita").locator(".gc-label")).to_have_text(["Billing"])
    mia.keyboard.press("Escape")
    expect(labels_button).to_be_focused()
    expect(labels_button).to_have_attribute("aria-expanded", "false")
    expect(mia.locator(".gc-chat-head .gc-label")).to_have_text(["Billing"])

    # Colin did nothing: his list row and his open chat's header show it live.
    expect(row(colin, "Refund Rita").locator(".gc-label")).to_have_text(["Billing"])
    expect(colin.locator(".gc-chat-head .gc-label")).to_have_text(["Billing"])
    expect(row(colin, "Shipping Sam").locator(".gc-label")).to_have_count(0)

    # The list filter: only the labelled conversation, then all again.
    colin.get_by_label("Label", exact=True).select_option(label="Billing")
    expect(rows(colin)).to_have_count(1)
    expect(rows(colin)).to_contain_text(["Refund Rita"])
    colin.get_by_label("Label", exact=True).select_option(label="Any label")
    expect(rows(colin)).to_have_count(2)

    # Taken off in Colin's console, gone from Mia's.
    colin.get_by_role("button", name="Labels", exact=True).click()
    colin.get_by_role("checkbox", name="Billing").uncheck()
    expect(row(mia, "Refund Rita").locator(".gc-label")).to_have_count(0)
    expect(mia.locator(".gc-chat-head .gc-label")).to_have_count(0)
    assert label_ids(admin).keys() == {"Billing", "Urgent"}


def test_slash_opens_saved_replies_and_enter_inserts_one_filled_in(
    app: Any,
    live_server: LiveServer,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    [conv_id] = open_conversations(app, source_id, [{"name": "Rita Roe"}], "Hello")
    admin = Console(live_server, admin_id)
    r = admin.api(
        "POST",
        "/canned",
        {
            "scope": "shared",
            "shortcut": "greeting",
            "text": "Hello {{ customer.name }}, I am {{ manager.name }} ({{ customer.loyalty }}).",
        },
    )
    assert r.status_code == 201
    mia_api = Console(live_server, manager_id)
    r = mia_api.api(
        "POST", "/canned", {"shortcut": "great", "text": "Great news, {{ customer.name }}!"}
    )
    assert r.status_code == 201
    mia_api.api("POST", "/canned", {"shortcut": "bye", "text": "Goodbye"})

    mia = open_console(open_browser(), chats_url, manager_id)
    open_chat(mia, "Rita Roe")
    join(mia)
    box = composer(mia)
    box.press_sequentially("/gre")
    picker = mia.get_by_role("listbox", name="Saved replies")
    expect(picker).to_be_visible()
    options = picker.get_by_role("option")
    expect(options).to_have_count(2)  # "/bye" does not match
    expect(options.nth(0)).to_contain_text("/great")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_be_focused()

    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    selected_id = options.nth(1).get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", selected_id or "")
    box.press("Enter")
    expect(picker).to_be_hidden()
    # Filled in, unknown variable left visible, nothing sent yet: it is editable.
    expect(box).to_have_value("Hello Rita Roe, I am Mia Manager ({{ customer.loyalty }}).")
    expect(message(mia, "Hello Rita Roe")).to_have_count(0)

    box.press("End")
    box.press_sequentially(" Welcome!")
    box.press("Enter")
    sent = "Hello Rita Roe, I am Mia Manager ({{ customer.loyalty }}). Welcome!"
    expect(message(mia, sent)).to_have_count(1)
    expect(box).to_have_value("")

    # Escape closes the list without sending; the typed text stays.
    box.press_sequentially("/by")
    expect(picker.get_by_role("option")).to_have_count(1)
    box.press("Escape")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("/by")
    assert conv_id
