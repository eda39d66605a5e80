"""AI replies in a real browser (the widget as shipped): a visitor gets the assistant's answer
grounded in a knowledge-base entry, under the assistant's name; asks for a person and sees the
business-hours notice; after a manager joins, the assistant stays silent; a provider that is
down hands off with the visitor's message kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from gincore_chats.models import Source
from gincore_chats.services.unit_of_work import unit_of_work

from ..ai.conftest import answer, set_ai
from ..ai.fake_openai import Step
from ..channels.conftest import clear_queue, run_worker
from ..conftest import LiveServer
from ..knowledge.conftest import Kit, fake_openai, provider  # noqa: F401  (fixtures)
from .conftest import BrowserSide, ShopServer
from .console_kit import (
    launcher,
    quiet_server,  # noqa: F401  (fixture)
    start_widget,
    widget_log,
    widget_send,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quiet_server")]

QUESTION = "How long does delivery take?"
ANSWER = "Delivery takes two to three business days."
BUSINESS_HOURS = "Leave a message and we will reply during business hours."


@pytest.fixture
def shop_kit(app: Any, live_server: LiveServer, shop: ShopServer, admin_id: str, manager_id: str):
    state = app.extensions["gincore_chats"]
    clear_queue(state)
    kit = Kit(app, live_server, admin_id, manager_id)
    # The widget runs on the test shop's host: allow it on this source.
    with app.app_context(), unit_of_work(state.session):
        state.session.get(Source, kit.source_id).allowed_domains = [shop.host]
    yield kit
    clear_queue(state)


def test_the_visitor_sees_the_assistant_then_the_hand_off_then_the_manager(
    shop_kit: Kit, provider, chats_url: str, shop: ShopServer,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
):  # fmt: skip
    kit = shop_kit
    entry = kit.create(QUESTION, ANSWER)
    set_ai(kit, mode="ai_first", assistant_name="Ava")
    provider.reply = lambda request: answer([entry], ANSWER)
    visitor = start_widget(open_browser, shop, chats_url, kit.key)
    log = widget_log(visitor.page)

    widget_send(visitor.page, QUESTION)
    expect(log.locator(".gc-mine:not(.gc-pending)", has_text=QUESTION)).to_have_count(1)
    run_worker(kit.app)
    said = log.locator("li", has_text=ANSWER)
    expect(said).to_have_count(1)
    expect(said.locator(".gc-sig")).to_contain_text("Ava")
    expect(said.locator(".gc-sig .gc-ai")).to_have_text("AI assistant")

    widget_send(visitor.page, "I want to talk to a human")
    expect(log.locator(".gc-mine:not(.gc-pending)", has_text="human")).to_have_count(1)
    run_worker(kit.app)
    expect(log.locator(".gc-sys", has_text=BUSINESS_HOURS)).to_have_count(1)

    conv_id = kit.manager.api("GET", "/conversations").json()["conversations"][0]["id"]
    assert kit.manager.api("POST", f"/conversations/{conv_id}/join").ok
    expect(log.locator(".gc-sys", has_text="Mia Manager joined the chat")).to_have_count(1)
    widget_send(visitor.page, "And to Lviv? " + QUESTION)
    run_worker(kit.app)
    kit.manager.api("POST", f"/conversations/{conv_id}/messages",
                    {"body": "Two days to Lviv.", "client_id": str(uuid.uuid4())})  # fmt: skip
    expect(log.locator("li", has_text="Two days to Lviv.")).to_have_count(1)
    expect(log.locator("li", has_text=ANSWER)).to_have_count(1)  # the assistant said nothing
    assert len(provider.calls("chat")) == 1


def test_a_provider_that_is_down_hands_off_and_keeps_the_message(
    shop_kit: Kit, provider, chats_url: str, shop: ShopServer,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
):  # fmt: skip
    kit = shop_kit
    kit.create(QUESTION, ANSWER)
    set_ai(kit, mode="ai_first")
    provider.script("chat", *[Step(status=500)] * 6)
    visitor = start_widget(open_browser, shop, chats_url, kit.key)
    log = widget_log(visitor.page)
    widget_send(visitor.page, QUESTION)
    expect(log.locator(".gc-mine:not(.gc-pending)", has_text=QUESTION)).to_have_count(1)
    run_worker(kit.app)
    expect(log.locator(".gc-sys", has_text=BUSINESS_HOURS)).to_have_count(1)
    visitor.page.reload()
    launcher(visitor.page).click()
    expect(widget_log(visitor.page).locator(".gc-mine", has_text=QUESTION)).to_have_count(1)
