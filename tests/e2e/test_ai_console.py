"""The AI assistant in the console, in a real browser: the assistant's answers labelled, the
"Handed to people" badge in the list and the header after a hand-off, the header following
``ai.state`` live when the manager joins, "Hand back to AI", and the "AI draft" of a
humans-only source (refused with the reason without a provider; with one, the job's socket
frame fills the composer and nothing is sent)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..ai.conftest import answer, open_chat, set_ai
from ..ai.conftest import messages as visitor_messages
from ..channels.conftest import clear_queue, run_worker
from ..conftest import LiveServer
from ..knowledge.conftest import Kit, fake_openai, provider  # noqa: F401  (fixtures)
from .conftest import BrowserSide
from .console_kit import composer, message, messages, open_console, quiet_server  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

QUESTION = "How long does delivery take?"
ANSWER = "Delivery takes two to three business days."


@pytest.fixture
def kit(app: Any, live_server: LiveServer, admin_id: str, manager_id: str):
    state = app.extensions["gincore_chats"]
    clear_queue(state)
    yield Kit(app, live_server, admin_id, manager_id)
    clear_queue(state)


def open_in_console(page: Any, conv_id: int) -> None:
    page.locator(f'#gc-conversations [data-id="{conv_id}"]').click()
    expect(page.locator(f'#gc-console[data-synced="{conv_id}"]')).to_have_count(1)


def test_badge_header_state_and_hand_back(
    kit: Kit, provider, chats_url: str, manager_id: str,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
):  # fmt: skip
    entry = kit.create(QUESTION, ANSWER)
    set_ai(kit, mode="ai_first", assistant_name="Ava")
    provider.reply = lambda request: answer([entry], ANSWER)
    visitor, conv_id = open_chat(kit)
    visitor.send(QUESTION)
    run_worker(kit.app)
    page = open_console(open_browser(), chats_url, manager_id)
    listed = page.locator(f'#gc-conversations [data-id="{conv_id}"]')
    expect(listed.locator(".gc-tag-ai")).to_have_text("AI answering")
    open_in_console(page, conv_id)
    said = message(page, ANSWER)
    expect(said.locator(".gc-author")).to_have_text("Ava")
    expect(said.locator(".gc-tag-ai")).to_have_text("AI assistant")
    header = page.locator("#gc-chat-sub")
    expect(header.locator(".gc-tag-ai")).to_have_text("AI answering")
    expect(page.get_by_role("button", name="Hand back to AI")).to_be_hidden()
    expect(page.get_by_role("button", name="AI draft")).to_be_hidden()

    # The customer asks for a person: the list row (an inbox update) and the header (an
    # ai.state event) say so, live.
    visitor.send("I want to talk to a human")
    run_worker(kit.app)
    expect(listed.locator(".gc-tag-ai")).to_contain_text("Handed to people")
    expect(header.locator(".gc-tag-ai")).to_contain_text("Handed to people")
    expect(header.locator(".gc-tag-ai")).to_have_attribute(
        "title", "the customer asked for a person"
    )

    # Joining stops the assistant; the header follows; the manager hands back.
    page.get_by_role("button", name="Join", exact=True).click()
    expect(header.locator(".gc-tag-ai")).to_contain_text("AI stopped")
    back = page.get_by_role("button", name="Hand back to AI")
    expect(back).to_be_visible()
    back.focus()
    page.keyboard.press("Enter")
    expect(header.locator(".gc-tag-ai")).to_contain_text("AI answering")
    expect(back).to_be_hidden()
    expect(listed.locator(".gc-tag-ai")).to_contain_text("AI answering")

    # Handed back, the assistant answers the next question again.
    visitor.send(QUESTION)
    run_worker(kit.app)
    expect(messages(page).locator(".gc-msg-assistant")).to_have_count(2)


def test_an_ai_draft_fills_the_composer_in_humans_only_mode(
    kit: Kit, provider, chats_url: str, manager_id: str,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
):  # fmt: skip
    entry = kit.create(QUESTION, ANSWER)
    provider.reply = lambda request: answer([entry], "Draft: " + ANSWER)
    visitor, conv_id = open_chat(kit)
    visitor.send(QUESTION)
    run_worker(kit.app)
    page = open_console(open_browser(), chats_url, manager_id)
    listed = page.locator(f'#gc-conversations [data-id="{conv_id}"]')
    expect(listed).to_be_visible()
    expect(listed.locator(".gc-tag-ai")).to_have_count(0)  # humans only: no assistant
    open_in_console(page, conv_id)
    draft = page.get_by_role("button", name="AI draft")
    expect(draft).to_be_visible()
    draft.click()
    expect(draft).to_be_disabled()
    run_worker(kit.app)
    expect(composer(page)).to_have_value("Draft: " + ANSWER)
    expect(composer(page)).to_be_focused()
    expect(draft).to_be_enabled()
    assert [m["kind"] for m in visitor_messages(visitor)] == ["customer"]  # a draft is not sent


def test_no_ai_draft_without_a_provider(
    kit: Kit, chats_url: str, manager_id: str, open_browser: Callable[[], BrowserSide],
    monkeypatch: pytest.MonkeyPatch,
):  # fmt: skip
    state = kit.state
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, ai_base_url=None))
    visitor, conv_id = open_chat(kit)
    visitor.send(QUESTION)
    page = open_console(open_browser(), chats_url, manager_id)
    open_in_console(page, conv_id)
    page.get_by_role("button", name="AI draft").click()
    expect(page.get_by_role("alert")).to_have_text(
        "AI drafts need an AI provider; none is configured (see CHATS_AI_BASE_URL)."
    )
    expect(composer(page)).to_have_value("")
