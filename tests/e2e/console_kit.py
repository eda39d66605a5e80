"""Helpers for the console scenarios (tests/e2e/test_console_*.py).

Managers log in through the test host's login route and use the console; visitors use the real
widget on the shop page (another origin) where the widget has the piece under test, and a raw
visitor WebSocket (the widget's own token and Origin) where it does not yet.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, WebSocket, expect
from sqlalchemy import select, text
from websockets.sync.client import connect

from ..conftest import LiveServer
from .conftest import BrowserSide, ShopServer

# -- test hygiene ---------------------------------------------------------------------------------


@pytest.fixture
def quiet_server(app: Any) -> Iterator[None]:
    """After the test's browsers are closed, wait until the live server has finished what they
    last asked for (a read receipt, a draft save), so the database clean-up that follows never
    races an in-flight request (a TRUNCATE deadlock otherwise breaks the next test)."""
    yield
    from .. import hostapp

    busy_sql = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
    )
    deadline = time.monotonic() + 5.0
    with app.app_context(), hostapp.db.engine.connect() as conn:
        while conn.execute(busy_sql).scalar() and time.monotonic() < deadline:
            conn.rollback()
            time.sleep(0.05)


# -- data -----------------------------------------------------------------------------------------


def state_of(app: Any) -> Any:
    return app.extensions["gincore_chats"]


def assign(app: Any, source_id: int, employees: list[str]) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services import sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = state_of(app)
        with unit_of_work(state.session):
            sources.do_set_employees(state, state.session.get(Source, source_id), employees)


def set_source_settings(app: Any, source_id: int, **settings: Any) -> None:
    from gincore_chats.models import Source
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = state_of(app)
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id)
            source.settings = {**(source.settings or {}), **settings}


def conversation_ids(app: Any) -> list[int]:
    from gincore_chats.models import Conversation

    with app.app_context():
        session = state_of(app).session
        try:
            return list(session.scalars(select(Conversation.id).order_by(Conversation.id)))
        finally:
            session.remove()


def open_conversations(
    app: Any, source_id: int, contacts: list[dict[str, Any]], message: str | None = None
) -> list[int]:
    """Conversations made straight through the services (fast; no per-IP widget limit)."""
    from gincore_chats.models import Source
    from gincore_chats.services.contacts import customers as contact_service
    from gincore_chats.services.conversations import lifecycle as conversations
    from gincore_chats.services.conversations import messages
    from gincore_chats.services.unit_of_work import unit_of_work

    ids = []
    with app.app_context():
        state = state_of(app)
        for fields in contacts:
            with unit_of_work(state.session):
                source = state.session.get(Source, source_id)
                contact = contact_service.do_create_visitor_contact(state, source)
                for key, value in fields.items():
                    setattr(contact, key, value)
                conv = conversations.do_open_conversation(state, source, contact, "en")
                if message:
                    messages.do_send_customer_message(state, conv, message, uuid.uuid4().hex)
            ids.append(conv.id)
        state.session.remove()
    return ids


def mark_read(app: Any, manager_id: str, conversation_ids: list[int]) -> None:
    """The manager has read these conversations (what opening each in the console does)."""
    from gincore_chats.identity import describe
    from gincore_chats.models import Conversation
    from gincore_chats.services.conversations import read_state
    from gincore_chats.services.unit_of_work import unit_of_work

    from .. import hostapp

    with app.test_request_context():
        state = state_of(app)
        manager = describe(hostapp.db.session.get(hostapp.Staff, manager_id), state.hooks)
        with unit_of_work(state.session):
            for conv_id in conversation_ids:
                read_state.do_mark_read(state, manager, state.session.get(Conversation, conv_id))
        state.session.remove()


# -- managers in the console ---------------------------------------------------------------------


def open_console(side: BrowserSide, chats_url: str, user_id: str, query: str = "") -> Page:
    page = side.page
    page.goto(f"{chats_url}/test-login/{user_id}?next=/chats/console{query}")
    expect(page.locator("#gc-conn")).to_have_text("Live")
    return page


def rows(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversation list").get_by_role("button")


def row(page: Page, text: str) -> Locator:
    return rows(page).filter(has_text=text)


def open_chat(page: Page, text: str) -> None:
    """Open a conversation from the list and wait until it is live (followed and synced)."""
    target = row(page, text)
    target.click()
    conv_id = target.get_attribute("data-id")
    expect(page.locator(f'#gc-console[data-synced="{conv_id}"]')).to_have_count(1)


def messages(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


def message(page: Page, text: str) -> Locator:
    """The message whose own text (not a quote of it) contains ``text``."""
    return messages(page).locator(".gc-msg").filter(has=page.locator(".gc-text", has_text=text))


def composer(page: Page) -> Locator:
    return page.locator("#gc-body")


def send_reply(page: Page, text: str) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")
    expect(message(page, text).locator(".gc-delivery-pending")).to_have_count(0)
    expect(message(page, text)).to_have_attribute("data-id", re.compile(r"^\d+$"))


def join(page: Page) -> None:
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_role("button", name="Leave", exact=True)).to_be_visible()


def panel(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Customer")


def title_count(page: Page) -> str:
    return page.evaluate("() => document.title")


# -- visitors --------------------------------------------------------------------------------------


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Open chat")


def widget_panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Chat with us")


def widget_log(page: Page) -> Locator:
    return widget_panel(page).get_by_role("list", name="Chat with us")


def widget_send(page: Page, text: str) -> None:
    box = widget_panel(page).get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(widget_log(page).locator(".gc-mine", has_text=text)).to_have_count(1)


@dataclass
class Wire:
    """Every WebSocket frame a page sent and received, and every HTTP answer body it read."""

    received: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    sockets: list[WebSocket] = field(default_factory=list)

    def frames(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.received:
            with suppress(ValueError):
                out.append(json.loads(raw))
        return out

    def expect_frame(self, predicate: Callable[[dict[str, Any]], bool]) -> Any:
        """Context manager: wait for a received frame matching ``predicate`` (latest socket)."""

        def matches(payload: Any) -> bool:
            try:
                return bool(predicate(json.loads(payload)))
            except ValueError:
                return False

        return self.sockets[-1].expect_event("framereceived", predicate=matches)

    def everything(self) -> str:
        return "\n".join([*self.received, *self.sent, *self.bodies])


def tap(page: Page, url_part: str, http: bool = False) -> Wire:
    """Record the page's WebSocket traffic (and optionally HTTP answers) to URLs with url_part."""
    wire = Wire()

    def on_socket(ws: WebSocket) -> None:
        if url_part not in ws.url:
            return
        wire.sockets.append(ws)
        ws.on("framereceived", lambda payload: wire.received.append(str(payload)))
        ws.on("framesent", lambda payload: wire.sent.append(str(payload)))

    page.on("websocket", on_socket)
    if http:

        def on_response(response: Any) -> None:
            if url_part in response.url and response.request.method != "OPTIONS":
                with suppress(Exception):
                    wire.bodies.append(response.text())

        page.on("response", on_response)
    return wire


