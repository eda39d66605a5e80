"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a shop on another origin.

The chats live server is reached as ``http://localhost:<port>`` and the shop page that embeds the
widget is served by a second server as ``http://127.0.0.1:<port2>``: different host names are
different origins, so the widget runs cross-origin exactly as on a customer's site.

Chromium is the system one (``CHATS_TEST_CHROMIUM``, default ``/usr/bin/chromium``); Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from ..conftest import LiveServer

CHROMIUM = os.environ.get("CHATS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Auto-waiting assertions get a little more room than the 5 s default: two cores run the
# browser, the server and PostgreSQL at once.
expect.set_options(timeout=10_000)


class ShopServer:
    """A plain HTTP server standing in for the host's shop: it serves registered pages only."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.origin = f"http://{self.host}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_page(self, path: str, chats_url: str, key: str, title: str = "Test shop") -> str:
        """Serve a shop page embedding the widget snippet exactly as the settings page shows it."""
        html = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <p>Blue shoes, size 42.</p>
  <script src="{chats_url}/chats/widget.js" data-key="{key}" async></script>
</body>
</html>
"""
        self.pages[path] = html.encode()
        return self.origin + path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def shop() -> Iterator[ShopServer]:
    server = ShopServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chats_url(live_server: LiveServer) -> str:
    """The chats server under a host name other than the shop's (another origin)."""
    return f"http://localhost:{live_server.port}"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserSide:
    """One person's browser context and page, with what the page logged."""

    context: BrowserContext
    page: Page
    console: list[ConsoleMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        return [m.text for m in self.console if m.type == "warning"]


@pytest.fixture
def open_browser(chromium: Browser) -> Iterator[Callable[..., BrowserSide]]:
    """Factory: a fresh, isolated browser context (own cookies and storage) with one page.

    Uncaught page errors fail the test at teardown: a broken script must not pass unnoticed.
    """
    sides: list[BrowserSide] = []

    def make(locale: str = "en-US") -> BrowserSide:
        context = chromium.new_context(locale=locale)
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
