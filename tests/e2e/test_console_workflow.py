"""The manager's workflow in real browsers: two managers, one visitor on the shop's widget.

Join and leave (system messages the visitor sees), several managers in one chat, signatures,
the live list (new conversations, previews, unread badges, faces of the managers in the chat),
per-manager read state, the tab title, filters and search, keyset pages, and the sound switch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    composer,
    conversation_ids,
    join,
    mark_read,
    message,
    messages,
    open_chat,
    open_console,
    open_conversations,
    quiet_server,
    row,
    rows,
    send_reply,
    start_widget,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def test_two_managers_join_reply_hand_over_and_leave(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    colin_id = make_staff(app, "Colin Colleague", ALL)
    _source_id, key = create_source(app, [shop.host], [manager_id, colin_id])
    mia = open_console(open_browser(), chats_url, manager_id)
    colin = open_console(open_browser(), chats_url, colin_id)

    visitor = start_widget(open_browser, shop, chats_url, key)
    [conv_id] = conversation_ids(app)
    name = f"Visitor #{conv_id}"
    # Opening the widget is a visit (under Visits, live); the first message brings the
    # conversation into both consoles' lists, with its preview and unread badge.
    for page in (mia, colin):
        page.get_by_role("button", name="Visits", exact=True).click()
        expect(row(page, name)).to_contain_text("Visit · no message yet")
        page.get_by_role("button", name="All", exact=True).click()
        expect(row(page, name)).to_have_count(0)
    widget_send(visitor.page, "Hi, is anyone there?")
    for page in (mia, colin):
        expect(row(page, name)).to_contain_text("Hi, is anyone there?")
        expect(row(page, name).locator(".gc-unread")).to_have_text("1 1 unread")
        expect(page).to_have_title("(1) Chats · Console")

    # Read state is per manager: Mia reads it, Colin still has it unread.
    row(mia, name).click()
    expect(mia.get_by_role("heading", name=name)).to_be_visible()
    expect(row(mia, name).locator(".gc-unread")).to_have_count(0)
    expect(mia).to_have_title("Chats · Console")
    expect(colin).to_have_title("(1) Chats · Console")
    expect(row(colin, name).locator(".gc-unread")).to_have_count(1)

    # Before joining, a reply is not possible (notes are); the UI says why.
    expect(mia.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(mia.locator("#gc-join-hint")).to_be_visible()

    join(mia)
    log = visitor.log()
    expect(log.locator(".gc-sys")).to_have_text(["Mia Manager joined the chat"])
    expect(messages(mia).locator(".gc-system")).to_have_text(["Mia Manager joined the chat"])
    # Colin's list shows who is in the chat, live.
    expect(row(colin, name).locator(".gc-faces")).to_contain_text("In chat: Mia Manager")
    expect(row(colin, name).locator(".gc-faces .gc-avatar")).to_have_text(["MM"])

    send_reply(mia, "Hello! Mia here.")
    reply = log.locator("li", has_text="Hello! Mia here.")
    expect(reply.locator(".gc-sig")).to_have_text("Mia Manager")
    expect(message(mia, "Hello! Mia here.").locator(".gc-author")).to_have_text("Mia Manager")
    expect(message(mia, "Hello! Mia here.").locator(".gc-avatar")).to_have_text("MM")

    # Mia brings Colin in: he opens the chat, joins and answers; each reply is signed.
    row(colin, name).click()
    expect(message(colin, "Hello! Mia here.").locator(".gc-author")).to_have_text("Mia Manager")
    join(colin)
    expect(log.locator(".gc-sys")).to_have_text(
        ["Mia Manager joined the chat", "Colin Colleague joined the chat"]
    )
    expect(mia.locator("#gc-chat-sub")).to_contain_text("Colin Colleague")
    send_reply(colin, "Colin here, I know the stock.")
    expect(log.locator("li", has_text="Colin here").locator(".gc-sig")).to_have_text(
        "Colin Colleague"
    )
    theirs = message(mia, "Colin here, I know the stock.")
    expect(theirs.locator(".gc-author")).to_have_text("Colin Colleague")
    # Nobody can edit or delete someone else's message: Mia gets no such buttons for it.
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)

    # Hand-over: Mia leaves; the visitor sees it, Mia can no longer reply, Colin is alone.
    mia.get_by_role("button", name="Leave", exact=True).click()
    expect(log.locator(".gc-sys")).to_have_text(
        [
            "Mia Manager joined the chat",
            "Colin Colleague joined the chat",
            "Mia Manager left the chat",
        ]
    )
    expect(mia.get_by_role("button", name="Join", exact=True)).to_be_visible()
    expect(mia.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(colin.locator(".gc-chat-people")).to_contain_text("Colin Colleague (you)")
    expect(colin.locator(".gc-chat-people")).not_to_contain_text("Mia")
    expect(row(colin, name).locator(".gc-faces .gc-avatar")).to_have_text(["CC"])

    # The visitor writes again: Colin (viewing) reads it; Mia (viewing too) also.
    widget_send(visitor.page, "Thanks both!")
    expect(message(colin, "Thanks both!")).to_be_visible()
    expect(colin).to_have_title("Chats · Console")

    # Mark as unread again, for this manager only.
    colin.get_by_role("button", name="Mark as unread").click()
    expect(row(colin, name).locator(".gc-unread")).to_have_count(1)
    expect(colin).to_have_title("(1) Chats · Console")
    expect(row(mia, name).locator(".gc-unread")).to_have_count(0)
    # ... and read again without leaving it.
    colin.get_by_role("button", name="Mark as read").click()
    expect(row(colin, name).locator(".gc-unread")).to_have_count(0)
    expect(colin).to_have_title("Chats · Console")
    expect(colin.get_by_role("button", name="Mark as unread")).to_be_visible()


def test_filters_search_and_keyset_pages(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    # 55 quiet conversations (more than one page of 50), then three that matter; all but
    # Alice's already read.
    quiet = open_conversations(
        app, source_id, [{"name": f"Quiet {i:02d}"} for i in range(55)], "thanks"
    )
    [alice] = open_conversations(
        app, source_id, [{"name": "Alice Smith", "email": "alice@example.com"}], "question?"
    )
    [bob] = open_conversations(
        app, source_id, [{"name": "Bob Brown", "phone": "+380 44 123"}], "hello"
    )
    [carol] = open_conversations(app, source_id, [{"name": "Carol Closed"}], "bye")
    mark_read(app, manager_id, [*quiet, bob, carol])
    # A visit (the widget opened, nothing written) is in none of the lists but Visits.
    [visit] = open_conversations(app, source_id, [{"name": "Vic Visit"}])

    page = open_console(open_browser(), chats_url, manager_id)
    expect(rows(page)).to_have_count(50)
    # Scrolling to the end loads the next page (keyset cursor), without duplicates.
    page.get_by_role("button", name="Load more").scroll_into_view_if_needed()
    expect(rows(page)).to_have_count(58)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(row(page, "Quiet 00")).to_have_count(1)

    open_chat(page, "Bob Brown")
    join(page)
    # While Carol's conversation loads, the header shows none: no buttons that would still act
    # on Bob's (her detail request is held until that is checked).
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(re.compile(rf"/conversations/{carol}$"), hold)
    row(page, "Carol Closed").click()
    expect(page.get_by_role("heading", name="Loading…")).to_be_visible()
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "Carol's conversation was never requested"
        page.wait_for_timeout(20)  # lets Playwright run the route handler
    expect(page.get_by_role("toolbar", name="Conversation actions")).to_be_hidden()
    held[0].continue_()
    page.unroute(re.compile(rf"/conversations/{carol}$"))
    expect(page.get_by_role("heading", name="Carol Closed")).to_be_visible()
    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    # A closed conversation leaves the open list, live.
    expect(row(page, "Carol Closed")).to_have_count(0)

    def show(name: str) -> None:
        page.get_by_role("group", name="Show").get_by_role("button", name=name).click()

    show("Unread")
    expect(rows(page)).to_have_text([re.compile("Alice Smith")])
    show("Mine")
    expect(rows(page)).to_have_text([re.compile("Bob Brown")])
    show("Closed")
    expect(rows(page)).to_have_text([re.compile("Carol Closed")])
    show("Unassigned")
    expect(rows(page)).to_have_count(50)
    expect(row(page, "Bob Brown")).to_have_count(0)
    show("Visits")
    expect(rows(page)).to_have_text([re.compile("Vic Visit")])
    show("All")
    expect(row(page, "Vic Visit")).to_have_count(0)

    search = page.get_by_role("searchbox", name="Search by name, email or phone")
    for text, expected in (
        ("ALICE@example", "Alice Smith"),
        ("+380 44", "Bob Brown"),
        ("smi", "Alice Smith"),
    ):
        search.fill(text)
        expect(rows(page)).to_have_text([re.compile(expected)])
    search.fill("nobody like this")
    expect(rows(page)).to_have_count(0)
    expect(page.get_by_text("No conversations match")).to_be_visible()
    search.press("Escape")
    expect(rows(page)).to_have_count(50)
    assert {alice, bob, carol, visit} <= set(conversation_ids(app))


def test_sound_switch_persists_and_sounds_for_new_conversations(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    _, key = create_source(app, [shop.host], [manager_id])
    side = open_browser()
    page = open_console(side, chats_url, manager_id)
    sound = page.get_by_role("button", name="Sound")
    expect(sound).to_have_attribute("aria-pressed", "false")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("#gc-conn")).to_have_text("Live")
    expect(sound).to_have_attribute("aria-pressed", "true")  # a per-browser preference
    page.evaluate(
        "() => { window.__beeps = 0;"
        " document.addEventListener('gincore-chats:sound', () => window.__beeps++); }"
    )
    visitor = start_widget(open_browser, shop, chats_url, key)
    # The visitor opened the chat: a visit, heard live under Visits, but no sound.
    page.get_by_role("button", name="Visits", exact=True).click()
    expect(rows(page)).to_have_count(1)
    page.get_by_role("button", name="All", exact=True).click()
    assert page.evaluate("() => window.__beeps") == 0
    # The first message is the new chat: in the list, with a sound.
    widget_send(visitor.page, "ding?")
    expect(rows(page)).to_have_count(1)
    page.wait_for_function("() => window.__beeps >= 1")
    expect(rows(page).first.locator(".gc-unread")).to_have_count(1)
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")


CAPTURE_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) window.WebSocket[k] = Native[k];
})();
"""


