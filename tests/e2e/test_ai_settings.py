"""The AI replies settings page in a browser: reached from the source page, labelled controls,
a bad value shown with what was typed kept, a write-only provider key ("stored", never in the
HTML) that can be removed after a confirmation, today's spend and the latest AI calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from gincore_chats.ai import Usage
from gincore_chats.models import AIOutcome
from gincore_chats.services.ai import calls
from gincore_chats.services.ai import settings as ai_settings
from gincore_chats.services.unit_of_work import unit_of_work

from ..conftest import create_source
from .conftest import BrowserSide
from .test_settings_pages import settings_page

pytestmark = pytest.mark.e2e

NAME = "Assistant\u2019s name"  # the page's typographic apostrophe
AVATAR = "Assistant\u2019s avatar URL"
KEY = "sk-test-secret-key-0123456789"


def stored(app: Any, source_id: int) -> dict[str, Any]:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        try:
            values = ai_settings.form_values(state, source_id)
            provider = values.pop("provider")
            values["key"] = provider.api_key if provider else None
            return values
        finally:
            state.session.remove()


def record_call(app: Any, source_id: int) -> None:
    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            config = ai_settings.snapshot(state, source_id)
            calls.do_record(
                state, config, None, AIOutcome.ANSWERED, model="gpt-test",
                usage=Usage(prompt_tokens=1200, completion_tokens=80), latency=0.25,
            )  # fmt: skip


def test_an_admin_sets_up_ai_replies_for_a_source(
    app: Any, chats_url: str, open_browser: Callable[[], BrowserSide], admin_id: str
) -> None:
    source_id, _key = create_source(app, ["shop.example.com"], [], name="Main shop")
    page = settings_page(open_browser(), chats_url, admin_id, f"/sources/{source_id}")
    card = page.get_by_role("region", name="AI replies")
    expect(card).to_contain_text("Humans only")
    card.get_by_role("link", name="AI reply settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AI replies for Main shop")
    expect(page.get_by_role("radio", name="Humans only")).to_be_checked()
    expect(page.get_by_text("No AI calls yet.")).to_be_visible()

    # A bad value: a clear error, and what was typed is still there (the key excepted).
    page.get_by_role("radio", name="AI first, hand-off to a person").check()
    page.get_by_label(NAME).fill("Ava")
    page.get_by_label(AVATAR).fill("javascript:alert(1)")
    page.get_by_label("Add an instruction for the language (code)").fill("de")
    page.get_by_label("Its instruction").fill("Antworte kurz.")
    page.get_by_role("button", name="Save AI settings").click()
    expect(page.get_by_role("alert")).to_contain_text("The avatar must be an https:// URL")
    expect(page.get_by_label(NAME)).to_have_value("Ava")
    expect(page.get_by_role("radio", name="AI first, hand-off to a person")).to_be_checked()
    assert stored(app, source_id)["mode"] == "humans"

    page.get_by_label(AVATAR).fill("https://cdn.example.com/ava.png")
    page.get_by_label("Add an instruction for the language (code)").fill("de")
    page.get_by_label("Its instruction").fill("Antworte kurz.")
    page.get_by_label("Hand off after this many unresolved AI turns").fill("5")
    page.get_by_label("Daily limit").fill("2.5")
    page.get_by_label("Price per million input tokens").fill("0.15")
    page.get_by_label("Price per million output tokens").fill("0.6")
    page.get_by_label("What was said in the conversation").check()
    page.get_by_label("Provider URL").fill("http://127.0.0.1:9/v1")
    page.get_by_label("Model").fill("gpt-test")
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Save AI settings").click()
    expect(page.get_by_role("status").filter(has_text="AI settings saved.")).to_be_visible()
    saved = stored(app, source_id)
    assert saved["mode"] == "ai_first"
    assert saved["assistant_name"] == "Ava"
    assert saved["instructions"] == {"de": "Antworte kurz."}
    assert saved["max_unresolved_turns"] == 5
    assert saved["daily_limit"] == 2.5
    assert saved["use_conversation"] is True
    assert saved["key"] == KEY
    # The key is write-only: marked as stored, never sent back.
    key_field = page.get_by_label("API key")
    expect(key_field).to_have_value("")
    expect(key_field).to_have_attribute("placeholder", "•••••••••••• (stored)")
    assert KEY not in page.content()
    expect(page.get_by_label("Instruction in de")).to_have_value("Antworte kurz.")

    # Saving again with the key field empty keeps the key.
    page.get_by_label(NAME).fill("Ava Bot")
    page.get_by_role("button", name="Save AI settings").click()
    expect(page.get_by_role("status").filter(has_text="AI settings saved.")).to_be_visible()
    assert stored(app, source_id)["key"] == KEY

    # Removing the key asks first (keyboard: Cancel has the focus).
    page.get_by_role("button", name="Remove the stored key").click()
    dialog = page.get_by_role("dialog", name="Are you sure?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Remove key").click()
    expect(page.get_by_role("status").filter(has_text="API key was removed")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_attribute("placeholder", "not set")
    assert stored(app, source_id)["key"] is None

    # Today's spend and the call log.
    record_call(app, source_id)
    page.reload()
    expect(page.locator("#ai-spent")).to_contain_text("0.0002 of 2.5000")
    table = page.get_by_role("table", name="Recent AI calls")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("answered")
    expect(table).to_contain_text("1200 / 80")
    expect(table).to_contain_text("250 ms")

    # The source page shows the mode.
    page.get_by_role("link", name="Main shop").last.click()
    expect(page.get_by_role("region", name="AI replies")).to_contain_text(
        "AI first, hand-off to a person"
    )


def test_the_ai_page_is_for_admins_only_and_needs_the_csrf_token(
    app: Any, live_server: Any, admin_id: str, manager_id: str
) -> None:
    import requests

    source_id, _key = create_source(app, ["shop.example.com"], [], name="Shop")
    base = live_server.url
    manager = requests.Session()
    manager.get(f"{base}/test-login/{manager_id}")
    page = manager.get(f"{base}/chats/settings/sources/{source_id}/ai", allow_redirects=False)
    assert page.status_code == 403
    admin = requests.Session()
    admin.get(f"{base}/test-login/{admin_id}")
    assert admin.get(f"{base}/chats/settings/sources/{source_id}/ai").status_code == 200
    refused = admin.post(f"{base}/chats/settings/sources/{source_id}/ai", data={"mode": "ai_only"})
    assert refused.status_code == 400
    assert stored(app, source_id)["mode"] == "humans"