@dataclass
class WidgetVisitor:
    side: BrowserSide
    page: Page
    key: str
    wire: Wire

    def token(self) -> str:
        return str(self.page.evaluate(f"() => localStorage.getItem('gincore-chats:{self.key}')"))

    def log(self) -> Locator:
        return widget_log(self.page)


def start_widget(
    open_browser: Callable[..., BrowserSide],
    shop: ShopServer,
    chats_url: str,
    key: str,
    path: str = "/shop",
    side: BrowserSide | None = None,
) -> WidgetVisitor:
    side = side or open_browser()
    page = side.page
    wire = tap(page, "/chats/widget/", http=True)
    page.goto(shop.add_page(path, chats_url, key))
    launcher(page).click()
    expect(widget_panel(page)).to_be_visible()
    expect(widget_panel(page).get_by_role("textbox", name="Message")).to_be_visible()
    return WidgetVisitor(side, page, key, wire)


@contextmanager
def visitor_socket(live_server: LiveServer, origin: str, token: str) -> Iterator[Any]:
    """A raw visitor socket with the widget's token: for what the widget cannot do yet."""
    ws = connect(live_server.ws_url("/chats/widget/ws"), additional_headers={"Origin": origin})
    try:
        ws.send(json.dumps({"op": "auth", "token": token}))
        while json.loads(ws.recv(timeout=5))["type"] != "hello":
            pass
        yield ws
    finally:
        ws.close()


def new_side(chromium: Browser, sides: list[BrowserSide], **options: Any) -> BrowserSide:
    """A browser context with options (time zone, locale); closed by the caller's fixture."""
    context = chromium.new_context(**{"locale": "en-US", **options})
    page = context.new_page()
    side = BrowserSide(context, page)
    page.on("console", lambda msg: side.console.append(msg))
    page.on("pageerror", lambda exc: side.errors.append(str(exc)))
    sides.append(side)
    return side
