"""The console in the manager's language (issue 16): a German browser gets the console's own
words from the catalog's German, an English colleague on the same chat keeps English.

The expected words are read from the compiled catalog, so the test checks the path from the
catalog to the page (Babel extraction of t()/tn(), the embedded texts, texts.js), not one
translator's choice of words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from babel.support import Translations
from playwright.sync_api import expect

from gincore_chats.babel import TRANSLATIONS

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    conversation_ids,
    quiet_server,
    start_widget,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def test_a_german_manager_gets_the_console_in_german_beside_an_english_colleague(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    de = Translations.load(TRANSLATIONS, ["de"], "gincore_chats")
    words = {w: de.gettext(w) for w in ("Live", "Conversation list", "Join", "Leave", "Messages")}
    assert all(words[w] != w for w in words), f"untranslated in German: {words}"

    greta_id = make_staff(app, "Greta Gruber", ALL)
    _source_id, key = create_source(app, [shop.host], [manager_id, greta_id])
    greta = open_browser("de-DE").page
    greta.goto(f"{chats_url}/test-login/{greta_id}?next=/chats/console")
    expect(greta.locator("#gc-conn")).to_have_text(words["Live"])
    assert greta.evaluate("() => document.documentElement.lang") == "de"
    mia = open_browser().page
    mia.goto(f"{chats_url}/test-login/{manager_id}?next=/chats/console")
    expect(mia.locator("#gc-conn")).to_have_text("Live")

    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "Hallo, ist das Paket unterwegs?")
    [conv_id] = conversation_ids(app)

    listed = greta.get_by_role("list", name=words["Conversation list"]).get_by_role("button")
    target = listed.filter(has_text="Hallo, ist das Paket unterwegs?")
    target.click()
    expect(greta.locator(f'#gc-console[data-synced="{conv_id}"]')).to_have_count(1)
    expect(greta.get_by_role("list", name=words["Messages"])).to_contain_text("Paket unterwegs")
    greta.get_by_role("button", name=words["Join"], exact=True).click()
    expect(greta.get_by_role("button", name=words["Leave"], exact=True)).to_be_visible()

    # The English colleague's console is untouched by Greta's language.
    mine = mia.get_by_role("list", name="Conversation list").get_by_role("button")
    mine.filter(has_text="Paket unterwegs").click()
    expect(mia.get_by_role("button", name="Join", exact=True)).to_be_visible()
