"""Files in the widget: the visitor sends images and files (picker, paste, drag-and-drop) with
visible progress and a safe retry; refusals (quota, size, type) are said in the visitor's
language and store nothing; a manager's image shows as a thumbnail that opens full size; a file
is downloaded with the visitor's token and never rendered, whatever its content."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FilePayload, JSHandle, Locator, Page, Route, WebSocketRoute, expect

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    chat_log,
    config_fixture,
    message_box,
    only_conversation,
    open_chat,
    panel,
    status,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


# -- helpers --------------------------------------------------------------------------------------


def png(size: tuple[int, int] = (640, 480), color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def payload(name: str, data: bytes, mime: str = "application/octet-stream") -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


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
    # A lasting listener keeps Playwright's file chooser interception on: one that each
    # expect_file_chooser switches on anew can lose the race with the click.
    side.page.on("filechooser", lambda chooser: None)
    side.page.goto(shop.add_page(path, chats_url, key))
    open_chat(side.page, t)
    manager = Manager(live_server, manager_id, only_conversation(app).id)
    manager.join()
    expect(chat_log(side.page, t).locator(".gc-sys")).to_have_text(["Mia Manager joined the chat"])
    return t, manager


def attach_button(page: Page, t: dict[str, str]) -> Locator:
    return panel(page, t).get_by_role("button", name=t["attach"], exact=True)


def pick(page: Page, t: dict[str, str], *files: FilePayload) -> None:
    """Choose files the way a keyboard user does: focus the attach button, press Enter."""
    attach_button(page, t).focus()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    assert chooser.value.is_multiple()
    chooser.value.set_files(list(files))


def data_transfer(page: Page, *files: tuple[str, bytes, str]) -> JSHandle:
    """A DataTransfer holding files, as a drag from the desktop or a paste carries."""
    return page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64, type] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type }));
            }
            return dt;
        }""",
        [[name, base64.b64encode(data).decode(), mime] for name, data, mime in files],
    )


def mine(page: Page, t: dict[str, str]) -> Locator:
    """The visitor's confirmed messages (an upload in progress or failed is not one)."""
    return chat_log(page, t).locator(".gc-mine:not(.gc-up)")


def stored_files(app: Any) -> list[str]:
    root = app.extensions["gincore_chats"].config.storage_path
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)


def counts(app: Any) -> tuple[int, int]:
    """(attachments, messages other than system ones) in the database."""
    from gincore_chats.models import Attachment, Message

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return (
                session.query(Attachment).count(),
                session.query(Message).filter(Message.kind != "system").count(),
            )
        finally:
            session.remove()


def customer_files(manager: Manager) -> list[list[dict[str, Any]]]:
    """What the manager sees through the console API: each visitor message's attachments."""
    return [m["attachments"] for m in manager.detail()["messages"] if m["kind"] == "customer"]


def manager_download(manager: Manager, file_id: str) -> bytes:
    r = manager.http.get(f"{manager.server.url}/chats/console/files/{file_id}")
    assert r.status_code == 200, r.text
    return r.content


def manager_upload(manager: Manager, name: str, data: bytes) -> dict[str, Any]:
    r = manager.http.post(
        f"{manager.server.url}/chats/console/api/conversations/{manager.conv}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data={"client_id": str(uuid.uuid4())},
        headers={"X-CSRF-Token": manager.csrf},
    )
    assert r.status_code == 201, r.text
    return r.json()["message"]


def natural_width(img: Locator) -> int:
    """The decoded width of an image once it has loaded from a blob: URL (0 while loading)."""
    expect(img).to_have_attribute("src", re.compile(r"^blob:"))
    expect(img).to_have_js_property("complete", True)
    return int(img.evaluate("(i) => i.naturalWidth"))


def said(text: str, name: str = "") -> str:
    return text.replace("{name}", name)


def blob_alive(page: Page, url: str) -> bool:
    """Whether a blob: URL still resolves in the page (False once revoked)."""
    return bool(page.evaluate("(u) => fetch(u).then(() => true, () => false)", url))


