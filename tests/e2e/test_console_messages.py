"""Working with messages in real browsers: edit and delete (own only, live to the visitor and
the other manager, original kept), quotes, keyboard use, private notes, drafts that survive
switching, reloading and another device, and messenger delivery states with Retry."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import create_source, make_staff
from .conftest import BrowserSide, ShopServer
from .console_kit import (  # noqa: F401  (quiet_server: a fixture)
    composer,
    conversation_ids,
    join,
    message,
    messages,
    open_console,
    open_conversations,
    quiet_server,
    row,
    send_reply,
    start_widget,
    state_of,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

ALL = "chats.view,chats.reply,customers.view,customers.edit"


def tool(page: Page, text: str, name: str) -> None:
    """Use a message's action button as a mouse user does (the actions show on hover)."""
    msg = message(page, text)
    msg.hover()
    msg.get_by_role("button", name=name, exact=True).click()


def csrf_request(page: Page, method: str, path: str, data: Any = None) -> Any:
    """An API call from the logged-in page's own session (to check what the server allows)."""
    csrf = page.locator("#gc-console").get_attribute("data-csrf")
    url = page.url.split("/chats/")[0] + "/chats/console/api" + path
    return page.request.fetch(url, method=method, headers={"X-CSRF-Token": csrf or ""}, data=data)


def test_edit_delete_and_quote_reach_the_visitor_and_the_colleague(
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
    visitor = start_widget(open_browser, shop, chats_url, key)
    widget_send(visitor.page, "Do you have size 43?")
    widget_send(visitor.page, "And in blue?")
    [conv_id] = conversation_ids(app)
    for page in (mia, colin):
        row(page, f"Visitor #{conv_id}").click()
        join(page)
    log = visitor.log()

    send_reply(mia, "Prise is 10 EUR")
    expect(log.locator("li", has_text="Prise is 10 EUR")).to_have_count(1)

    # Up in the empty composer edits the last own message; Enter saves it.
    box = composer(mia)
    box.press("ArrowUp")
    expect(mia.get_by_role("textbox", name="Edit message")).to_have_value("Prise is 10 EUR")
    box.fill("Price is 10 EUR")
    box.press("Enter")
    mine = message(mia, "Price is 10 EUR")
    expect(mine.locator(".gc-edited")).to_have_text("edited")
    expect(mia.get_by_role("textbox", name="Reply", exact=True)).to_have_value("")
    # The visitor and the colleague see the edit live, marked as edited.
    seen = log.locator("li", has_text="Price is 10 EUR")
    expect(seen).to_have_count(1)
    expect(seen.locator(".gc-ed")).to_have_count(1)
    expect(message(colin, "Price is 10 EUR").locator(".gc-edited")).to_be_visible()
    expect(message(colin, "Prise is")).to_have_count(0)

    # Esc cancels an edit and gives back what was being typed.
    box.fill("half-typed reply")
    tool(mia, "Price is 10 EUR", "Edit")
    expect(box).to_have_value("Price is 10 EUR")
    box.press("Escape")
    expect(mia.get_by_role("textbox", name="Reply", exact=True)).to_have_value("half-typed reply")
    box.fill("")

    # Someone else's message: no buttons, and the server refuses anyway.
    theirs = message(colin, "Price is 10 EUR")
    theirs.hover()
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)
    mid = int(theirs.get_attribute("data-id") or 0)
    refused = csrf_request(
        colin, "PATCH", f"/conversations/{conv_id}/messages/{mid}", {"body": "x"}
    )
    assert refused.status == 403 and "own" in refused.json()["error"]

    # Quote the visitor's first message: Esc drops the quote, then quote and answer.
    tool(mia, "Do you have size 43?", "Quote")
    bar = mia.locator("#gc-quote-bar")
    expect(bar).to_contain_text("Do you have size 43?")
    box.press("Escape")
    expect(bar).to_be_hidden()
    tool(mia, "Do you have size 43?", "Quote")
    send_reply(mia, "Yes, 43 is in stock.")
    answer = message(mia, "Yes, 43 is in stock.")
    expect(answer.locator(".gc-quote")).to_contain_text("Do you have size 43?")
    expect(bar).to_be_hidden()
    # The widget shows the quoted snippet with the reply.
    expect(log.locator("li", has_text="Yes, 43 is in stock.").locator(".gc-q")).to_contain_text(
        "Do you have size 43?"
    )
    # Clicking the quote in the colleague's console brings the original into view and focus.
    message(colin, "Yes, 43 is in stock.").locator(".gc-quote").click()
    original = message(colin, "Do you have size 43?")
    expect(original).to_be_focused()
    expect(original).to_be_in_viewport()

    # Delete: the visitor and the colleague see "deleted"; the original stays for audit.
    tool(mia, "Price is 10 EUR", "Delete")
    mine.get_by_role("button", name="Confirm delete").click()
    gone = messages(mia).locator(f'[data-id="{mid}"]')
    expect(gone.locator(".gc-text")).to_have_count(0)
    expect(gone.locator(".gc-deleted")).to_have_text("Message deleted")
    expect(log.locator(f'li[data-id="{mid}"] .gc-del')).to_have_count(1)
    expect(log.locator("li", has_text="Price is 10 EUR")).to_have_count(0)
    expect(messages(colin).locator(f'[data-id="{mid}"] .gc-deleted')).to_be_visible()
    with app.app_context():
        from gincore_chats.models import Message

        session = state_of(app).session
        assert session.get(Message, mid).body == "Price is 10 EUR"
        session.remove()


