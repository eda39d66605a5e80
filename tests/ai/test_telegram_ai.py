"""The assistant in a messenger: a Telegram customer through the fake Bot API gets the
grounded answer and the hand-off notice as ordinary bot messages (sendMessage)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ..channels.conftest import (  # noqa: F401  (fixtures)
    channels,
    fake_telegram,
    fake_viber,
    make_channel_source,
    receiver,
    stored_credentials,
    webhook_url,
)
from ..channels.fakes import TELEGRAM_TOKEN, telegram_update
from ..channels.payloads import TEXT
from .conftest import Kit, answer, run_worker, set_ai, staff_events
from .fake_openai import Step

DELIVERY_Q = "How long does delivery take?"
DELIVERY_A = "Delivery takes two to three business days."


def update(message_id: int, text: str) -> dict[str, Any]:
    data = copy.deepcopy(TEXT)
    data["update_id"] = 815700100 + message_id
    data["message"]["message_id"] = message_id
    data["message"]["text"] = text
    return data


@pytest.fixture
def telegram(app, channels, live_server, manager_id, kit: Kit):  # noqa: F811
    source_id, key = make_channel_source(
        app, "telegram", {"bot_token": TELEGRAM_TOKEN}, [manager_id], name="Acme bot"
    )
    secret = stored_credentials(app, source_id)["webhook_secret"]
    return source_id, webhook_url(live_server, key), secret


def test_a_telegram_customer_gets_the_answer_then_the_hand_off(
    kit: Kit,
    provider,
    telegram,
    fake_telegram,  # noqa: F811
):
    source_id, url, secret = telegram
    entry = kit.create(DELIVERY_Q, DELIVERY_A)
    set_ai(kit, source_id, mode="ai_first", assistant_name="Ava")
    provider.reply = lambda request: answer([entry], "It takes 2-3 business days.")
    assert telegram_update(url, update(3101, DELIVERY_Q), secret).status_code == 200
    run_worker(kit.app)  # inbound, the reply turn, and the send, in one burst
    [sent] = fake_telegram.calls("sendMessage")
    assert sent.params["text"] == "It takes 2-3 business days."
    assert sent.params["chat_id"] == 987654321

    assert telegram_update(url, update(3102, "Can I talk to a human?"), secret).status_code == 200
    run_worker(kit.app)
    _answer, notice = fake_telegram.calls("sendMessage")
    assert notice.params["text"] == "Leave a message and we will reply during business hours."
    assert len(provider.calls("chat")) == 1  # the request for a person needed no model

    # People have it now: the next message waits for them.
    assert telegram_update(url, update(3103, DELIVERY_Q), secret).status_code == 200
    run_worker(kit.app)
    assert len(fake_telegram.calls("sendMessage")) == 2


def _conversation(kit: Kit) -> int:
    """The Telegram customer's conversation, as the manager's console lists it."""
    [row] = kit.manager.api("GET", "/conversations").json()["conversations"]
    return int(row["id"])


def _bodies(kit: Kit, conv_id: int) -> list[str]:
    """Every message body of the conversation, from the manager's event log (nothing lost)."""
    events = staff_events(kit, conv_id)
    return [e["data"]["message"]["body"] for e in events if e["event"] == "message.created"]


def test_a_telegram_customer_is_handed_to_people_when_the_provider_is_down(
    kit: Kit,
    provider,
    telegram,
    fake_telegram,  # noqa: F811
):
    source_id, url, secret = telegram
    kit.create(DELIVERY_Q, DELIVERY_A)
    set_ai(kit, source_id, mode="ai_first", assistant_name="Ava")
    provider.script("chat", *[Step(status=500)] * 20)
    assert telegram_update(url, update(3201, DELIVERY_Q), secret).status_code == 200
    run_worker(kit.app)
    [notice] = fake_telegram.calls("sendMessage")
    assert notice.params["text"] == "Leave a message and we will reply during business hours."
    assert provider.calls("chat")  # it did try the provider
    conv_id = _conversation(kit)
    assert DELIVERY_Q in _bodies(kit, conv_id)  # the customer's question waits for people

    assert telegram_update(url, update(3202, "Hello?"), secret).status_code == 200
    run_worker(kit.app)
    assert len(fake_telegram.calls("sendMessage")) == 1  # handed off: the AI stays silent
    assert "Hello?" in _bodies(kit, conv_id)


def test_a_manager_who_joins_a_telegram_chat_silences_the_assistant(
    kit: Kit,
    provider,
    telegram,
    fake_telegram,  # noqa: F811
):
    source_id, url, secret = telegram
    entry = kit.create(DELIVERY_Q, DELIVERY_A)
    set_ai(kit, source_id, mode="ai_first", assistant_name="Ava")
    provider.reply = lambda request: answer([entry], "It takes 2-3 business days.")
    assert telegram_update(url, update(3301, DELIVERY_Q), secret).status_code == 200
    run_worker(kit.app)
    [sent] = fake_telegram.calls("sendMessage")  # the assistant answered
    assert sent.params["text"] == "It takes 2-3 business days."
    conv_id = _conversation(kit)
    assert kit.manager.api("POST", f"/conversations/{conv_id}/join").ok
    question = "And to Lviv? " + DELIVERY_Q
    assert telegram_update(url, update(3302, question), secret).status_code == 200
    run_worker(kit.app)
    assert len(fake_telegram.calls("sendMessage")) == 1  # no second assistant answer
    assert len(provider.calls("chat")) == 1  # nor a model call for it
    assert question in _bodies(kit, conv_id)
