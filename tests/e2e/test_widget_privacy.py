"""Privacy: nothing stored and nothing asked before the visitor opens the chat (Chatwoot #1976,
Rocket.Chat #24014), and no request to a third party, ever, not even for an avatar."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    chat_log,
    launcher,
    only_conversation,
    open_chat,
    send,
    set_presence,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e

# A 1x1 PNG for an avatar served by the shop itself (the page's own origin).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
THIRD_PARTY = "https://avatars.third-party.example/anna.png"


def storage(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """async () => ({
            cookie: document.cookie,
            local: Object.keys(localStorage),
            session: sessionStorage.length,
            indexedDB: (await indexedDB.databases()).length,
            caches: (await caches.keys()).length,
        })"""
    )


NOTHING = {"cookie": "", "local": [], "session": 0, "indexedDB": 0, "caches": 0}


def test_nothing_is_stored_or_fetched_before_the_chat_is_opened(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    first = shop.add_page("/quiet-1", chats_url, key)
    second = shop.add_page("/quiet-2", chats_url, key)
    side = visitor_browser()
    page = side.page
    asked: list[str] = []
    side.context.on("request", lambda r: asked.append(r.url))
    t = texts(app, "en")

    # Browsing around without opening the chat: the loader only, nothing written anywhere.
    for url in (first, second, first):
        page.goto(url)
        expect(launcher(page)).to_be_visible()
        assert storage(page) == NOTHING
    assert side.context.cookies() == []
    assert [u for u in asked if u.startswith(chats_url)] == [f"{chats_url}/chats/widget.js"] * 3
    assert only_conversation_count(app) == 0

    # Opened: the visitor token, under one key, and still no cookie on either origin.
    open_chat(page, t)
    expect(chat_log(page, t)).to_be_attached()
    assert storage(page) == {**NOTHING, "local": [f"gincore-chats:{key}"]}
    assert side.context.cookies() == []
    assert only_conversation_count(app) == 1


def only_conversation_count(app: Any) -> int:
    from gincore_chats.models import Conversation

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return int(session.query(Conversation).count())
        finally:
            session.remove()


def test_no_request_ever_goes_to_a_third_party(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from .. import hostapp

    shop.pages["/avatar.png"] = PNG
    own = f"{shop.origin}/avatar.png"
    avatars = {"Anna Outside": THIRD_PARTY, "Bohdan Home": own}
    monkeypatch.setattr(hostapp.chats.hooks, "avatar_url", lambda u: avatars.get(u.full_name))
    anna = make_staff(app, "Anna Outside", "chats.view,chats.reply")
    bohdan = make_staff(app, "Bohdan Home", "chats.view,chats.reply")
    set_presence(app, anna)
    set_presence(app, bohdan)
    _, key = create_source(app, [shop.host], [anna, bohdan])
    t = texts(app, "en")

    side = visitor_browser()
    page = side.page
    origins: set[str] = set()
    side.context.on("request", lambda r: origins.add(origin(r.url)))
    page.on("websocket", lambda ws: origins.add(origin(ws.url)))
    page.goto(shop.add_page("/team", chats_url, key))
    chat = open_chat(page, t)

    team = chat.locator(".gc-team li")
    expect(team).to_have_text(["Anna Outside", "Bohdan Home"])
    # The third-party avatar is never loaded: the initial stands in. The page's own one shows.
    expect(team.nth(0).locator("span.gc-av")).to_have_attribute("data-i", "A")
    home = team.nth(1).locator("img.gc-av")
    expect(home).to_have_attribute("src", own)
    expect(home).to_have_attribute("alt", "")
    expect(home).to_have_js_property("naturalWidth", 1)

    conv_id = only_conversation(app).id
    for mid, line in ((anna, "Hello from Anna"), (bohdan, "Hello from Bohdan")):
        manager = Manager(live_server, mid, conv_id)
        manager.join()
        manager.say(line)
    log = chat_log(page, t)
    expect(log.locator(".gc-sig")).to_have_text(["Anna Outside", "Bohdan Home"])
    expect(log.locator(".gc-sig").nth(0).locator("span.gc-av")).to_have_attribute("data-i", "A")
    expect(log.locator(".gc-sig").nth(1).locator("img.gc-av")).to_have_attribute("src", own)
    send(page, t, "Thanks!")
    expect(log.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)

    ws_origin = origin(chats_url).replace("http", "ws", 1)
    assert origins <= {shop.origin, origin(chats_url), ws_origin}, origins


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


HOSTILE_CSS = """<style>
  * { color: red !important; font: 40px/1 serif !important; background: yellow !important; }
  button, li, h2, textarea, input, label { display: none !important; }
  section[role=dialog], .gc-panel, .gc-m { visibility: hidden !important; }
</style>"""


def test_the_host_pages_css_does_not_reach_the_widget(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    url = shop.add_page("/hostile", chats_url, key)
    shop.pages["/hostile"] = shop.pages["/hostile"].replace(
        b"</head>", HOSTILE_CSS.encode() + b"</head>"
    )
    t = texts(app, "en")
    page = visitor_browser().page
    page.goto(url)
    chat = open_chat(page, t)
    send(page, t, "Still readable")
    mine = chat_log(page, t).locator(".gc-mine:not(.gc-pending) .gc-m")
    expect(mine).to_have_text("Still readable")
    heading = chat.get_by_role("heading", name=t["title"])
    expect(heading).to_have_css("font-size", "17px")
    expect(heading).to_have_css("color", "rgb(255, 255, 255)")
    expect(mine).to_have_css("background-color", "rgb(36, 87, 214)")
    expect(chat.get_by_role("button", name=t["send"])).to_be_visible()