def test_nothing_is_lost_while_the_console_is_offline(
    app: Any,
    chats_url: str,
    shop: ShopServer,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    colin_id = make_staff(app, "Colin Colleague", ALL)
    _, key = create_source(app, [shop.host], [manager_id, colin_id])
    side = open_browser()
    side.page.add_init_script(CAPTURE_SOCKETS)
    trace: list[str] = []
    side.page.on("response", lambda r: trace.append(f"HTTP {r.status} {r.url.split('/api')[-1]}"))
    side.page.on("requestfailed", lambda r: trace.append(f"FAILED {r.url.split('/api')[-1]}"))
    side.page.on(
        "websocket",
        lambda ws: (
            trace.append("WS open"),
            ws.on("framereceived", lambda p: trace.append("FRAME " + str(p)[:160])),
            ws.on("close", lambda w: trace.append("WS close")),
        ),
    )
    mia = open_console(side, chats_url, manager_id)
    colin = open_console(open_browser(), chats_url, colin_id)
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "first")
    [conv_id] = conversation_ids(app)
    name = f"Visitor #{conv_id}"
    open_chat(mia, name)
    open_chat(colin, name)
    join(colin)
    send_reply(colin, "Colin: checking")

    # Mia's network goes away (a laptop lid, a train tunnel): her socket dies and cannot return.
    trace.append("=== OFFLINE")
    side.context.set_offline(True)
    mia.evaluate("() => window.__sockets.forEach(ws => ws.close())")
    expect(mia.locator("#gc-conn")).to_have_text("Reconnecting…")
    widget_send(visitor.page, "second")
    widget_send(visitor.page, "third")
    send_reply(colin, "Colin: found it")
    edited = message(colin, "Colin: found it")
    composer(colin).press("ArrowUp")  # edits the last own message
    composer(colin).press("End")
    composer(colin).press_sequentially(" (edited)")
    composer(colin).press("Enter")
    expect(edited.locator(".gc-edited")).to_be_visible()

    # Back online: the console reconnects, resyncs the open chat and reloads the list.
    trace.append("=== ONLINE")
    side.context.set_offline(False)
    expect(mia.locator("#gc-conn")).to_have_text("Live")
    for text in ("first", "second", "third", "Colin: checking", "Colin: found it (edited)"):
        expect(message(mia, text)).to_have_count(1)
    expect(message(mia, "Colin: found it (edited)").locator(".gc-edited")).to_be_visible()
    try:
        expect(row(mia, name)).to_contain_text("Colin: found it")
    except AssertionError:
        print("\n".join(trace))
        raise
    expect(messages(mia).locator(".gc-msg")).to_have_count(6)  # 3 + 2 + Colin joined


