"""Ratings on messenger platforms: Telegram's inline keyboard, the numbered prompt elsewhere."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from ..conftest import Console
from .conftest import make_channel_source, run_worker, stored_credentials, webhook_url
from .fakes import TELEGRAM_TOKEN, telegram_update
from .payloads import TEXT


def update(message_id: int, text: str) -> dict[str, Any]:
    data = copy.deepcopy(TEXT)
    data["update_id"] = 815700000 + message_id
    data["message"]["message_id"] = message_id
    data["message"]["text"] = text
    return data


def button_press(update_id: int, data: str, prompt_message_id: int) -> dict[str, Any]:
    """A ``callback_query`` Update as the Bot API sends it for an inline-keyboard button."""
    user = TEXT["message"]["from"]
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"4382bfdwdsb323b2d{update_id}",
            "from": user,
            "message": {
                "message_id": prompt_message_id,
                "from": {"id": 5550001, "is_bot": True, "first_name": "Acme Support"},
                "chat": TEXT["message"]["chat"],
                "date": 1700000100,
                "text": "How would you rate this chat?",
            },
            "chat_instance": "-8412231234567",
            "data": data,
        },
    }


@pytest.fixture
def telegram(app, channels, live_server, manager_id):
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]
    return source_id, webhook_url(live_server, key), secret


def only_conversation(console: Console) -> dict[str, Any]:
    rows = console.api("GET", "/conversations?filter=all").json()["conversations"]
    rows += console.api("GET", "/conversations?filter=closed").json()["conversations"]
    assert len(rows) == 1, rows
    return console.api("GET", f"/conversations/{rows[0]['id']}").json()


def close(console: Console, conv_id: int) -> None:
    r = console.api("POST", f"/conversations/{conv_id}/status", {"status": "closed"})
    assert r.status_code == 200, r.text


def test_telegram_rating_by_inline_keyboard(app, telegram, fake_telegram, live_server, manager_id):
    _, url, secret = telegram
    assert telegram_update(url, update(1, "Hello"), secret).status_code == 200
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = only_conversation(console)["conversation"]["id"]
    close(console, conv_id)
    run_worker(app)
    [prompt] = fake_telegram.calls("sendMessage")
    assert prompt.params["text"] == "How would you rate this chat?"
    keyboard = prompt.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in keyboard[0]] == [f"rate:{n}" for n in range(1, 6)]

    # A forged value is not a score; the button is still answered.
    assert telegram_update(url, button_press(900, "rate:9", 5000), secret).status_code == 200
    run_worker(app)
    assert only_conversation(console)["rating"]["pending"] is True
    assert telegram_update(url, button_press(901, "rate:5", 5000), secret).status_code == 200
    run_worker(app)
    detail = only_conversation(console)
    assert detail["rating"]["score"] == 5 and detail["rating"]["channel"] == "telegram"
    assert detail["conversation"]["status"] == "closed"  # a button press does not reopen
    answers = fake_telegram.calls("answerCallbackQuery")
    assert [a.params["callback_query_id"] for a in answers] == [
        "4382bfdwdsb323b2d900",
        "4382bfdwdsb323b2d901",
    ]
    assert answers[0].params["text"] == "This rating is no longer open."
    assert answers[1].params["text"] == "Thank you for your rating!"
    # Pressed again after rating: not pending any more, the score stays.
    assert telegram_update(url, button_press(902, "rate:1", 5000), secret).status_code == 200
    run_worker(app)
    assert only_conversation(console)["rating"]["score"] == 5


def test_telegram_text_reply_reopens_and_drops_the_request(
    app, telegram, fake_telegram, live_server, manager_id
):
    _, url, secret = telegram
    assert telegram_update(url, update(1, "Hello"), secret).status_code == 200
    run_worker(app)
    console = Console(live_server, manager_id)
    conv_id = only_conversation(console)["conversation"]["id"]
    assert console.api("POST", f"/conversations/{conv_id}/join").status_code == 200
    body = {"body": "Hi Anna", "client_id": str(uuid.uuid4())}
    assert console.api("POST", f"/conversations/{conv_id}/messages", body).status_code == 201
    close(console, conv_id)
    run_worker(app)
    # On Telegram a "5" typed as text is a message (the buttons are the way to rate).
    assert telegram_update(url, update(2, "5"), secret).status_code == 200
    run_worker(app)
    detail = only_conversation(console)
    assert detail["conversation"]["status"] == "open" and detail["rating"] is None
    assert [m["system_code"] for m in detail["messages"] if m["kind"] == "system"][-1] == (
        "reopened"
    )
