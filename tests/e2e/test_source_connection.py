"""The Secrets card and Test connection of a Telegram source, in a real browser.

Reveal fetches the secret (the page's HTML never had it), by keyboard; Hide masks it again;
Test connection says what Telegram (the fake Bot API) reports, before and after Connect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ..channels.conftest import (  # noqa: F401  (fixtures used by name)
    channels,
    fake_telegram,
    fake_viber,
    make_channel_source,
    receiver,
    stored_credentials,
)
from ..channels.fakes import TELEGRAM_TOKEN, FakeTelegram
from .conftest import BrowserSide

pytestmark = pytest.mark.e2e


def test_admin_reveals_the_webhook_secret_and_tests_the_connection(
    app: Any,
    channels: Any,  # noqa: F811
    chats_url: str,
    fake_telegram: FakeTelegram,  # noqa: F811
    open_browser: Callable[[], BrowserSide],
    admin_id: str,
) -> None:
    source_id, _ = make_channel_source(app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [])
    secret = stored_credentials(app, source_id)["webhook_secret"]
    page = open_browser().page
    page.goto(f"{chats_url}/test-login/{admin_id}?next=/chats/settings/channels/{source_id}")
    assert secret not in page.content()

    field = page.get_by_label(
        "Webhook secret (Telegram sends it in X-Telegram-Bot-Api-Secret-Token)"
    )
    expect(field).to_have_attribute("type", "password")
    expect(field).to_have_value("")
    card = page.locator("section", has=page.get_by_role("heading", name="Secrets"))
    reveal = card.get_by_role("button", name="Reveal")
    reveal.focus()
    page.keyboard.press("Enter")
    expect(field).to_have_value(secret)
    expect(field).to_have_attribute("type", "text")
    expect(card.get_by_role("status").first).to_have_text(
        "Shown. This reveal was written to the audit log."
    )
    hide = card.get_by_role("button", name="Hide")
    expect(hide).to_have_attribute("aria-expanded", "true")
    hide.click()
    expect(field).to_have_value("")
    expect(field).to_have_attribute("type", "password")

    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("1 problem found:")
    expect(result).to_contain_text("Telegram has no webhook registered for this bot")
    expect(result).to_contain_text("@acme_support_bot (Acme Support)")

    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Telegram now delivers")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text(
        "Working: Telegram accepts the credentials and delivers to this source."
    )
    expect(page.locator("#connection-result")).to_contain_text("Pending updates")
