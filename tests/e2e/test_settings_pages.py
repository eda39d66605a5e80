"""The settings pages in a browser: the navigation marks where you are, sources are cards with
their kind and their people, sizes read like a file manager's, every notification scenario says
in one line whether it works and why, and destructive actions ask first (keyboard included).
The header leads back to the host's site and logs out, as the host configured it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import create_source
from .conftest import BrowserSide
from .widget_support import config_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


def settings_page(side: BrowserSide, chats_url: str, admin_id: str, path: str = "") -> Page:
    page = side.page
    page.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/settings{path}")
    expect(page.get_by_role("navigation", name="Settings")).to_be_visible()
    return page


def source_active(app: Any, source_id: int) -> bool:
    from gincore_chats.models import Source

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return bool(session.get(Source, source_id).active)
        finally:
            session.remove()


def test_navigation_cards_people_and_sizes(
    app: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id], name="Main shop")
    page = settings_page(open_browser(), chats_url, admin_id)
    nav = page.get_by_role("navigation", name="Settings")
    expect(nav.get_by_role("link", name="Inquiry sources")).to_have_attribute(
        "aria-current", "page"
    )
    top = page.get_by_role("navigation", name="Chats")
    expect(top.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")

    card = page.get_by_role("list", name="Sources").locator(".gc-source-card")
    expect(card).to_have_count(1)
    expect(card.locator(".gc-kind-widget svg")).to_have_count(1)
    expect(card).to_contain_text("Website widget")
    expect(card.locator(".gc-chips")).to_have_text("shop.example.com")
    expect(card.locator(".gc-people li")).to_have_count(1)
    expect(card.locator(".gc-people li")).to_contain_text("Mia Manager")
    expect(card.locator(".gc-people .gc-avatar")).to_have_text("MM")
    expect(card.get_by_text("Active", exact=True)).to_be_visible()
    expect(page.locator(".gc-meter-text")).to_have_text("0 bytes used of 1 GB")
    # The messengers one can connect, each with its icon.
    tiles = page.locator(".gc-tile")
    expect(tiles).to_have_count(6)
    expect(tiles.first).to_contain_text("Telegram")

    card.get_by_role("link", name="Main shop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Main shop")
    expect(nav.get_by_role("link", name="Main shop")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Inquiry sources")).not_to_have_attribute(
        "aria-current", "page"
    )
    # Labelled fields; the employees by name and avatar.
    expect(page.get_by_label("Name", exact=True)).to_have_value("Main shop")
    expect(page.get_by_label("Allowed domains")).to_have_value("shop.example.com")
    expect(page.get_by_role("checkbox", name="Mia Manager")).to_be_checked()

    nav.get_by_role("link", name="Notifications").click()
    expect(nav.get_by_role("link", name="Notifications")).to_have_attribute("aria-current", "page")
    lines = page.locator(".gc-status-list .gc-state")
    expect(lines).to_have_count(4)
    expect(lines.nth(0)).to_contain_text("Inactive: Corporate email.")
    expect(lines.nth(1)).to_have_text(
        "Inactive: Browser notifications. Not set up: create the keys below."
    )
    expect(lines.nth(2)).to_have_text("Inactive: Employee emails. No timeout is set.")
    expect(lines.nth(3)).to_have_text("Inactive: Customer emails. No timeout is set.")
    assert source_active(app, source_id)


def test_switching_a_source_off_asks_first(
    app: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    source_id, _key = create_source(app, ["shop.example.com"], [manager_id], name="Main shop")
    page = settings_page(open_browser(), chats_url, admin_id, f"/sources/{source_id}")
    save = page.get_by_role("button", name="Save", exact=True)
    dialog = page.get_by_role("dialog", name="Are you sure?")

    # Saving without switching off asks nothing.
    save.click()
    expect(page.locator(".gc-flash")).to_have_text("Saved.")
    expect(dialog).to_be_hidden()

    # Keyboard: untick Active, Save: the question, with Cancel focused; Escape keeps the source.
    page.get_by_role("checkbox", name="Active").uncheck()
    save.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Switch “Main shop” off?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(save).to_be_focused()
    assert source_active(app, source_id)

    # Cancel does the same; "Switch off" does it.
    save.click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert source_active(app, source_id)
    save.click()
    dialog.get_by_role("button", name="Switch off").click()
    expect(page.locator(".gc-flash")).to_have_text("Saved.")
    expect(page.locator(".gc-page-title .gc-badge")).to_have_text("Switched off")
    assert not source_active(app, source_id)


def test_the_header_leads_back_and_logs_out(
    app: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
    config: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    side = open_browser()
    page = settings_page(side, chats_url, admin_id)
    header = page.get_by_role("banner")
    # The defaults: back to "/", and no logout (the host did not say where it is).
    expect(header.get_by_role("link", name="Back to site")).to_have_attribute("href", "/")
    expect(header.get_by_role("link", name="Log out")).to_have_count(0)

    config(home_url="/", home_label="Teapot & Co", logout_url="/test-logout")
    page.goto(f"{chats_url}/chats/console")
    expect(page.locator("#gc-conn")).to_have_text("Live")
    header.get_by_role("link", name="Teapot & Co").click()
    expect(page).to_have_url(f"{chats_url}/")
    page.go_back()
    header.get_by_role("link", name="Log out").click()
    expect(page.locator("body")).to_have_text("ok")
    page.goto(f"{chats_url}/chats/console")
    expect(page.locator("body")).to_contain_text("Log in to use the chats.")

    # A host whose logout is a POST with its own CSRF field.
    state = app.extensions["gincore_chats"]
    monkeypatch.setattr(state.hooks, "logout_form", lambda: {"host_csrf": "host-token"})
    config(logout_url="/test-logout-form")
    page = settings_page(side, chats_url, admin_id)
    header.get_by_role("button", name="Log out").click()
    expect(page.locator("body")).to_have_text("logged out")
    page.goto(f"{chats_url}/chats/settings")
    expect(page.locator("body")).to_contain_text("Log in to use the chats.")
