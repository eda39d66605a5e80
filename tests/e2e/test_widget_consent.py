"""Consent to data processing: configured by an admin, required before sending, recorded with the
time and the exact text the visitor saw. Keyboard only, as a visitor without a mouse would. A
notice informs without asking; with consent off nothing is shown: never a checkbox that gates
nothing. The contact form is closed until the first message, then opens once if no email is
known, whoever is online."""

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
    open_chat,
    panel,
    send,
    set_presence,
    set_source_settings,
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
    admin.get_by_role("radio", name="Required before the first message").check()
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
    expect(chat.locator(".gc-mine:not(.gc-pending) .gc-m")).to_have_text(["Bonjour, une question"])

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
    expect(chat.locator(".gc-mine .gc-m")).to_have_text(["Bonjour, une question"])
    expect(checkbox).to_be_hidden()

    # Escape closes the panel and gives the focus back to the launcher.
    box.focus()
    page.keyboard.press("Escape")
    expect(chat).to_be_hidden()
    expect(launcher(page, fr["open"])).to_be_focused()


def test_a_notice_informs_and_asks_nothing(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    set_source_settings(app, source_id, consent_mode="notice", privacy_url=POLICY)
    de = texts(app, "de")
    page = visitor_browser(locale="de-DE").page
    page.goto(shop.add_page("/notice", chats_url, key))
    chat = open_chat(page, de)
    notice = chat.locator(".gc-consent")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(de["consent_notice"])
    expect(notice.get_by_role("link", name=de["privacy_policy"])).to_have_attribute("href", POLICY)
    expect(chat.get_by_role("checkbox")).to_have_count(0)
    send(page, de, "Guten Tag")
    expect(chat.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)
    expect(status(page, de)).to_have_text("")
    from gincore_chats.models import Contact

    with app.app_context():
        contact = app.extensions["gincore_chats"].session.get(
            Contact, only_conversation(app).contact_id
        )
        assert contact.consent_at is None  # informed, not asked: nothing to record
        app.extensions["gincore_chats"].session.remove()


def test_with_consent_off_nothing_is_shown(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _source_id, key = create_source(app, [shop.host], [manager_id])
    t = texts(app, "en")
    page = visitor_browser().page
    page.goto(shop.add_page("/off", chats_url, key))
    chat = open_chat(page, t)
    expect(chat.get_by_role("checkbox")).to_have_count(0)
    expect(chat.locator(".gc-consent")).to_be_hidden()
    expect(chat.get_by_text(t["consent"])).to_have_count(0)
    send(page, t, "Hello")
    expect(chat.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)


@pytest.mark.parametrize("online", [True, False], ids=["team online", "team away"])
def test_the_contact_form_opens_after_the_first_message_only(
    online: bool,
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _source_id, key = create_source(app, [shop.host], [manager_id])
    if online:
        set_presence(app, manager_id)
    t = texts(app, "en")
    page = visitor_browser().page
    page.goto(shop.add_page("/contact", chats_url, key))
    chat = open_chat(page, t)
    form = chat.locator("details")
    summary = form.locator("summary")
    expect(summary).to_have_text(f"{t['name_label']} · {t['email_label']}")
    # Closed when the chat opens, whoever is online.
    expect(form).not_to_have_attribute("open", "")
    email = chat.get_by_role("textbox", name=t["email_label"])
    expect(email).to_be_hidden()

    send(page, t, "Do you deliver on Saturdays?")
    expect(chat.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)
    expect(email).to_be_visible()  # opened once: how a reply reaches them after they leave
    expect(message_box(page, t)).to_be_focused()  # the visitor keeps typing where they were
    summary.click()
    expect(email).to_be_hidden()
    send(page, t, "And on Sundays?")
    expect(chat.locator(".gc-mine:not(.gc-pending)")).to_have_count(2)
    expect(email).to_be_hidden()  # not again

    page.reload()
    chat = open_chat(page, t)
    expect(chat.locator(".gc-mine")).to_have_count(2)
    expect(chat.get_by_role("textbox", name=t["email_label"])).to_be_hidden()
