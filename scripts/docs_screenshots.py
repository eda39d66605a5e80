#!/usr/bin/env python3
"""Take the documentation's screenshots from a running demo, in Chromium, at 1280 and 390 px.

    .venv/bin/python scripts/docs_screenshots.py [OUTPUT_DIR]

Starts the demo host (``example_app``) in this process on a free port with a fresh SQLite
database and an embedded Redis (or ``CHATS_REDIS_URL``), plays a short chat (a visitor asks, a
manager joins and answers), and writes PNGs to ``docs/_static/screenshots/`` (or OUTPUT_DIR):
the widget, the console and the settings pages, each ``<name>-1280.png`` (a 1280 x 800
desktop) and ``<name>-390.png`` (a 390 x 844 phone). Chromium is ``CHATS_TEST_CHROMIUM``
(default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import io
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from example_app.runtime import prepare  # noqa: E402  (after the path is set)

CHROMIUM = os.environ.get("CHATS_TEST_CHROMIUM", "/usr/bin/chromium")
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_in(browser: Browser, base: str, username: str, options: dict[str, Any]) -> Page:
    page = browser.new_context(locale="en-US", **options).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()
    return page


def shoot(page: Page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    shot = Image.open(io.BytesIO(page.screenshot(animations="disabled"))).convert("RGB")
    # 256 colours are plenty for a UI and make the committed files a third of the size.
    shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs" / "_static" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    instance = tempfile.mkdtemp(prefix="gc-shots-")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PORT=str(port), HOST="127.0.0.1")
    runtime = prepare(env, with_worker=False, instance_path=instance)
    server = make_server("127.0.0.1", port, runtime.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    key = runtime.seed.widget_key
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # Maria is at work (her console open), so the widget shows her online.
            maria = log_in(browser, base, "maria", DESKTOP)
            maria.goto(f"{base}/chats/console")
            expect(maria.locator("#gc-conn")).to_have_text("Live")

            visitor = browser.new_context(locale="en-US", **DESKTOP).new_page()
            visitor.goto(f"{base}/shop")
            visitor.get_by_role("button", name="Open chat").click()
            chat = visitor.get_by_role("dialog", name="Chat with us")
            expect(chat.locator(".gc-team")).to_contain_text("Maria Manager")
            box = chat.get_by_role("textbox", name="Message")
            box.fill("Hi! Do you ship the copper kettle to Lviv?")
            box.press("Enter")
            expect(chat.locator(".gc-mine .gc-sent")).to_have_count(1)

            maria.get_by_role("list", name="Conversation list").get_by_role("button").first.click()
            maria.get_by_role("button", name="Join").click()
            reply = maria.get_by_role("textbox", name="Reply")
            reply.fill("Hello! Yes, delivery to Lviv takes two to three days.")
            reply.press("Enter")
            expect(chat.get_by_text("delivery to Lviv")).to_be_visible()
            box.fill("Great, thank you!")
            box.press("Enter")
            expect(chat.locator(".gc-mine .gc-seen")).to_have_count(2)
            chat.get_by_role("textbox", name="Message").blur()
            shoot(visitor, out, "widget-1280")
            shoot(maria, out, "console-1280")

            # The same visitor on a phone: the stored token restores the conversation.
            token = visitor.evaluate(f"() => localStorage.getItem('gincore-chats:{key}')")
            phone_context = browser.new_context(locale="en-US", **PHONE)
            phone_context.add_init_script(f"localStorage.setItem('gincore-chats:{key}', {token!r})")
            phone = phone_context.new_page()
            phone.goto(f"{base}/shop")
            phone.get_by_role("button", name="Open chat").click()
            expect(phone.get_by_text("Great, thank you!")).to_be_visible()
            phone.get_by_role("textbox", name="Message").blur()
            shoot(phone, out, "widget-390")

            for options, suffix in ((DESKTOP, "1280"), (PHONE, "390")):
                admin = log_in(browser, base, "admin", options)
                admin.goto(f"{base}/chats/settings")
                shoot(admin, out, f"settings-{suffix}")
                admin.get_by_role("link", name="Demo shop").first.click()
                shoot(admin, out, f"settings-source-{suffix}")
                admin.goto(f"{base}/chats/settings/notifications")
                shoot(admin, out, f"settings-notifications-{suffix}")
            browser.close()
    finally:
        server.shutdown()
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
