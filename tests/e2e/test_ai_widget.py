"""The widget marks the AI assistant, in a real browser: its answers carry the assistant's
name and the "AI assistant" mark (a translatable widget text, see tests/ai/test_widget_mark.py),
and "Ava is typing…" shows while the provider writes the answer and goes when it arrives."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from ..ai.conftest import answer, set_ai
from ..ai.fake_openai import Step
from ..channels.conftest import run_worker
from ..knowledge.conftest import Kit, fake_openai, provider  # noqa: F401  (fixtures)
from .conftest import BrowserSide, ShopServer
from .console_kit import quiet_server, start_widget, widget_log, widget_send  # noqa: F401
from .test_ai_replies import shop_kit  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

#: Keeps every text the widget's typing line shows (it lives in the widget's shadow root).
RECORD_TYPING = """() => {
  const line = document.getElementById("gincore-chats").shadowRoot.querySelector(".gc-typing");
  window.__typingShown = [];
  new MutationObserver(() => window.__typingShown.push(line.textContent))
    .observe(line, { childList: true, characterData: true, subtree: true });
}"""

QUESTION = "How long does delivery take?"
ANSWER = "Delivery takes two to three business days."


def test_the_assistant_is_marked_and_typing_shows_while_it_writes(
    shop_kit: Kit, provider, chats_url: str, shop: ShopServer,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
):  # fmt: skip
    kit = shop_kit
    entry = kit.create(QUESTION, ANSWER)
    set_ai(kit, mode="ai_first", assistant_name="Ava")
    # The model takes a moment (within the 2 s timeout), as models do.
    provider.script("chat", Step(delay=0.5, content=answer([entry], ANSWER)))
    visitor = start_widget(open_browser, shop, chats_url, kit.key)
    log = widget_log(visitor.page)
    widget_send(visitor.page, QUESTION)
    expect(log.locator(".gc-mine:not(.gc-pending)", has_text=QUESTION)).to_have_count(1)

    # The worker runs here (RQ needs the main thread), so the page records what its typing
    # line said meanwhile; the test reads the record afterwards.
    visitor.page.evaluate(RECORD_TYPING)
    run_worker(kit.app)
    said = log.locator("li", has_text=ANSWER)
    expect(said).to_have_count(1)
    expect(said.locator(".gc-sig")).to_contain_text("Ava")
    expect(said.locator(".gc-sig .gc-ai")).to_have_text("AI assistant")
    expect(visitor.page.locator(".gc-typing")).to_have_text("")
    shown = visitor.page.evaluate("window.__typingShown")
    assert "Ava is typing…" in shown and shown[-1] == "", shown
    # A person's replies carry no such mark.
    conv_id = kit.manager.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert kit.manager.api("POST", f"/conversations/{conv_id}/join").ok
    expect(log.locator(".gc-sys", has_text="joined the chat")).to_have_count(1)
    expect(log.locator(".gc-ai")).to_have_count(1)
