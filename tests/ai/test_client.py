"""The provider client against the local fake OpenAI server: structured output, embeddings,
retries within a deadline, and errors that are reported, never half-parsed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from gincore_chats.ai import AIClient, ProviderError, ProviderSettings

from .fake_openai import KEY, FakeOpenAI, Step


class Answer(BaseModel):
    question: str
    reusable: bool


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def provider(fake: FakeOpenAI) -> ProviderSettings:
    fake.reset()
    return ProviderSettings(
        base_url=fake.url, api_key=KEY, model="gpt-test", embedding_model="emb-test",
        timeout=2.0, deadline=6.0,
    )  # fmt: skip


def ask(client: AIClient) -> object:
    return client.complete_json([{"role": "user", "content": "hi"}], Answer, name="answer")


def test_structured_output_is_sent_as_strict_json_schema_and_validated(fake, provider):
    fake.script("chat", Step(content={"question": "How long is delivery?", "reusable": True}))
    done = AIClient(provider).complete_json(
        [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], Answer, name="faq"
    )
    assert done.data == Answer(question="How long is delivery?", reusable=True)
    assert done.attempts == 1 and done.usage.completion_tokens > 0
    sent = fake.calls("chat")[0]
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"
    fmt = sent["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "faq"
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["question", "reusable"]


@pytest.mark.parametrize(
    "content",
    ['{"question": "x"}', "not json at all", '{"question": 1, "reusable": "maybe"}', ""],
    ids=["missing-field", "not-json", "wrong-types", "empty"],
)
def test_an_answer_that_does_not_validate_is_malformed(fake, provider, content):
    fake.script("chat", Step(content=content))
    with pytest.raises(ProviderError) as err:
        ask(AIClient(provider))
    assert err.value.kind == "malformed"


def test_a_body_that_is_not_a_completion_is_malformed(fake, provider):
    fake.script("chat", Step(body="<html>proxy error</html>"))
    with pytest.raises(ProviderError) as err:
        ask(AIClient(provider))
    assert err.value.kind == "malformed"


def test_429_waits_for_retry_after_then_succeeds(fake, provider):
    waits: list[float] = []
    fake.script(
        "chat",
        Step(status=429, headers={"retry-after": "1.5"}),
        Step(content={"question": "q", "reusable": False}),
    )
    done = AIClient(provider, sleep=waits.append).complete_json(
        [{"role": "user", "content": "hi"}], Answer, name="a"
    )
    assert waits == [1.5] and done.attempts == 2
    assert len(fake.calls("chat")) == 2


def test_retry_after_ms_and_500_are_retried(fake, provider):
    waits: list[float] = []
    fake.script(
        "chat",
        Step(status=500),
        Step(status=503, headers={"retry-after-ms": "250"}),
        Step(content={"question": "q", "reusable": True}),
    )
    done = AIClient(provider, sleep=waits.append).complete_json(
        [{"role": "user", "content": "hi"}], Answer, name="a"
    )
    assert done.attempts == 3 and waits[1] == 0.25 and 0 < waits[0] <= 1.0


def test_a_retry_after_past_the_deadline_gives_up_at_once(fake, provider):
    waits: list[float] = []
    fake.script("chat", Step(status=429, headers={"retry-after": "30"}))
    with pytest.raises(ProviderError) as err:
        AIClient(provider, sleep=waits.append).complete_json(
            [{"role": "user", "content": "hi"}], Answer, name="a"
        )
    assert err.value.kind == "rate_limited" and err.value.status == 429
    assert waits == [] and len(fake.calls("chat")) == 1


def test_client_errors_are_not_retried(fake, provider):
    bad = ProviderSettings(**{**provider.__dict__, "api_key": "wrong"})
    with pytest.raises(ProviderError) as err:
        ask(AIClient(bad, sleep=lambda s: None))
    assert err.value.kind == "client" and err.value.status == 401
    assert "Incorrect API key" in str(err.value)
    assert len(fake.calls("chat")) == 1


def test_a_slow_provider_times_out_within_the_deadline(fake, provider):
    slow = ProviderSettings(**{**provider.__dict__, "timeout": 0.5, "deadline": 1.2})
    fake.script("chat", *[Step(delay=2.0, content={"question": "q", "reusable": True})] * 4)
    started = time.monotonic()
    with pytest.raises(ProviderError) as err:
        ask(AIClient(slow))
    assert err.value.kind == "timeout"
    assert time.monotonic() - started < 3.0


def test_embeddings_come_back_in_order(fake, provider):
    fake.vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0]}
    done = AIClient(provider).embed(["b", "a"])
    assert done.vectors == [[0.0, 1.0], [1.0, 0.0]]
    assert fake.calls("embeddings")[0]["body"]["input"] == ["b", "a"]


def test_nothing_configured_is_a_config_error():
    client = AIClient(ProviderSettings(base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(ProviderError) as err:
        client.embed(["x"])
    assert err.value.kind == "config"
