"""Identity from the host in real browsers: a signed identity on two browser contexts reaches
one contact (both conversations in the panel), a forged one stays anonymous, and a merge of
two contacts moves everything while the console list updates live."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from gincore_chats.models import Contact, Conversation, Source
from gincore_chats.services.contacts import host_identity
from gincore_chats.services.unit_of_work import unit_of_work

from ..conftest import LiveServer, Visitor, create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    conversation_ids,
    launcher,
    open_console,
    panel,
    quiet_server,
    row,
    widget_panel,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def make_secret(app: Any, source_id: int) -> str:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            return host_identity.do_rotate_identity_secret(
                state, state.session.get(Source, source_id)
            )


def signed(secret: str, **claims: Any) -> tuple[str, str]:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return payload, hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_page(
    shop: ShopServer, path: str, chats_url: str, key: str, identity: tuple[str, str]
) -> str:
    """The shop page of a signed-in user: the snippet carries the host's signed identity."""
    url = shop.add_page(path, chats_url, key)
    payload, signature = identity
    html = (
        shop.pages[path]
        .decode()
        .replace(
            f'data-key="{key}"',
            f'data-key="{key}" data-identity="{payload}" data-identity-signature="{signature}"',
        )
    )
    shop.pages[path] = html.encode()
    return url


def chat_from(side: BrowserSide, url: str, text: str) -> None:
    side.page.goto(url)
    launcher(side.page).click()
    expect(widget_panel(side.page)).to_be_visible()
    widget_send(side.page, text)


def contact_ids(app: Any) -> dict[int, int]:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        state.session.expire_all()
        return {c.id: c.contact_id for c in state.session.query(Conversation)}


def contact_row(app: Any, contact_id: int) -> Contact:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        found = state.session.get(Contact, contact_id)
        state.session.expunge(found)
        return found


def convs_in_panel(page: Page) -> Any:
    return panel(page).get_by_role("list", name="Conversations").get_by_role("listitem")


def test_signed_identity_on_two_browsers_is_one_contact_with_both_conversations(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    identity = signed(make_secret(app, source_id), user_id="shop-7", name="Olga Signed")
    laptop, phone = open_browser(), open_browser()
    chat_from(laptop, signed_page(shop, "/me-laptop", chats_url, key, identity), "From the laptop")
    chat_from(phone, signed_page(shop, "/me-phone", chats_url, key, identity), "From the phone")
    first, second = sorted(conversation_ids(app))
    owners = contact_ids(app)
    assert owners[first] == owners[second]
    assert contact_row(app, owners[first]).host_user_id == "shop-7"
    assert not [w for w in laptop.warnings() + phone.warnings() if "identity" in w]

    console = open_console(open_browser(), chats_url, manager_id)
    row(console, "From the phone").click()
    expect(convs_in_panel(console)).to_have_count(2)
    expect(convs_in_panel(console).filter(has_text="this conversation")).to_have_count(1)
    # The other conversation opens read-only in place, in the panel.
    convs_in_panel(console).get_by_role("button").click()
    transcript = panel(console).get_by_role("region", name="read-only")
    expect(transcript).to_contain_text("From the laptop")
    expect(transcript.get_by_role("textbox")).to_have_count(0)
    transcript.get_by_role("button", name="Close transcript").click()
    expect(transcript).to_have_count(0)

    # Contact search, and the contact's page with both conversations.
    search = panel(console).get_by_role("search")
    search.get_by_role("searchbox", name="Search customers").fill("olga")
    search.get_by_role("button", name="Search").click()
    found = panel(console).get_by_role("list", name="Customers found").get_by_role("button")
    expect(found).to_have_count(1)
    found.click()
    card = console.locator("#gc-contact-card")
    expect(card.get_by_role("heading", level=4)).to_have_text("Olga Signed (verified)")
    expect(card.get_by_role("list", name="Conversations").get_by_role("listitem")).to_have_count(2)


def test_forged_signature_stays_anonymous_and_says_why(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id])
    make_secret(app, source_id)
    payload, _ = signed("a guess", user_id="admin")
    side = open_browser()
    forged = signed_page(shop, "/forged", chats_url, key, (payload, "0" * 64))
    chat_from(side, forged, "Let me in")
    [conv_id] = conversation_ids(app)
    contact = contact_row(app, contact_ids(app)[conv_id])
    assert contact.host_user_id is None and contact.verified_at is None
    assert any("identity not verified (identity_invalid)" in w for w in side.warnings())


def test_merge_moves_everything_and_the_list_updates_live(
    app: Any,
    chats_url: str,
    live_server: LiveServer,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    colin = make_staff(app, "Colin Colleague", ALL)
    source_id, key = create_source(app, [shop.host], [manager_id, colin])
    identity = signed(
        make_secret(app, source_id),
        user_id="shop-9",
        name="Vera Verified",
        email="vera@example.com",
    )
    chat_from(open_browser(), signed_page(shop, "/vera", chats_url, key, identity), "Signed in")
    # The same person, anonymous on another device, gives the email the verified contact has.
    anonymous = Visitor(live_server, key, origin=shop.origin)
    anon_conv = anonymous.open().json()["conversation_id"]
    assert anonymous.send("Anonymous hello").status_code == 201
    assert anonymous.api("PATCH", "/contact", {"email": "vera@example.com"}).status_code == 200

    mia = open_console(open_browser(), chats_url, manager_id)
    watcher = open_console(open_browser(), chats_url, colin)
    anon_name = "vera@example.com"
    expect(row(watcher, "Anonymous hello")).to_contain_text(anon_name)
    row(mia, "Anonymous hello").click()
    suggestions = panel(mia).get_by_role("region", name="Same person?")
    expect(suggestions).to_contain_text("Vera Verified")
    expect(convs_in_panel(mia)).to_have_count(1)
    suggestions.get_by_role("button", name="Merge with Vera Verified").click()

    # Everything moved to the verified contact; both consoles' lists show it live.
    expect(convs_in_panel(mia)).to_have_count(2)
    expect(row(watcher, "Anonymous hello")).to_contain_text("Vera Verified")
    expect(row(mia, "Anonymous hello")).to_contain_text("Vera Verified")
    owners = contact_ids(app)
    assert len(set(owners.values())) == 1
    assert contact_row(app, owners[anon_conv]).host_user_id == "shop-9"
    expect(suggestions).to_have_count(0)

    # And it can be undone (within a day).
    panel(mia).get_by_role("region", name="Recent merges").get_by_role(
        "button", name="Undo merge"
    ).click()
    expect(convs_in_panel(mia)).to_have_count(1)
    expect(row(watcher, "Anonymous hello")).not_to_contain_text("Vera Verified")
    assert len(set(contact_ids(app).values())) == 2