def test_presence_switch_is_shared_by_tabs_and_seen_by_visitors(
    app: Any,
    live_server: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    from ..conftest import Visitor

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    visitor.open()
    tab1 = open_console(open_browser(), chats_url, manager_id)
    tab2 = open_console(open_browser(), chats_url, manager_id)
    status1 = tab1.get_by_role("combobox", name="My status")
    status2 = tab2.get_by_role("combobox", name="My status")
    expect(status1).to_have_value("online")
    assert [m["name"] for m in visitor.api("GET", "/conversation").json()["managers"]] == [
        "Mia Manager"
    ]
    status1.select_option("invisible")
    expect(status2).to_have_value("invisible")  # the other tab follows, live
    expect(tab1.locator("#gc-announce")).to_have_text("Your status is invisible.")
    assert visitor.api("GET", "/conversation").json()["managers"] == []
    tab2.reload()
    expect(status2).to_have_value("invisible")
    status2.select_option("online")
    expect(status1).to_have_value("online")
    assert len(visitor.api("GET", "/conversation").json()["managers"]) == 1


def test_a_notification_click_opens_the_conversation_in_place(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    [first, second] = open_conversations(
        app, source_id, [{"name": "Una First"}, {"name": "Otto Second"}], "hello"
    )
    page = open_console(open_browser(), chats_url, manager_id, f"?c={first}")
    expect(page.get_by_role("heading", name="Una First")).to_be_visible()
    handled = page.evaluate(
        """(id) => !document.dispatchEvent(new CustomEvent('gincore-chats:open-conversation',
              {cancelable: true, detail: {conversation_id: id}}))""",
        second,
    )
    assert handled is True  # the console took it: no page load
    expect(page.get_by_role("heading", name="Otto Second")).to_be_visible()
    expect(page).to_have_url(re.compile(f"c={second}$"))
    expect(row(page, "Otto Second")).to_have_attribute("aria-current", "true")