# -- tests ----------------------------------------------------------------------------------------


def test_the_visitor_sends_files_with_the_picker_and_the_manager_gets_them(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/picker")
    photo, lying, notes = png(), png((100, 50), (200, 40, 40)), b"Order 42, size M\n"
    # Three files at once (the picker allows several): one message each.
    pick(
        page,
        t,
        payload("photo.png", photo, "image/png"),
        payload("invoice.pdf", lying, "application/pdf"),  # a PNG whose name lies
        payload("notes.txt", notes, "text/plain"),
    )
    expect(mine(page, t)).to_have_count(3)
    expect(chat_log(page, t).locator(".gc-up")).to_have_count(0)

    # Images show as thumbnails (the server's, at most 320 px wide) under their true name ...
    log = chat_log(page, t)
    thumb = log.get_by_role("button", name="photo.png", exact=True).get_by_role("img")
    assert natural_width(thumb) == 320
    corrected = log.get_by_role("button", name="invoice.png", exact=True).get_by_role("img")
    assert natural_width(corrected) == 100
    # ... other files as a link with the name and the size.
    expect(log.get_by_role("link", name="notes.txt 17 byte", exact=True)).to_be_visible()

    # The manager sees the three messages with their files, byte for byte.
    got = {a["name"]: a for files in customer_files(manager) for a in files}
    assert set(got) == {"photo.png", "invoice.png", "notes.txt"}
    assert got["invoice.png"]["type"] == "image/png" and got["invoice.png"]["image"]
    assert not got["notes.txt"]["image"] and got["notes.txt"]["size"] == len(notes)
    assert manager_download(manager, got["photo.png"]["id"]) == photo
    assert manager_download(manager, got["notes.txt"]["id"]) == notes

    # The files are this visitor's only: another visitor's token gets a 404 in the browser too.
    fetch = """async ([url, token]) =>
        (await fetch(url, { headers: { Authorization: "Bearer " + token } })).status"""
    url = f"{chats_url}/chats/widget/api/files/{got['notes.txt']['id']}"
    other = visitor_browser()
    other.page.goto(page.url)
    open_chat(other.page, t)
    key = page.evaluate("() => Object.keys(localStorage)[0]")
    mine_token = page.evaluate("(k) => localStorage.getItem(k)", key)
    other_token = other.page.evaluate("(k) => localStorage.getItem(k)", key)
    assert other_token and other_token != mine_token
    assert page.evaluate(fetch, [url, mine_token]) == 200
    assert other.page.evaluate(fetch, [url, other_token]) == 404


def test_a_pasted_image_and_a_dropped_file_are_sent(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/paste")
    box = message_box(page, t)

    # A screenshot pasted into the message box is sent; the draft being written stays.
    box.fill("About this one:")
    clip = data_transfer(page, ("image.png", png((300, 200)), "image/png"))
    box.evaluate(
        """(el, dt) => el.dispatchEvent(new ClipboardEvent("paste",
            { clipboardData: dt, bubbles: true, cancelable: true, composed: true }))""",
        clip,
    )
    expect(mine(page, t)).to_have_count(1)
    expect(box).to_have_value("About this one:")
    assert natural_width(mine(page, t).get_by_role("img", name="image.png")) == 300

    # Files dragged over the panel: it says where to drop them; dropped, they are sent.
    chat = panel(page, t)
    drag = data_transfer(page, ("size-chart.txt", b"S M L XL\n", "text/plain"))
    chat.dispatch_event("dragenter", {"dataTransfer": drag})
    chat.dispatch_event("dragover", {"dataTransfer": drag})
    expect(chat).to_have_class(re.compile(r"\bgc-drag\b"))
    hint = chat.evaluate("(p) => getComputedStyle(p, '::after').content")
    assert hint == json.dumps(t["drop_here"])
    chat.dispatch_event("drop", {"dataTransfer": drag})
    expect(chat).not_to_have_class(re.compile(r"\bgc-drag\b"))
    expect(mine(page, t)).to_have_count(2)
    expect(
        chat_log(page, t).get_by_role("link", name=re.compile(r"^size-chart\.txt"))
    ).to_be_visible()

    names = [[a["name"] for a in files] for files in customer_files(manager)]
    assert names == [["image.png"], ["size-chart.txt"]]
    assert counts(app) == (2, 2)


VALUES = "(bars) => bars.map((b) => b.value)"


def test_upload_progress_is_shown_and_an_upload_can_be_cancelled(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, _ = start(app, live_server, chats_url, shop, side, manager_id, "/progress")
    # A slow uplink (about 100 KB/s), so a 300 KB upload takes a few seconds.
    cdp = side.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    big = b"All the sizes we have.\n" * 13_000  # 299 KB of text

    uploads = "/chats/widget/api/attachments"
    before = live_server.finished("POST", uploads)
    pick(page, t, payload("catalog.txt", big, "text/plain"))
    bar = panel(page, t).get_by_role("progressbar", name=said(t["uploading"], "catalog.txt"))
    expect(bar).to_be_visible()
    values: list[float] = []
    deadline = time.monotonic() + 15
    # evaluate_all reads the bar if it is still there (evaluate would wait for a finished one).
    while (now := bar.evaluate_all(VALUES)) and time.monotonic() < deadline:
        values.append(float(now[0]))
        page.wait_for_timeout(200)
    assert any(0 < v < 100 for v in values), values  # it moved, in steps, while it ran
    assert values == sorted(values)
    expect(mine(page, t)).to_have_count(1)
    assert counts(app) == (1, 1)

    # Cancelled half-way: the item goes away and nothing is stored.
    pick(page, t, payload("again.txt", big, "text/plain"))
    bar = panel(page, t).get_by_role("progressbar", name=said(t["uploading"], "again.txt"))
    deadline = time.monotonic() + 10
    expect(bar).to_be_visible()
    while (now := bar.evaluate_all(VALUES)) and now[0] < 10 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert now, "the upload finished before it could be cancelled"
    panel(page, t).get_by_role("button", name=t["cancel"], exact=True).click()
    expect(chat_log(page, t).locator(".gc-up")).to_have_count(0)
    expect(message_box(page, t)).to_be_focused()
    # The server has seen the cut-off upload through (refused or failed), then nothing is kept.
    live_server.wait_finished("POST", uploads, before + 2)
    assert counts(app) == (1, 1)
    assert len(stored_files(app)) == 1


TYPE = "file_type_refused"
REFUSALS = {
    # case: (settings, file name, content, the widget's text key)
    "quota": ({"storage_quota": 4000}, "notes.txt", b"n" * 5000, "quota_full"),
    "size": ({"max_upload_size": 1000}, "notes.txt", b"n" * 5000, "file_too_large"),
    # Far beyond the limit: refused before the body is parsed, still readable by the widget.
    "size-huge": ({"max_upload_size": 1000}, "video.txt", b"v" * 3_000_000, "file_too_large"),
    "svg": ({}, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', TYPE),
    "html": ({}, "page.html", b"<!doctype html><script>alert(1)</script>", TYPE),
    "html-as-png": ({}, "cute.png", b"<html><body onload=alert(1)>", TYPE),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_upload_says_why_and_stores_nothing(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
    config: Callable[..., None],
    case: str,
) -> None:
    settings, name, content, key = REFUSALS[case]
    side = visitor_browser()
    page = side.page
    t, _ = start(app, live_server, chats_url, shop, side, manager_id, f"/refused-{case}")
    config(**settings)
    with page.expect_response(re.compile(r"/widget/api/attachments$")) as answer:
        pick(page, t, payload(name, content))
    assert answer.value.status == {"quota_full": 507, "file_too_large": 413}.get(key, 415)
    expect(status(page, t)).to_have_text(said(t[key], name))
    if key == "quota_full":
        assert t[key] == "The storage quota is full; ask your administrator to expand it."
    expect(chat_log(page, t).locator(".gc-up")).to_have_count(0)  # no retry for a refusal
    assert counts(app) == (0, 0)
    assert stored_files(app) == [], "nothing half-stored remains"


def test_a_managers_image_shows_as_a_thumbnail_and_opens_full_size(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/manager-image")
    with page.expect_response(re.compile(r"/widget/api/files/[\w-]+\?thumb=1$")):
        sent = manager_upload(manager, "blue-shoes.png", png((800, 600)))
    log = chat_log(page, t)
    opener = log.get_by_role("button", name="blue-shoes.png", exact=True)
    thumb = opener.get_by_role("img")
    assert natural_width(thumb) == 320  # the thumbnail, not the full image
    thumb_url = thumb.get_attribute("src") or ""

    # Opened: the full image in a modal view, fetched with the token as well.
    with page.expect_response(re.compile(r"/widget/api/files/[\w-]+$")) as full:
        opener.click()
    assert full.value.request.headers["authorization"].startswith("Bearer ")
    view = page.get_by_role("dialog", name="blue-shoes.png", exact=True)
    expect(view).to_be_visible()
    big = view.get_by_role("img", name="blue-shoes.png")
    assert natural_width(big) == 800
    full_url = big.get_attribute("src") or ""
    save = view.get_by_role("link", name=t["download"], exact=True)
    expect(save).to_have_attribute("download", "blue-shoes.png")
    expect(view.get_by_role("button", name=t["close_image"], exact=True)).to_be_focused()
    # Escape closes the image only; the chat stays open and focus goes back to the thumbnail.
    page.keyboard.press("Escape")
    expect(view).to_have_count(0)
    expect(panel(page, t)).to_be_visible()
    expect(opener).to_be_focused()
    # Chromium revokes a blob: URL through an IPC call to its blob registry, so a fetch made
    # at once may still resolve: wait (with a limit) until the revocation has reached it.
    deadline = time.monotonic() + 5
    while blob_alive(page, full_url) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert not blob_alive(page, full_url), "the full image's blob: URL is revoked when closed"
    assert blob_alive(page, thumb_url)

    # The manager deletes the message: the thumbnail goes, and so does its blob: URL.
    manager.delete(sent["id"])
    expect(opener).to_have_count(0)
    deadline = time.monotonic() + 5
    while blob_alive(page, thumb_url) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert not blob_alive(page, thumb_url)


def test_a_file_with_html_inside_is_downloaded_and_never_rendered(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser(accept_downloads=True)
    page = side.page
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/html-inside")
    # Plain text to the type check (it does not start like markup), HTML to a browser that sniffs.
    evil = (
        b"Order notes\n<script>window.__pwned = 1</script>"
        b"<img src=x onerror='window.__pwned = 2'>\n"
    )
    pick(page, t, payload("notes.txt", evil, "text/html"))
    link = chat_log(page, t).get_by_role("link", name=re.compile(r"^notes\.txt"))
    expect(link).to_be_visible()

    # In the widget: fetched with the token and saved, not opened.
    with page.expect_download() as saved:
        link.click()
    assert saved.value.suggested_filename == "notes.txt"
    assert Path(saved.value.path()).read_bytes() == evil
    assert page.evaluate("() => window.__pwned") is None

    # Opened directly in a browser (the visitor's token; a manager's session): a download too.
    [files] = customer_files(manager)
    file_id = files[0]["id"]
    token = page.evaluate("() => localStorage.getItem(Object.keys(localStorage)[0])")
    visitor_view = visitor_browser(
        accept_downloads=True,
        extra_http_headers={"Authorization": f"Bearer {token}", "Origin": shop.origin},
    )
    staff_view = visitor_browser(accept_downloads=True)
    staff_view.context.add_cookies(
        [
            {"name": k, "value": v or "", "url": live_server.url}
            for k, v in manager.http.cookies.items()
        ]
    )
    for view, url in (
        (visitor_view, f"{chats_url}/chats/widget/api/files/{file_id}"),
        (staff_view, f"{live_server.url}/chats/console/files/{file_id}"),
    ):
        with (
            view.page.expect_response(url) as answer,
            view.page.expect_download() as got,
        ):
            try:
                view.page.goto(url)
            except PlaywrightError as exc:  # the navigation became a download
                assert "Download is starting" in str(exc)
        assert Path(got.value.path()).read_bytes() == evil
        headers = answer.value.headers
        assert headers["content-type"] == "application/octet-stream"
        assert headers["content-disposition"].startswith("attachment")
        assert headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in headers["content-security-policy"]
        assert all(f.evaluate("() => window.__pwned") is None for f in view.page.frames)


def test_a_failed_upload_is_retried_without_a_duplicate(
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    side = visitor_browser()
    page = side.page
    # The widget's socket runs through the test, which can hold back what the server says (so
    # the visitor learns about a stored upload only from the upload's own answer).
    hold = {"socket": False}

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda frame: server.send(frame))
        server.on_message(lambda frame: None if hold["socket"] else ws.send(frame))

    page.route_web_socket(re.compile(r"/chats/widget/ws$"), relay)
    t, manager = start(app, live_server, chats_url, shop, side, manager_id, "/retry")
    log = chat_log(page, t)
    failing = {"before": 1, "after": 0}
    client_ids: list[str] = []

    def flaky_network(route: Route) -> None:
        if route.request.method != "POST":
            return route.continue_()
        sent = re.search(
            rb'name="client_id"\r\n\r\n([\w-]+)', route.request.post_data_buffer or b""
        )
        assert sent, "the upload carries its client id"
        client_ids.append(sent.group(1).decode())
        if failing["before"]:
            # Lost on the way to the server: nothing stored.
            failing["before"] -= 1
            return route.abort("connectionreset")
        if failing["after"]:
            # Stored by the server, but the answer is lost on the way back.
            failing["after"] -= 1
            route.fetch()
            return route.abort("connectionreset")
        return route.continue_()

    page.route(re.compile(r"/widget/api/attachments$"), flaky_network)

    # 1. The upload never reached the server: an error, a Retry, and then the message.
    pick(page, t, payload("first.png", png(), "image/png"))
    failed = log.locator(".gc-up")
    expect(failed.locator(".gc-err")).to_have_text(said(t["upload_failed"], "first.png"))
    assert counts(app) == (0, 0)
    with page.expect_response(re.compile(r"/widget/api/attachments$")) as answer:
        failed.get_by_role("button", name=t["retry"], exact=True).click()
    assert answer.value.status == 201
    expect(failed).to_have_count(0)
    expect(mine(page, t)).to_have_count(1)

    # 2. The server stored it, but the answer was lost (and the socket is silent): the retry
    # carries the same client id and gets the stored message back instead of a second one.
    hold["socket"] = True
    failing["after"] = 1
    pick(page, t, payload("second.png", png((200, 100)), "image/png"))
    expect(failed.locator(".gc-err")).to_have_text(said(t["upload_failed"], "second.png"))
    assert counts(app) == (2, 2)
    with page.expect_response(re.compile(r"/widget/api/attachments$")) as answer:
        failed.get_by_role("button", name=t["retry"], exact=True).click()
    assert answer.value.status == 200 and answer.value.json()["created"] is False
    expect(failed).to_have_count(0)
    expect(mine(page, t)).to_have_count(2)

    # The socket speaks again (what it held back is synced): still every message once.
    hold["socket"] = False
    manager.say("Got both, thank you")
    expect(log.locator("li:not(.gc-greet)")).to_have_count(4)
    expect(log.get_by_role("button", name="second.png", exact=True)).to_have_count(1)
    assert len(client_ids) == 4  # each upload tried twice, with its own client id both times
    assert client_ids[0] == client_ids[1] != client_ids[2] == client_ids[3]
    assert counts(app) == (2, 3)
    assert [len(files) for files in customer_files(manager)] == [1, 1]
    assert len(stored_files(app)) == 4  # two images and their thumbnails, once each
