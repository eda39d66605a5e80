"""The customer panel, internal notes, what each permission shows, and inert user strings.

Internal notes (panel notes and private chat notes) are checked on the visitor's wire: every
WebSocket frame the widget received and every HTTP answer it read, before and after a reload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import LiveServer, Visitor, create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    composer,
    conversation_ids,
    join,
    message,
    messages,
    open_console,
    open_conversations,
    panel,
    quiet_server,
    row,
    send_reply,
    set_source_settings,
    start_widget,
    visitor_socket,
    widget_panel,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def detail(page: Page, label: str) -> Any:
    """The value next to a label in the panel's details list."""
    return (
        panel(page)
        .locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
        .locator("xpath=following-sibling::dd[1]")
    )


def test_panel_shows_the_visitor_saves_edits_and_notes_never_reach_the_visitor(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    colin_id = make_staff(app, "Colin Colleague", ALL)
    _, key = create_source(app, [shop.host], [manager_id, colin_id])
    mia = open_console(open_browser(), chats_url, manager_id)
    colin = open_console(open_browser(), chats_url, colin_id)
    visitor = start_widget(open_browser, shop, chats_url, key, path="/shoes")
    widget_send(visitor.page, "Hi there")
    [conv_id] = conversation_ids(app)
    name = f"Visitor #{conv_id}"
    for page in (mia, colin):
        row(page, name).click()
    join(mia)

    # What the widget reported and the server added.
    expect(detail(mia, "Inquiry source")).to_have_text("Shop")
    expect(detail(mia, "Domain")).to_have_text(shop.host)
    expect(detail(mia, "Current page").get_by_role("link")).to_have_attribute(
        "href", f"{shop.origin}/shoes"
    )
    expect(detail(mia, "Page title")).to_have_text("Test shop")
    expect(detail(mia, "Browser language")).to_have_text("en-US")
    expect(detail(mia, "Browser")).to_contain_text("Chrome")
    expect(detail(mia, "OS")).to_have_text(re.compile("Linux"))
    expect(detail(mia, "Device")).to_have_text("desktop")
    expect(detail(mia, "Local time")).to_contain_text("UTC")
    # The worker's IP lookup lands later: city and country appear live.
    with app.app_context():
        from gincore_chats.models import Conversation
        from gincore_chats.services.unit_of_work import unit_of_work
        from gincore_chats.services.widget import visitor_context

        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            visitor_context.do_set_location(
                state,
                state.session.get(Conversation, conv_id),
                country="Ukraine",
                country_code="UA",
                city="Kyiv",
            )
        state.session.remove()
    expect(detail(mia, "Location")).to_have_text(
        "Kyiv, Ukraine (from the IP address; may be inaccurate)"
    )
    # The visitor moves on inside the shop (a single-page app): the history grows live.
    visitor.page.evaluate("() => history.pushState({}, '', '/shoes/blue-42')")
    pages = panel(mia).get_by_role("list", name="Pages visited").get_by_role("listitem")
    expect(pages).to_have_count(2)
    expect(pages.first).to_contain_text("/shoes/blue-42")
    expect(detail(colin, "Current page")).to_contain_text("/shoes/blue-42")

    # Editable contact fields (customers.edit): saved, and live in the colleague's console.
    form = panel(mia).get_by_role("form", name="Contact")
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_role("button", name="Save contact").click()
    expect(form.get_by_role("status")).to_contain_text("does not look valid")
    form.get_by_label("Name").fill("Olena Petrenko")
    form.get_by_label("Email").fill("olena@example.com")
    form.get_by_label("Phone").fill("+380 67 000 00 00")
    form.get_by_role("button", name="Save contact").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    expect(colin.get_by_role("heading", name="Olena Petrenko")).to_be_visible()
    expect(panel(colin).get_by_label("Email")).to_have_value("olena@example.com")
    expect(row(colin, "Olena Petrenko")).to_have_count(1)

    # Internal notes in the panel: author and time, live for the colleague.
    note_text = "VIP: refund approved by Mia"
    panel(mia).get_by_role("textbox", name="New note").fill(note_text)
    panel(mia).get_by_role("button", name="Add note").click()
    for page in (mia, colin):
        note = panel(page).get_by_role("list", name="Internal notes").get_by_role("listitem")
        expect(note).to_have_count(1)
        expect(note).to_contain_text(note_text)
        expect(note).to_contain_text("Mia Manager")
        expect(note.locator("time")).not_to_be_empty()
    # A private note in the chat, and a public reply for comparison.
    mia.get_by_role("radio", name="Private note").check()
    composer(mia).fill("internal: check the warehouse")
    composer(mia).press("Enter")
    expect(message(colin, "internal: check the warehouse")).to_be_visible()
    mia.get_by_role("radio", name="To customer").check()
    send_reply(mia, "Public answer")
    expect(visitor.log().locator("li", has_text="Public answer")).to_have_count(1)

    # Load the shop page again: the widget fetches the history over HTTP, still no note.
    visitor.page.goto(f"{shop.origin}/shoes")
    visitor.page.get_by_role("button", name="Open chat").click()
    expect(widget_panel(visitor.page).locator("li", has_text="Public answer")).to_have_count(1)
    seen = visitor.wire.everything()
    assert "Public answer" in seen
    for secret in (note_text, "check the warehouse"):
        assert secret not in seen, f"{secret!r} reached the visitor"


def test_the_console_shows_only_what_the_permissions_allow(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    viewer = make_staff(app, "Val Viewer", "chats.view")
    agent = make_staff(app, "Ari Agent", "chats.view,chats.reply,customers.view")
    admin = make_staff(app, "Ada Admin", "chats.admin")  # not assigned: sees every source
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id, viewer, agent])
    [conv] = open_conversations(
        app, source_id, [{"name": "Pat Private", "email": "pat@example.com"}], "hello"
    )
    open_conversations(app, source_id, [{"name": "Other"}], "hi")
    mia = open_console(open_browser(), chats_url, manager_id, f"?c={conv}")
    join(mia)
    send_reply(mia, "Hello Pat")

    def check(user: str) -> Page:
        page = open_console(open_browser(), chats_url, user, f"?c={conv}")
        expect(page.get_by_role("heading", name="Pat Private")).to_be_visible()
        expect(message(page, "Hello Pat")).to_be_visible()
        return page

    page = check(viewer)  # chats.view only
    expect(page.get_by_role("button", name="Join", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Close conversation")).to_be_hidden()
    expect(page.locator("#gc-composer")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(panel(page)).to_contain_text("need the customers.view permission")
    expect(panel(page)).not_to_contain_text("pat@example.com")
    expect(row(page, "Pat Private")).not_to_contain_text("pat@example.com")
    message(page, "Hello Pat").hover()
    expect(message(page, "Hello Pat").get_by_role("button")).to_have_count(0)

    page = check(agent)  # replies, sees customers, cannot edit them
    expect(page.get_by_role("button", name="Join", exact=True)).to_be_visible()
    expect(detail(page, "Email")).to_have_text("pat@example.com")
    expect(panel(page).get_by_role("button", name="Save contact")).to_have_count(0)
    expect(panel(page).get_by_role("button", name="Add note")).to_have_count(0)
    message(page, "Hello Pat").hover()
    expect(message(page, "Hello Pat").get_by_role("button", name="Quote")).to_be_visible()
    expect(message(page, "Hello Pat").get_by_role("button", name="Edit")).to_have_count(0)

    page = check(admin)  # chats.admin: every source and the customer panel, but no replies
    expect(row(page, "Other")).to_have_count(1)
    expect(detail(page, "Email")).to_have_text("pat@example.com")
    expect(page.get_by_role("button", name="Join", exact=True)).to_have_count(0)
    expect(page.locator("#gc-composer")).to_be_hidden()
    expect(panel(page).get_by_role("button", name="Save contact")).to_have_count(0)


XSS_BODY = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    " javascript:window.__pwned=3 see https://example.com/ok?a=1&b=2."
)


def test_user_strings_are_inert_everywhere_in_the_console(
    app: Any,
    live_server: LiveServer,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
) -> None:
    evil_manager = make_staff(app, '<b onmouseover="window.__pwned=4">Eve</b>', ALL)
    source_id, key = create_source(app, ["shop.example.com"], [evil_manager])
    set_source_settings(app, source_id, plan="pro")
    visitor = Visitor(live_server, key)
    conv_id = visitor.open(
        url="javascript:window.__pwned=5",
        title='<img src=y onerror="window.__pwned=6">',
        referrer="javascript:window.__pwned=7",
    ).json()["conversation_id"]
    visitor.api("PATCH", "/contact", {"name": '<svg onload="window.__pwned=8">Bob'})
    visitor.send(XSS_BODY)
    # A messenger-style avatar URL that is not http(s) must never become an image.
    with app.app_context():
        from gincore_chats.models import Contact, Conversation

        session = app.extensions["gincore_chats"].session
        contact = session.get(Contact, session.get(Conversation, conv_id).contact_id)
        contact.avatar_url = "javascript:window.__pwned=9"
        session.commit()
        session.remove()

    page = open_console(open_browser(), chats_url, evil_manager, f"?c={conv_id}")
    customer = message(page, "see https://example.com/ok")
    expect(customer.locator(".gc-text")).to_have_text(XSS_BODY)
    join(page)
    # Quote the evil message, write a note and a reply with markup, show a typing preview.
    customer.hover()
    customer.get_by_role("button", name="Quote").click()
    send_reply(page, '<a href="javascript:window.__pwned=10">click</a>')
    page.get_by_role("radio", name="Private note").check()
    composer(page).fill('<iframe src="javascript:window.__pwned=11"></iframe>')
    composer(page).press("Enter")
    expect(message(page, "<iframe")).to_be_visible()
    panel(page).get_by_role("textbox", name="New note").fill("<script>window.__pwned=12</script>")
    panel(page).get_by_role("button", name="Add note").click()
    expect(panel(page).get_by_role("list", name="Internal notes")).to_contain_text("<script>")
    with visitor_socket(live_server, visitor.origin, visitor.token or "") as vws:
        vws.send(
            json.dumps({"op": "typing", "active": True, "text": "<img src=z onerror=alert(1)>"})
        )
        expect(page.locator(".gc-preview-text")).to_have_text("<img src=z onerror=alert(1)>")

    expect(page.get_by_role("heading", name='<svg onload="window.__pwned=8">Bob')).to_be_visible()
    expect(detail(page, "Page title")).to_have_text('<img src=y onerror="window.__pwned=6">')
    expect(panel(page)).to_contain_text("javascript:window.__pwned=5")
    expect(messages(page).locator(".gc-system")).to_have_text(
        ['<b onmouseover="window.__pwned=4">Eve</b> joined the chat']
    )
    # The only link made from user text is the real https one.
    hrefs = page.locator("#gc-console a").evaluate_all("els => els.map(a => a.href)")
    assert hrefs == ["https://example.com/ok?a=1&b=2"], hrefs
    assert page.locator('[href^="javascript:" i], [src^="javascript:" i]').count() == 0
    assert (
        page.locator("#gc-console img, #gc-console script, #gc-console iframe, b, svg").count() == 0
    )
    # Hover and focus everything once: no handler from a user string may run.
    page.mouse.move(10, 10)
    for text in ("Bob", "see https"):
        page.get_by_text(text).first.hover()
    assert page.evaluate("() => window.__pwned") is None


def test_revoked_rights_take_effect_in_an_open_console(
    app: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gincore_chats.services.managers import presence

    from .. import hostapp

    monkeypatch.setattr(presence, "HEARTBEAT", 0.3)  # the socket re-checks rights this often
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    [conv] = open_conversations(app, source_id, [{"name": "Rita Rights"}], "hello")
    page = open_console(open_browser(), chats_url, manager_id, f"?c={conv}")
    expect(page.get_by_role("button", name="Join", exact=True)).to_be_visible()
    expect(detail(page, "Inquiry source")).to_have_text("Shop")

    with app.app_context():
        user = hostapp.db.session.get(hostapp.Staff, manager_id)
        user.perms = "chats.view"
        hostapp.db.session.commit()
    # The server closes the socket (4001); the console reconnects with the new rights.
    expect(page.get_by_role("button", name="Join", exact=True)).to_have_count(0)
    expect(page.locator("#gc-composer")).to_be_hidden()
    expect(panel(page)).to_contain_text("need the customers.view permission")
    expect(page.locator("#gc-conn")).to_have_text("Live")
