"""Consent to data processing: configured by an admin, required before sending, recorded with the
time and the exact text the visitor saw. Keyboard only, as a visitor without a mouse would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    launcher,
    message_box,
    only_conversation,
    panel,
    status,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e

POLICY = "https://shop.example.com/privacy"


def test_consent_is_required_linked_and_recorded(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    url = shop.add_page("/consent", chats_url, key)

    # The admin requires consent and links the policy.
    admin = visitor_browser().page
    admin.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/settings/sources/{source_id}/widget")
    admin.get_by_role("checkbox", name="Require consent before the visitor can send").check()
    admin.get_by_role("textbox", name="Privacy policy address").fill("javascript:alert(1)")
    admin.get_by_role("button", name="Save consent options").click()
    expect(admin.get_by_role("alert")).to_contain_text("must be a full http:// or https://")
    admin.get_by_role("textbox", name="Privacy policy address").fill(POLICY)
    admin.get_by_role("button", name="Save consent options").click()
    expect(admin.get_by_role("status")).to_have_text("Consent options saved.")

    fr = texts(app, "fr")
    page = visitor_browser(locale="fr-FR").page
    page.goto(url)
    # Keyboard only: focus the launcher, open with Enter; the message box takes the focus.
    launcher(page, fr["open"]).focus()
    page.keyboard.press("Enter")
    chat = panel(page, fr)
    expect(chat).to_be_visible()
    box = message_box(page, fr)
    expect(box).to_be_focused()

    checkbox = chat.get_by_role("checkbox", name=fr["consent"], exact=True)
    policy = chat.get_by_role("link", name=fr["privacy_policy"], exact=True)
    expect(policy).to_have_attribute("href", POLICY)
    expect(policy).to_have_attribute("target", "_blank")
    expect(policy).to_have_attribute("rel", "noopener noreferrer")

    # Sending first is refused, in French, with the words kept and the checkbox focused.
    page.keyboard.type("Bonjour, une question")
    page.keyboard.press("Enter")
    expect(status(page, fr)).to_have_text(fr["consent_required"])
    expect(checkbox).to_be_focused()
    expect(box).to_have_value("Bonjour, une question")
    expect(chat.locator(".gc-mine")).to_have_count(0)

    page.keyboard.press("Space")
    expect(checkbox).to_be_hidden()  # given once, kept on record: not asked again
    expect(status(page, fr)).to_have_text("")
    box.focus()
    page.keyboard.press("Enter")
    expect(chat.locator(".gc-mine:not(.gc-pending)")).to_have_text(["Bonjour, une question"])

    from gincore_chats.models import Contact

    conv = only_conversation(app)
    with app.app_context():
        contact = app.extensions["gincore_chats"].session.get(Contact, conv.contact_id)
        assert contact.consent_at is not None
        assert contact.consent_text == fr["consent"]  # the words this visitor saw, in French
        app.extensions["gincore_chats"].session.remove()

    # After a reload the consent is remembered (the checkbox does not come back).
    page.reload()
    launcher(page, fr["open"]).click()
    expect(chat.locator(".gc-mine")).to_have_text(["Bonjour, une question"])
    expect(checkbox).to_be_hidden()

    # Escape closes the panel and gives the focus back to the launcher.
    box.focus()
    page.keyboard.press("Escape")
    expect(chat).to_be_hidden()
    expect(launcher(page, fr["open"])).to_be_focused()
