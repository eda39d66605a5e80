"""The widget's words: the browser's language, online and offline texts, the admin's overrides,
and refusals (rate limits) the visitor can read. Every wait is an auto-waiting ``expect``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    config_fixture,
    launcher,
    message_box,
    only_conversation,
    open_chat,
    panel,
    send,
    set_presence,
    status,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("locale", "language", "title"),
    [
        ("uk-UA", "uk", "Напишіть нам"),
        ("de-DE", "de", "Chatten Sie mit uns"),
        ("pt-BR", "pt-br", "Fale conosco"),
    ],
    ids=["uk-UA", "de-DE", "pt-BR"],
)
def test_the_browser_language_picks_the_widget_language(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    locale: str,
    language: str,
    title: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    url = shop.add_page(f"/lang-{language}", chats_url, key)
    t = texts(app, language)
    assert t["title"].startswith(title)  # a real translation, not the English default

    side = visitor_browser(locale=locale)
    page = side.page
    page.goto(url)
    # Before anything is asked of the server, the launcher is named in the visitor's language.
    expect(launcher(page, t["open"])).to_be_visible()
    chat = open_chat(page, t)

    expect(chat.get_by_role("heading", name=t["title"])).to_be_visible()
    expect(chat).to_have_attribute("lang", language)
    # Nobody is online: the away text, and the business-hours promise as the team's greeting.
    expect(chat.locator(".gc-hint")).to_have_text(t["offline"])
    expect(chat.locator(".gc-greet")).to_have_text(t["business_hours"])
    expect(message_box(page, t)).to_have_attribute("placeholder", t["placeholder"])
    expect(chat.get_by_role("button", name=t["send"], exact=True)).to_be_visible()
    # The contact form, closed until the first message, in the visitor's language.
    expect(chat.locator("summary")).to_have_text(f"{t['name_label']} · {t['email_label']}")
    chat.locator("summary").click()
    expect(chat.get_by_role("textbox", name=t["name_label"], exact=True)).to_be_visible()
    expect(chat.get_by_role("textbox", name=t["email_label"], exact=True)).to_be_visible()
    # The launcher now closes the chat, as does the panel's own button.
    expect(page.get_by_role("button", name=t["close"], expanded=True)).to_be_visible()
    expect(chat.get_by_role("button", name=t["close"], exact=True)).to_be_visible()
    assert only_conversation(app).language == language


def test_online_managers_and_the_offline_texts(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
) -> None:
    names = ["Bohdan Online", "Anna Online", "Dmytro Online", "Cyril Online"]
    online = [make_staff(app, n, "chats.view,chats.reply") for n in names]
    hidden = make_staff(app, "Ivan Invisible", "chats.view,chats.reply")
    away = make_staff(app, "Olha Offline", "chats.view,chats.reply")
    for mid in online:
        set_presence(app, mid, "online")
    set_presence(app, hidden, "invisible")  # connected, but invisible counts as offline
    set_presence(app, away, "offline")
    _, staffed = create_source(app, [shop.host], [*online, hidden, away], name="Staffed")
    _, empty = create_source(app, [shop.host], [hidden, away], name="After hours")
    t = texts(app, "en")

    page = visitor_browser().page
    page.goto(shop.add_page("/staffed", chats_url, staffed))
    chat = open_chat(page, t)
    expect(chat.locator(".gc-greet")).to_have_text(t["greeting_online"])
    expect(chat.locator(".gc-hint")).to_have_text("")
    # Up to three online managers, by name, each with an avatar (their initial: no avatar URL).
    team = chat.locator(".gc-team li")
    expect(team).to_have_text(["Anna Online", "Bohdan Online", "Cyril Online"])
    expect(team.first.locator(".gc-av")).to_have_attribute("data-i", "A")
    expect(chat.locator(".gc-team")).not_to_contain_text("Invisible")

    page.goto(shop.add_page("/after-hours", chats_url, empty))
    chat = open_chat(page, t)
    expect(chat.locator(".gc-hint")).to_have_text(t["offline"])
    expect(chat.locator(".gc-greet")).to_have_text(t["business_hours"])
    expect(chat.locator(".gc-team li")).to_have_count(0)
    # The message is still taken, and then the email form opens by itself.
    send(page, t, "Are you open on Sunday?")
    sent = chat.locator(".gc-mine:not(.gc-pending) .gc-m")
    expect(sent).to_have_text(["Are you open on Sunday?"])
    email = chat.get_by_role("textbox", name=t["email_label"], exact=True)
    expect(email).to_be_visible()
    chat.get_by_role("textbox", name=t["name_label"], exact=True).fill("Olena")
    email.fill("olena@example.com")
    chat.get_by_role("button", name=t["save_contact"], exact=True).click()
    expect(status(page, t)).to_have_text(t["contact_saved"])
    expect(email).to_be_hidden()  # the form folds away once saved

    from gincore_chats.models import Contact, Conversation, Message
    from gincore_chats.services import sources

    with app.app_context():
        state = app.extensions["gincore_chats"]
        source = sources.get_by_key(state, empty)
        conv = state.session.query(Conversation).filter_by(source_id=source.id).one()
        contact = state.session.get(Contact, conv.contact_id)
        assert (contact.name, contact.email) == ("Olena", "olena@example.com")
        bodies = [m.body for m in state.session.query(Message).filter_by(conversation_id=conv.id)]
        assert bodies == ["Are you open on Sunday?"]
        state.session.remove()


def test_an_admins_texts_and_added_language_show_in_the_widget(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    admin_id: str,
    manager_id: str,
) -> None:
    source_id, key = create_source(app, [shop.host], [manager_id], name="Shop")
    url = shop.add_page("/override", chats_url, key)
    de = texts(app, "de")

    admin = visitor_browser().page
    admin.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/settings/sources/{source_id}")
    admin.get_by_role("link", name="Texts per language and consent").click()
    admin.get_by_role("link", name="German").click()
    title = admin.get_by_role("textbox", name="Title")
    expect(title).to_have_attribute("placeholder", de["title"])
    title.fill("Fragen? Wir sind da!")
    # The preview follows the typing (the widget's own markup and stylesheet).
    preview = admin.locator("#gc-preview")
    expect(preview.get_by_role("heading", name="Fragen? Wir sind da!")).to_be_visible()
    admin.get_by_role("radio", name="Nobody is online").check()
    expect(preview.locator(".gc-hint:visible")).to_have_text(de["offline"])
    expect(preview.locator(".gc-greet .gc-m:visible")).to_have_text(de["business_hours"])
    admin.get_by_role("button", name="Save texts").click()
    expect(admin.get_by_role("status")).to_contain_text("Saved 1 text for German (de)")

    # A language no catalog has: Dutch, with one text of the admin's.
    admin.get_by_role("link", name="Widget texts and consent").click()
    admin.get_by_role("textbox", name="Language tag").fill("nl")
    admin.get_by_role("button", name="Add language").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Dutch (nl) texts for Shop")
    admin.get_by_role("textbox", name="Title").fill("Chat met ons")
    admin.get_by_role("textbox", name="Send button").fill("Versturen")
    admin.get_by_role("button", name="Save texts").click()
    expect(admin.get_by_role("status")).to_contain_text("Saved 2 texts for Dutch (nl)")

    german = visitor_browser(locale="de-DE").page
    german.goto(url)
    chat = open_chat(german, {**de, "title": "Fragen? Wir sind da!"})
    expect(chat.get_by_role("button", name=de["send"], exact=True)).to_be_visible()

    dutch = visitor_browser(locale="nl-NL").page
    dutch.goto(url)
    en = texts(app, "en")
    # The loader's launcher label knows only the catalogs' languages: English for Dutch.
    nl = {**en, "title": "Chat met ons"}
    chat = open_chat(dutch, nl)
    expect(chat.get_by_role("button", name="Versturen", exact=True)).to_be_visible()
    expect(message_box(dutch, nl)).to_have_attribute("placeholder", en["placeholder"])


def test_refusals_are_readable_in_the_visitors_language(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    config: Callable[..., None],
) -> None:
    from gincore_chats.rate_limit import parse

    config(rate_limit_conversations=parse("1/hour"), rate_limit_messages=parse("2/minute"))
    _, key = create_source(app, [shop.host], [manager_id])
    url = shop.add_page("/limits", chats_url, key)
    uk = texts(app, "uk")

    page = visitor_browser(locale="uk-UA").page
    page.goto(url)
    open_chat(page, uk)
    mine = panel(page, uk).locator(".gc-mine:not(.gc-pending)")
    send(page, uk, "Перше")
    expect(mine).to_have_count(1)
    send(page, uk, "Друге")
    expect(mine).to_have_count(2)
    send(page, uk, "Третє")
    expect(status(page, uk)).to_have_text(
        "Ви надсилаєте повідомлення надто швидко. Зачекайте хвилинку."
    )
    # The refused text is back in the box, not lost; the two sent ones stay.
    expect(message_box(page, uk)).to_have_value("Третє")
    expect(panel(page, uk).locator(".gc-mine .gc-m")).to_have_text(["Перше", "Друге"])

    # A second visitor from the same network, in German: no new chat, and it says why.
    de = texts(app, "de")
    other = visitor_browser(locale="de-DE").page
    other.goto(url)
    launcher(other, de["open"]).click()
    expect(other.get_by_role("dialog").get_by_role("status")).to_have_text(
        "Zu viele neue Chats aus Ihrem Netzwerk. Bitte versuchen Sie es später erneut."
    )
    assert other.evaluate("() => localStorage.length") == 0
