"""The open widget stays live: a network drop loses nothing and shows nothing twice; a manager's
edits, deletions, quotes and typing appear as they happen; the visitor's typing reaches the
manager without the unsent text unless the plan has the live preview."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    chat_log,
    frames_until,
    message_box,
    only_conversation,
    open_chat,
    panel,
    send,
    set_source_settings,
    status,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


def start(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    side: BrowserSide,
    manager_id: str,
    path: str,
) -> tuple[dict[str, str], Manager]:
    """A visitor with the chat open, and the assigned manager joined."""
    _, key = create_source(app, [shop.host], [manager_id])
    t = texts(app, "en")
    side.page.goto(shop.add_page(path, chats_url, key))
    open_chat(side.page, t)
    manager = Manager(live_server, manager_id, only_conversation(app).id)
    manager.join()
    expect(chat_log(side.page, t).locator(".gc-sys")).to_have_text(["Mia Manager joined the chat"])
    return t, manager


def test_a_network_drop_loses_nothing_and_duplicates_nothing(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/offline")
    log = chat_log(page, t)
    first = manager.say("Before the drop")
    expect(log.locator("li", has_text="Before the drop")).to_have_count(1)

    side.context.set_offline(True)
    expect(status(page, t)).to_have_text(t["reconnecting"])
    # While the visitor is offline: new replies, an edit and a deletion of older ones ...
    manager.edit(first["id"], "Before the drop (fixed)")
    gone = manager.say("Soon deleted")
    manager.say("While you were away 1")
    manager.delete(gone["id"])
    manager.say("While you were away 2")
    # ... and the visitor writes too: kept as pending, retried when the network is back.
    send(page, t, "Written offline")
    expect(log.locator(".gc-pending .gc-m")).to_have_text(["Written offline"])

    with page.expect_response(re.compile(r"/widget/api/seen$")) as seen:
        side.context.set_offline(False)
        # Each line: the signature, the bubble, then its time (and the visitor's mark).
        expected = [
            "Mia Manager joined the chat",
            re.compile(r"^Mia Manager\s*Before the drop \(fixed\) · edited\s*\d"),
            re.compile(rf"^Mia Manager\s*{t['deleted']}\s*\d"),
            re.compile(r"^Mia Manager\s*While you were away 1\s*\d"),
            re.compile(r"^Mia Manager\s*While you were away 2\s*\d"),
            re.compile(rf"^Written offline\s*\d.*{t['sent']}$"),
        ]
        expect(log.locator("li:not(.gc-greet)")).to_have_text(expected)
        expect(log.locator(".gc-pending")).to_have_count(0)
        expect(status(page, t)).to_have_text("")

    # The widget told the server what the visitor has now seen (the newest message shown).
    assert json.loads(seen.value.request.post_data or "{}")["message_id"] > 0

    # Coming back to the tab syncs again: still every message exactly once.
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    manager.say("After the drop")
    expected.append(re.compile(r"^Mia Manager\s*After the drop\s*\d"))
    expect(log.locator("li:not(.gc-greet)")).to_have_text(expected)

    from gincore_chats.models import Message

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        mine = session.query(Message).filter_by(kind="customer").all()
        assert [m.body for m in mine] == ["Written offline"]  # retried, stored once
        session.remove()


def test_edits_deletions_quotes_and_typing_appear_live(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/live")
    log = chat_log(page, t)
    console = manager.socket()

    send(page, t, "How much is it?")
    expect(log.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)
    [asked] = [m for m in manager.detail()["messages"] if m["kind"] == "customer"]

    # The manager types: the widget says so, and stops when the reply arrives.
    typing = page.get_by_text("Mia Manager is typing…")
    console.send(json.dumps({"op": "typing", "conversation_id": manager.conv, "active": True}))
    expect(typing).to_be_visible()
    console.send(json.dumps({"op": "typing", "conversation_id": manager.conv, "active": False}))
    expect(typing).to_be_hidden()
    console.send(json.dumps({"op": "typing", "conversation_id": manager.conv, "active": True}))
    expect(typing).to_be_visible()
    price = manager.say("It is 10 €", quoted_message_id=asked["id"])
    expect(typing).to_be_hidden()

    reply = log.locator("li:not(.gc-greet)").nth(2)
    expect(reply.locator(".gc-sig")).to_have_text("Mia Manager")  # signed
    expect(reply.locator(".gc-q")).to_have_text(f"{t['you']}: How much is it?")
    manager.say("Shipping is free", quoted_message_id=price["id"])
    later = log.locator("li:not(.gc-greet)").nth(3).locator(".gc-q")
    expect(later).to_have_text("Mia Manager: It is 10 €")
    # An edit shows in the message and in every quote of it; so does a deletion.
    manager.edit(price["id"], "It is 12 €")
    expect(reply.locator(".gc-m")).to_have_text(f"{t['you']}: How much is it?It is 12 € · edited")
    expect(later).to_have_text("Mia Manager: It is 12 €")
    manager.delete(price["id"])
    expect(reply.locator(".gc-m")).to_have_text(t["deleted"])
    expect(later).to_have_text(f"Mia Manager: {t['deleted']}")
    # The greeting, joined, question, deleted reply, the last one.
    expect(log.locator("li")).to_have_count(5)
    console.close()


@pytest.mark.parametrize("plan", ["free", "pro"])
def test_visitor_typing_sends_the_text_only_with_the_live_preview(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    plan: str,
) -> None:
    side = visitor_browser()
    page = side.page
    sent: list[dict[str, Any]] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))),
    )
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, f"/typing-{plan}")
    source_id = only_conversation(app).source_id
    set_source_settings(app, source_id, plan=plan)
    page.reload()  # the widget reads typing_preview when it starts
    open_chat(page, t)
    console = manager.socket()

    message_box(page, t).press_sequentially("Hello")
    frames = frames_until(
        console,
        lambda f: (
            f["type"] == "typing"
            and f["who"] == "customer"
            and (plan == "free" or f.get("preview") == "Hello")
        ),
    )
    message_box(page, t).press("Enter")
    frames_until(console, lambda f: f["type"] == "typing" and f["active"] is False)
    expect(panel(page, t).locator(".gc-mine:not(.gc-pending) .gc-m")).to_have_text(["Hello"])

    # (Playwright hands over the page's frames while it waits, as in the expect above.)
    typing = [f for f in sent if f.get("op") == "typing"]
    assert typing[0]["active"] is True and typing[-1] == {"op": "typing", "active": False}
    if plan == "pro":
        assert {"op": "typing", "active": True, "text": "Hello"} in typing
    else:
        # Without the preview the unsent text never leaves the browser.
        assert all("text" not in f for f in typing)
        assert all("preview" not in f for f in frames)
    console.close()


def test_a_managers_files_show_in_the_widget(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    import base64
    import uuid

    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/files")
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    for name, data, kind in (
        ("prices.txt", b"shoes: 10", "text/plain"),
        ("shoe.png", png, "image/png"),
    ):
        r = manager.http.post(
            f"{live_server.url}/chats/console/api/conversations/{manager.conv}/attachments",
            files={"file": (name, data, kind)},
            data={"client_id": str(uuid.uuid4()), "body": f"Here: {name}"},
            headers={"X-CSRF-Token": manager.csrf},
        )
        assert r.status_code == 201, r.text

    log = chat_log(page, t)
    # Fetched with the visitor's token (never a URL anyone could open), shown from blob: URLs.
    # (tests/e2e/test_widget_files.py tests files in depth.)
    expect(log.get_by_role("link", name="prices.txt 9 byte")).to_be_visible()
    image = log.get_by_role("img", name="shoe.png")
    expect(image).to_have_js_property("naturalWidth", 1)
    with page.expect_download() as download:
        log.get_by_role("link", name="prices.txt 9 byte").click()
    assert download.value.suggested_filename == "prices.txt"
    assert Path(download.value.path()).read_bytes() == b"shoes: 10"
