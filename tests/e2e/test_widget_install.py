"""The widget installed on the host's own site (same origin) and on another site (cross origin):
history, files and the live connection survive reloads, and one conversation is all there is.

A same-origin page is how ``make demo``'s shop and most Flask hosts embed the widget; Chromium
then sends no ``Origin`` on the widget's GETs (history, files), which the server must accept by
Fetch Metadata or the ``Referer``. The test checks that the browser really left the header out,
so the case is the one a visitor's browser creates.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Request, expect
from sqlalchemy import func, select

from ..conftest import create_source
from .conftest import BrowserSide, ShopServer
from .widget_support import (  # noqa: F401  (fixtures)
    Manager,
    chat_log,
    only_conversation,
    open_chat,
    panel,
    send,
    texts,
    visitor_browser_fixture,
)

pytestmark = pytest.mark.e2e


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 90, 30)).save(out, "PNG")
    return out.getvalue()


def conversation_count(app: Any) -> int:
    from gincore_chats.models import Conversation

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return int(session.scalar(select(func.count(Conversation.id))) or 0)
        finally:
            session.remove()


@pytest.mark.parametrize("install", ["same-origin", "same-origin-unlisted", "cross-origin"])
def test_history_files_and_live_updates_survive_reloads(
    install: str,
    app: Any,
    live_server: Any,
    chats_url: str,
    shop: ShopServer,
    visitor_browser: Callable[..., BrowserSide],
    manager_id: str,
) -> None:
    if install == "cross-origin":
        _, key = create_source(app, [shop.host], [manager_id])
        url, page_origin = shop.add_page("/install", chats_url, key), shop.origin
    else:
        # Listed as the demo lists its own host, or not at all: the host's own origin is allowed.
        own = [f"localhost:{live_server.port}"] if install == "same-origin" else ["shop.example"]
        _, key = create_source(app, own, [manager_id])
        url, page_origin = f"{chats_url}/test-shop/{key}", chats_url
    t = texts(app, "en")
    side = visitor_browser()
    page = side.page
    page.on("filechooser", lambda chooser: None)
    # Every reload asks the server again (a file the browser cached would not reach the route).
    cdp = side.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    history_requests: list[Request] = []
    file_requests: list[Request] = []
    page.on(
        "request",
        lambda r: (
            history_requests.append(r)
            if r.url.endswith("/widget/api/conversation")
            else file_requests.append(r)
            if "/widget/api/files/" in r.url
            else None
        ),
    )

    page.goto(url)
    open_chat(page, t)
    send(page, t, "Hello from the shop")
    log = chat_log(page, t)
    expect(log.locator(".gc-mine:not(.gc-pending)")).to_have_count(1)
    with page.expect_file_chooser() as chooser:
        panel(page, t).get_by_role("button", name=t["attach"], exact=True).click()
    chooser.value.set_files([{"name": "kettle.png", "mimeType": "image/png", "buffer": png()}])
    expect(log.locator(".gc-mine img")).to_have_count(1)

    manager = Manager(live_server, manager_id, only_conversation(app).id)
    manager.join()
    manager.say("Hi! The kettle is in stock.")
    expect(log.get_by_text("Hi! The kettle is in stock.")).to_be_visible()

    for attempt in range(2):
        history_requests.clear()
        file_requests.clear()
        page.reload()
        open_chat(page, t)
        expect(log.get_by_text("Hello from the shop")).to_be_visible()
        expect(log.get_by_text("Hi! The kettle is in stock.")).to_be_visible()
        # The thumbnail came back through the files route (a blob: URL of the fetched image).
        image = log.locator(".gc-mine img")
        expect(image).to_have_attribute("src", re.compile(r"^blob:"))
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        # Still live in both directions after the reload, in the same conversation.
        manager.say(f"Anything else? ({attempt})")
        expect(log.get_by_text(f"Anything else? ({attempt})")).to_be_visible()
        send(page, t, f"No, thanks ({attempt})")
        expect(log.locator(".gc-mine:not(.gc-pending)", has_text=f"({attempt})")).to_have_count(1)
        assert conversation_count(app) == 1

        # What the browser sent is what this install makes it send.
        assert history_requests and file_requests
        for request in history_requests + file_requests:
            headers = request.all_headers()
            if install == "cross-origin":
                assert headers.get("origin") == page_origin, headers
            else:
                # Over plain http Chromium sends no Fetch Metadata either: the Referer decides.
                assert "origin" not in headers, headers
                assert headers.get("sec-fetch-site", "same-origin") == "same-origin", headers
                assert headers["referer"].startswith(f"{page_origin}/"), headers

    bodies = [m["body"] for m in manager.detail()["messages"] if m["kind"] == "customer"]
    assert bodies == ["Hello from the shop", "", "No, thanks (0)", "No, thanks (1)"]
    assert not [w for w in side.warnings() if "could not start" in w]
