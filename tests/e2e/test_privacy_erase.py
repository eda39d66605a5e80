"""Erase from the customer panel: confirm, and every console watching sees the tombstone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    conversation_ids,
    message,
    messages,
    open_console,
    panel,
    quiet_server,
    row,
    start_widget,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"
SECRET = "My locker code is 4471-QZ"


def test_an_admin_erases_a_customer_and_a_colleague_sees_the_tombstone(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
) -> None:
    ada_id = make_staff(app, "Ada Admin", ALL + ",chats.admin")
    colin_id = make_staff(app, "Colin Colleague", ALL)
    _, key = create_source(app, [shop.host], [ada_id, colin_id])
    ada = open_console(open_browser(), chats_url, ada_id)
    colin = open_console(open_browser(), chats_url, colin_id)
    visitor = start_widget(open_browser, shop, chats_url, key, path="/shoes")
    widget_send(visitor.page, SECRET)
    [conv_id] = conversation_ids(app)
    for page in (ada, colin):
        row(page, f"Visitor #{conv_id}").click()
        expect(message(page, SECRET)).to_be_visible()

    # Only an admin with customers.edit is offered the privacy actions.
    expect(panel(colin).get_by_role("button", name="Erase customer…")).to_have_count(0)
    erase = panel(ada).get_by_role("button", name="Erase customer…")
    erase.focus()
    erase.press("Enter")
    dialog = panel(ada).get_by_role("alertdialog")
    expect(dialog).to_contain_text("cannot be undone")
    # Cancel first: nothing happens.
    dialog.get_by_role("button", name="Cancel").click()
    expect(message(ada, SECRET)).to_be_visible()
    panel(ada).get_by_role("button", name="Erase customer…").click()
    panel(ada).get_by_role("button", name="Erase for ever").click()
    expect(panel(ada).get_by_role("status").filter(has_text="Customer erased")).to_be_visible()

    for page in (ada, colin):
        expect(messages(page).get_by_text(SECRET)).to_have_count(0)
        expect(messages(page).locator(".gc-msg-deleted")).to_have_count(1)