def test_keyboard_and_private_notes(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    open_conversations(app, source_id, [{"name": "Kim Keys"}], "hello")
    page = open_console(open_browser(), chats_url, manager_id)
    row(page, "Kim Keys").click()

    # Private notes need no join; the composer says which kind it writes.
    page.get_by_role("radio", name="Private note").check()
    note_box = page.get_by_role("textbox", name="Private note")
    note_box.fill("check the stock first")
    expect(page.get_by_role("button", name="Send note")).to_be_enabled()
    note_box.press("Enter")
    note = message(page, "check the stock first")
    expect(note.locator(".gc-tag-note")).to_have_text("Private note")
    expect(note).to_have_class(re.compile("gc-msg-note"))

    page.get_by_role("radio", name="To customer").check()
    join(page)
    box = page.get_by_role("textbox", name="Reply", exact=True)
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    box.press("Enter")
    sent = message(page, "line one")
    expect(sent.locator(".gc-text")).to_have_text("line one\nline two")
    expect(box).to_have_value("")
    expect(sent).to_have_attribute("data-id", re.compile(r"^\d+$"))  # confirmed by the server

    # Keyboard through the thread: one tab stop, arrows move, Tab reaches the actions.
    last = messages(page).locator(".gc-msg").last
    last.focus()
    last.press("ArrowUp")
    expect(messages(page).locator(".gc-msg").nth(-2)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(last).to_be_focused()
    page.keyboard.press("Tab")
    expect(last.get_by_role("button", name="Quote")).to_be_focused()


def test_drafts_survive_switching_reload_and_another_device(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    alice, bob = open_conversations(
        app, source_id, [{"name": "Alice Draft"}, {"name": "Bob Draft"}], "a question"
    )
    laptop = open_console(open_browser(), chats_url, manager_id)
    row(laptop, "Alice Draft").click()
    join(laptop)
    tool(laptop, "a question", "Quote")
    composer(laptop).fill("Dear Alice, about your")

    row(laptop, "Bob Draft").click()
    expect(laptop.get_by_role("heading", name="Bob Draft")).to_be_visible()
    expect(composer(laptop)).to_have_value("")
    # Bob's draft is saved after a pause in typing or on leaving him, whichever comes first.
    # The reload below must not cut that request off (a reload aborts a fetch in flight), so
    # wait for the server's answer, however busy the machine is.
    with laptop.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith(f"/conversations/{bob}/draft")
    ) as saved:
        composer(laptop).fill("Bob, one moment")
        row(laptop, "Alice Draft").click()
    assert saved.value.ok
    expect(composer(laptop)).to_have_value("Dear Alice, about your")
    expect(laptop.locator("#gc-quote-bar")).to_contain_text("a question")

    # A reload lands on the same conversation (?c=) with the draft and its quote.
    laptop.reload()
    expect(laptop.get_by_role("heading", name="Alice Draft")).to_be_visible()
    expect(composer(laptop)).to_have_value("Dear Alice, about your")
    expect(laptop.locator("#gc-quote-bar")).to_contain_text("a question")

    # Another device of the same manager has it too; sending clears it everywhere.
    phone = open_console(open_browser(), chats_url, manager_id, f"?c={alice}")
    expect(composer(phone)).to_have_value("Dear Alice, about your")
    composer(phone).fill("Dear Alice, about your order: shipped.")
    composer(phone).press("Enter")
    expect(message(phone, "about your order: shipped.").locator(".gc-quote")).to_contain_text(
        "a question"
    )
    laptop.reload()
    expect(laptop.get_by_role("heading", name="Alice Draft")).to_be_visible()
    expect(message(laptop, "about your order: shipped.")).to_be_visible()
    expect(composer(laptop)).to_have_value("")
    expect(laptop.locator("#gc-quote-bar")).to_be_hidden()
    row(laptop, "Bob Draft").click()
    expect(composer(laptop)).to_have_value("Bob, one moment")


def test_messenger_reply_shows_delivery_state_and_can_be_retried(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    from gincore_chats.identity import describe
    from gincore_chats.models import Contact, Message, Source
    from gincore_chats.services import sources
    from gincore_chats.services.channels import delivery
    from gincore_chats.services.conversations import lifecycle as conversations
    from gincore_chats.services.conversations import messages as message_service
    from gincore_chats.services.conversations import participants
    from gincore_chats.services.unit_of_work import unit_of_work

    from .. import hostapp

    with app.app_context():
        state = state_of(app)
        with unit_of_work(state.session):
            source = Source(
                kind="messenger", name="FB Page", public_key=uuid.uuid4().hex, settings={}
            )
            state.session.add(source)
            state.session.flush()
            sources.do_set_employees(state, source, [manager_id])
            contact = Contact(source_id=source.id, external_id="psid-1", name="Fiona Facebook")
            state.session.add(contact)
            conv = conversations.do_open_conversation(state, source, contact, "en")
            message_service.do_receive_channel_message(state, conv, "Is it in stock?", "m-1")
            manager = describe(hostapp.db.session.get(hostapp.Staff, manager_id), state.hooks)
            participants.do_join(state, manager, conv)
            reply, _ = message_service.do_send_manager_message(
                state, manager, conv, "We will check.", uuid.uuid4().hex
            )
        conv_id, reply_id = conv.id, reply.id
        with unit_of_work(state.session):
            conv = state.session.get(type(conv), conv_id)
            msg = state.session.get(Message, reply_id)
            delivery.do_set_delivery(
                state, conv, msg, delivery.FAILED, "The person blocked the page."
            )
        state.session.remove()

    page = open_console(open_browser(), chats_url, manager_id, f"?c={conv_id}")
    reply_el = message(page, "We will check.")
    expect(reply_el.locator(".gc-delivery")).to_have_text(
        re.compile(r"Not delivered: The person blocked the page\.\s*Retry")
    )
    expect(page.locator("#gc-chat-sub")).to_contain_text("Messenger")

    # Editing warns that the customer keeps the original on this platform.
    tool(page, "We will check.", "Edit")
    expect(page.locator("#gc-edit-bar")).to_contain_text("does not deliver edits")
    composer(page).press("Escape")

    reply_el.get_by_role("button", name="Retry").click()
    expect(reply_el.locator(".gc-delivery")).to_have_text("Sending…")

    # The worker's outcome arrives live.
    with app.app_context():
        state = state_of(app)
        for status in (delivery.SENT, delivery.DELIVERED):
            with unit_of_work(state.session):
                conv = conversations.access_for_manager(
                    state,
                    describe(hostapp.db.session.get(hostapp.Staff, manager_id), state.hooks),
                    conv_id,
                )
                delivery.do_set_delivery(state, conv, state.session.get(Message, reply_id), status)
        state.session.remove()
    expect(reply_el.locator(".gc-delivery")).to_have_text("Delivered")


def test_a_reply_that_cannot_be_sent_stays_with_a_retry_and_is_stored_once(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], manager_id: str
) -> None:
    source_id, _ = create_source(app, ["shop.example.com"], [manager_id])
    [conv_id] = open_conversations(app, source_id, [{"name": "Nora Network"}], "hi")
    page = open_console(open_browser(), chats_url, manager_id, f"?c={conv_id}")
    join(page)
    sends = f"**/conversations/{conv_id}/messages"

    # The server fails: the reply stays in the thread, marked, with Retry; nothing is lost.
    page.route(sends, lambda route: route.fulfill(status=500, body="{}"))
    composer(page).fill("Your refund is on its way.")
    composer(page).press("Enter")
    failed = messages(page).locator(".gc-failed")
    expect(failed.locator(".gc-delivery")).to_contain_text("Not sent")
    page.unroute(sends)
    failed.get_by_role("button", name="Retry").click()
    sent = message(page, "Your refund is on its way.")
    expect(sent).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(messages(page).locator(".gc-failed")).to_have_count(0)

    # The network drops the first try: the console tries again with the same client id, and
    # the server stores the reply once.
    dropped: list[str] = []

    def drop_once(route: Any) -> None:
        if not dropped:
            dropped.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route(sends, drop_once)
    composer(page).fill("Anything else?")
    composer(page).press("Enter")
    expect(message(page, "Anything else?")).to_have_attribute("data-id", re.compile(r"^\d+$"))
    assert dropped
    page.reload()
    expect(message(page, "Anything else?")).to_have_count(1)
    expect(message(page, "Your refund is on its way.")).to_have_count(1)


def png(width: int = 40, height: int = 30) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_files_from_the_visitor_show_as_thumbnails_and_managers_can_attach(
    app: Any,
    live_server: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    from ..conftest import Visitor

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    page = open_console(open_browser(), chats_url, manager_id, f"?c={conv_id}")
    join(page)

    # The customer sends a photo: the console shows a thumbnail that links to the file.
    r = requests_post_file(live_server, visitor, "shoe.png", png(), "Is this the one?")
    assert r.status_code == 201, r.text
    photo = message(page, "Is this the one?")
    thumb = photo.get_by_role("img", name="shoe.png")
    expect(thumb).to_have_attribute("src", re.compile(r"/chats/console/files/[^/?]+\?thumb=1$"))
    link = photo.get_by_role("link", name="shoe.png")
    download = page.request.get(page.url.split("/chats/")[0] + (link.get_attribute("href") or ""))
    assert download.status == 200 and download.headers["content-type"] == "image/png"

    # The manager attaches a file with the typed text as its caption.
    composer(page).fill("Here is the size chart.")
    page.locator("#gc-file").set_input_files(
        files=[{"name": "sizes.txt", "mimeType": "text/plain", "buffer": b"EU 42 = US 9\n"}]
    )
    sent = message(page, "Here is the size chart.")
    expect(sent).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(sent.get_by_role("link", name="sizes.txt")).to_be_visible()
    expect(composer(page)).to_have_value("")
    seen = visitor.api("GET", "/conversation").json()["messages"][-1]
    assert seen["body"] == "Here is the size chart."
    assert [a["name"] for a in seen["attachments"]] == ["sizes.txt"]
    page.reload()
    expect(message(page, "Here is the size chart.")).to_have_count(1)
    expect(composer(page)).to_have_value("")  # the caption did not come back as a draft


def requests_post_file(live_server: Any, visitor: Any, name: str, data: bytes, body: str) -> Any:
    import requests

    return requests.post(
        f"{live_server.url}/chats/widget/api/attachments",
        headers={k: v for k, v in visitor.headers().items()},
        files={"file": (name, data)},
        data={"client_id": str(uuid.uuid4()), "body": body},
        timeout=10,
    )


def test_managers_drop_and_paste_files_and_see_upload_progress(
    app: Any,
    live_server: Any,
    chats_url: str,
    open_browser: Callable[[], BrowserSide],
    manager_id: str,
) -> None:
    from ..conftest import Visitor

    _, key = create_source(app, ["shop.example.com"], [manager_id])
    visitor = Visitor(live_server, key)
    conv_id = visitor.open().json()["conversation_id"]
    page = open_console(open_browser(), chats_url, manager_id, f"?c={conv_id}")
    join(page)

    # Drag-and-drop onto the chat area.
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(["dropped text"], "dropped.txt", { type: "text/plain" }));
          const target = document.getElementById("gc-messages");
          const init = { dataTransfer: dt, bubbles: true, cancelable: true };
          target.dispatchEvent(new DragEvent("dragover", init));
          target.dispatchEvent(new DragEvent("drop", init));
        }"""
    )
    expect(page.get_by_role("link", name="dropped.txt")).to_be_visible()

    # A pasted screenshot, while its upload is held back: a labelled progress bar shows.
    held: list[Any] = []
    page.route("**/attachments", lambda route: held.append(route))
    page.evaluate(
        """(bytes) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(bytes)], "screenshot.png", { type: "image/png" }));
          const box = document.getElementById("gc-body");
          const init = { clipboardData: dt, bubbles: true, cancelable: true };
          box.dispatchEvent(new ClipboardEvent("paste", init));
        }""",
        list(png()),
    )
    bar = page.get_by_role("progressbar", name="Uploading screenshot.png")
    expect(bar).to_be_visible()
    for _ in range(100):  # the route handler runs as the request leaves; wait for it (<= 5 s)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the upload request was made"
    held[0].continue_()
    page.unroute("**/attachments")
    expect(page.get_by_role("img", name="screenshot.png")).to_be_visible()
    expect(bar).to_have_count(0)
    names = [
        a["name"]
        for m in visitor.api("GET", "/conversation").json()["messages"]
        for a in m["attachments"]
    ]
    assert names == ["dropped.txt", "screenshot.png"]
