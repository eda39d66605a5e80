"""Extraction with a provider (the local fake OpenAI server): pairs are rewritten through
structured output after the personal-data scrub, and any provider error falls back to the
extractive pair."""

from __future__ import annotations

import json

from ..ai.fake_openai import Step
from .conftest import Kit, run_worker


def test_the_provider_rewrites_scrubbed_pairs(kit: Kit, provider):
    provider.reply = lambda request: {
        "reusable": True,
        "question": "How long does delivery to Lviv take?",
        "answer": "Delivery to Lviv takes one to two business days.",
    }
    kit.conversation(
        [("c", "Hi, I'm Olena, how long will my order 784512 take to Lviv? +380 67 123 45 67"),
         ("m", "Hello Olena! Delivery to Lviv takes one or two business days.")],
        name="Olena",
    )  # fmt: skip
    run_worker(kit.app)
    found = kit.export()
    assert [e["question"] for e in found] == ["How long does delivery to Lviv take?"]
    assert found[0]["answer"] == "Delivery to Lviv takes one to two business days."
    sent = json.dumps([c["body"] for c in provider.calls("chat")], ensure_ascii=False)
    assert provider.calls("chat") and "Olena" not in sent and "784512" not in sent
    assert "123 45 67" not in sent and "[number]" in sent
    schema = provider.calls("chat")[0]["body"]["response_format"]["json_schema"]
    assert schema["strict"] is True and set(schema["schema"]["required"]) == {
        "reusable", "question", "answer",
    }  # fmt: skip
    assert provider.calls("embeddings")  # the question was embedded for duplicate detection


def test_a_pair_the_provider_calls_personal_is_dropped(kit: Kit, provider):
    provider.reply = lambda request: {"reusable": False, "question": "", "answer": ""}
    kit.conversation([("c", "Where is my parcel?"), ("m", "Your parcel left the warehouse today.")])
    run_worker(kit.app)
    assert kit.export() == []


def test_provider_errors_fall_back_to_the_extractive_pair(kit: Kit, provider):
    provider.script("chat", *[Step(status=500)] * 6)
    kit.conversation(
        [("c", "Do you ship to Poland?"), ("m", "Yes, we ship to Poland within five days.")]
    )
    run_worker(kit.app)
    found = kit.export()
    assert [e["question"] for e in found] == ["Do you ship to Poland?"]
    assert found[0]["answer"] == "Yes, we ship to Poland within five days."


def test_a_malformed_rewrite_falls_back_too(kit: Kit, provider):
    provider.script("chat", Step(content='{"question": 42}'))
    kit.conversation([("c", "Can I pay by PayPal?"), ("m", "Yes, PayPal is accepted at checkout.")])
    run_worker(kit.app)
    assert [e["question"] for e in kit.export()] == ["Can I pay by PayPal?"]
