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
from .conftest import Kit, answer, run_worker, set_ai

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
