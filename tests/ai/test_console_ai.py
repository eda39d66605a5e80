"""The console's AI surface over HTTP: the ``ai`` field of list rows and of a conversation,
"hand back" (refused for humans-only sources), the AI draft refused without a provider, and a
hand-back after a hand-off answers only what the customer asks next."""

from __future__ import annotations

import dataclasses

import pytest

from .conftest import Kit, answer, messages, open_chat, run_worker, set_ai

DELIVERY_Q = "How long does delivery take?"
DELIVERY_A = "Delivery takes two to three business days."


def row_ai(kit: Kit, conv_id: int):
    rows = kit.manager.api("GET", "/conversations").json()["conversations"]
    return next(r for r in rows if r["id"] == conv_id)["ai"]


def test_rows_carry_the_ai_state_and_hand_back_answers_the_next_question(kit: Kit, provider):
    entry = kit.create(DELIVERY_Q, DELIVERY_A)
    visitor, conv_id = open_chat(kit)
    visitor.send("Hello")  # listed from the first message on
    assert row_ai(kit, conv_id) is None  # humans only: no assistant
    refused = kit.manager.api("POST", f"/conversations/{conv_id}/ai/hand-back")
    assert refused.status_code == 400 and "humans only" in refused.json()["error"]

    set_ai(kit, mode="ai_first")
    provider.reply = lambda request: answer([entry], DELIVERY_A)
    assert row_ai(kit, conv_id) == {
        "mode": "ai_first", "status": "active", "reason": None, "unresolved_turns": 0,
    }  # fmt: skip
    visitor.send("I want to talk to a human")
    run_worker(kit.app)
    assert row_ai(kit, conv_id)["status"] == "handed_off"
    detail = kit.manager.api("GET", f"/conversations/{conv_id}").json()
    assert detail["conversation"]["ai"]["reason"] == "customer_asked"

    back = kit.manager.api("POST", f"/conversations/{conv_id}/ai/hand-back")
    assert back.status_code == 200 and back.json()["ai"]["status"] == "active"
    visitor.send(DELIVERY_Q)
    run_worker(kit.app)
    said = messages(visitor)
    assert said[-1]["kind"] == "assistant" and said[-1]["body"] == DELIVERY_A
    assert row_ai(kit, conv_id)["status"] == "active"


def test_an_ai_draft_needs_a_provider_and_the_reply_permission(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
):
    state = kit.state
    monkeypatch.setattr(state, "config", dataclasses.replace(state.config, ai_base_url=None))
    visitor, conv_id = open_chat(kit)
    visitor.send(DELIVERY_Q)
    refused = kit.manager.api("POST", f"/conversations/{conv_id}/ai/draft")
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "AI drafts need an AI provider; none is configured (see CHATS_AI_BASE_URL)."
    )
    no_csrf = kit.manager.http.post(
        f"{kit.server.url}/chats/console/api/conversations/{conv_id}/ai/draft"
    )
    assert no_csrf.status_code == 400
