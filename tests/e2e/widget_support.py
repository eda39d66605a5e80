"""Shared pieces of the widget's browser tests (``tests/e2e/test_widget_*.py``).

The visitor side is a real Chromium page on the shop's origin; the manager side is the console's
HTTP API and WebSocket (what the console page itself uses), so these tests do not depend on the
console's markup.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from ..conftest import Console, LiveServer
from .conftest import BrowserSide


@pytest.fixture(name="visitor_browser")
def visitor_browser_fixture(chromium: Browser) -> Iterator[Callable[..., BrowserSide]]:
    """Factory: a fresh browser context with the given options (``locale``, ``timezone_id``,
    ``viewport``, ...) and one page. Uncaught page errors fail the test."""
    sides: list[BrowserSide] = []

    def make(locale: str = "en-US", **options: Any) -> BrowserSide:
        context = chromium.new_context(locale=locale, **options)
        page = context.new_page()
        side = BrowserSide(context, page)
        page.on("console", lambda msg: side.console.append(msg))
        page.on("pageerror", lambda exc: side.errors.append(str(exc)))
        sides.append(side)
        return side

    yield make
    errors = [e for side in sides for e in side.errors]
    for side in sides:
        side.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(name="config")
def config_fixture(app: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change the frozen config of the shared test app (and its live server) for one test."""
    state = app.extensions["gincore_chats"]

    def change(**values: Any) -> None:
        monkeypatch.setattr(state, "config", dataclasses.replace(state.config, **values))

    return change


def texts(app: Any, language: str) -> dict[str, str]:
    """The catalog's widget texts in a language (what the widget must show without overrides)."""
    from gincore_chats.services.widget import texts as widget_texts

    with app.test_request_context():
        return {key: widget_texts.catalog_text(key, language) for key in widget_texts.KEYS}


# -- the visitor's page ---------------------------------------------------------------------------


def add_phone_page(shop: Any, path: str, chats_url: str, key: str, title: str) -> str:
    """A shop page made for phones (``width=device-width``), with the snippet."""
    url = shop.add_page(path, chats_url, key, title=title)
    html = shop.pages[path].decode()
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    shop.pages[path] = html.replace(
        '<meta charset="utf-8">', f'<meta charset="utf-8">{meta}'
    ).encode()
    return str(url)


def launcher(page: Page, name: str = "Open chat") -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def panel(page: Page, t: dict[str, str]) -> Locator:
    return page.get_by_role("dialog", name=t["title"], exact=True)


def chat_log(page: Page, t: dict[str, str]) -> Locator:
    return panel(page, t).get_by_role("list", name=t["title"], exact=True)


def open_chat(page: Page, t: dict[str, str]) -> Locator:
    launcher(page, t["open"]).click()
    expect(panel(page, t)).to_be_visible()
    # Live: the socket said hello and the widget synced (no "reconnecting" status is shown).
    return panel(page, t)


def message_box(page: Page, t: dict[str, str]) -> Locator:
    return panel(page, t).get_by_role("textbox", name=t["message_label"], exact=True)


def send(page: Page, t: dict[str, str], body: str) -> None:
    box = message_box(page, t)
    box.fill(body)
    box.press("Enter")


def status(page: Page, t: dict[str, str]) -> Locator:
    return panel(page, t).get_by_role("status")


# -- server side ---------------------------------------------------------------------------------


def session(app: Any) -> Any:
    return app.extensions["gincore_chats"].session


def only_conversation(app: Any) -> Any:
    """The single conversation of the test (its row, detached after reading)."""
    from gincore_chats.models import Conversation

    with app.app_context():
        try:
            return session(app).scalars(select(Conversation)).one()
        finally:
            session(app).remove()


def set_presence(app: Any, manager_id: str, status: str = "online", connected: bool = True) -> None:
    """A manager with a console connected (a heartbeat) and the chosen status."""
    from gincore_chats.identity import describe
    from gincore_chats.services.managers import presence
    from gincore_chats.services.managers import profiles as managers
    from gincore_chats.services.unit_of_work import unit_of_work

    from .. import hostapp

    with app.test_request_context():
        state = app.extensions["gincore_chats"]
        user = hostapp.db.session.get(hostapp.Staff, manager_id)
        manager = describe(user, state.hooks)
        with unit_of_work(state.session):
            managers.do_sync_profile(state, manager)
            presence.do_set_status(state, manager, status)
        if connected:
            presence.socket_alive(state, manager_id, f"e2e-{uuid.uuid4().hex}")


def set_source_settings(app: Any, source_id: int, **values: Any) -> None:
    from gincore_chats.models import Source

    with app.app_context():
        source = session(app).get(Source, source_id)
        source.settings = {**(source.settings or {}), **values}
        session(app).commit()
        session(app).remove()


class Manager(Console):
    """A manager through the console's HTTP API, in one conversation."""

    def __init__(self, server: LiveServer, user_id: str, conversation_id: int) -> None:
        super().__init__(server, user_id)
        self.conv = conversation_id

    def join(self) -> None:
        r = self.api("POST", f"/conversations/{self.conv}/join")
        assert r.status_code == 200, r.text

    def say(self, body: str, **extra: Any) -> dict[str, Any]:
        r = self.api(
            "POST",
            f"/conversations/{self.conv}/messages",
            {"body": body, "client_id": str(uuid.uuid4()), **extra},
        )
        assert r.status_code == 201, r.text
        return r.json()["message"]

    def edit(self, message_id: int, body: str) -> None:
        r = self.api("PATCH", f"/conversations/{self.conv}/messages/{message_id}", {"body": body})
        assert r.status_code == 200, r.text

    def delete(self, message_id: int) -> None:
        r = self.api("DELETE", f"/conversations/{self.conv}/messages/{message_id}")
        assert r.status_code == 200, r.text

    def detail(self) -> dict[str, Any]:
        r = self.api("GET", f"/conversations/{self.conv}")
        assert r.status_code == 200, r.text
        return r.json()

    def socket(self) -> ClientConnection:
        """The console's WebSocket, following this conversation (after its current events)."""
        ws = connect(
            self.server.ws_url("/chats/console/ws"),
            additional_headers={"Origin": self.server.url, "Cookie": self.cookie_header()},
        )
        frames_until(ws, lambda f: f["type"] == "hello")
        ws.send(json.dumps({"op": "sync", "conversation_id": self.conv, "after": 0}))
        frames_until(ws, lambda f: f["type"] == "synced")
        return ws


def frames_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Read frames until one matches; return all read (the match last). Fails on timeout."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; got {got}")
        frame = json.loads(ws.recv(timeout=remaining))
        got.append(frame)
        if predicate(frame):
            return got
