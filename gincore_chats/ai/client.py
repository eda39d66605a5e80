"""An OpenAI-compatible client through the official ``openai`` package.

One client serves OpenAI, Azure OpenAI's v1 endpoint, and self-hosted servers that speak the
same API (Ollama, vLLM, llama.cpp's server, a LiteLLM proxy): only the base URL, the key and
the model names differ.

* :meth:`AIClient.complete_json` asks for structured output (``response_format`` of type
  ``json_schema``, strict) and validates the answer against a pydantic model: whatever does
  not validate is a :class:`ProviderError` of kind ``"malformed"``, never half-parsed data.
* :meth:`AIClient.embed` returns one vector per text.
* Rate limits (429) and server errors (5xx), timeouts and dropped connections are retried with
  exponential back-off, honouring ``Retry-After`` (seconds or an HTTP date) and
  ``retry-after-ms``, but never past the call's deadline: a wait that would end after it
  gives up at once. Other errors (400, 401, 404 ...) are not retried.

The ``openai`` package's own retries are switched off so that this deadline holds.
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class ProviderSettings:
    """Where the provider is and how long a call may take."""

    base_url: str
    api_key: str | None = None
    model: str | None = None
    embedding_model: str | None = None
    #: Seconds one HTTP attempt may take.
    timeout: float = 30.0
    #: Seconds a call may take in all, retries and their waits included.
    deadline: float = 60.0
    max_attempts: int = 4

    @property
    def can_complete(self) -> bool:
        return bool(self.base_url and self.model)

    @property
    def can_embed(self) -> bool:
        return bool(self.base_url and self.embedding_model)


class ProviderError(Exception):
    """A call that did not give a usable answer.

    ``kind``: ``"config"`` (nothing to call), ``"timeout"``, ``"connection"``,
    ``"rate_limited"``, ``"server"`` (5xx), ``"client"`` (another 4xx: key, model, request),
    ``"malformed"`` (an answer that is not what was asked for).
    """

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    data: Any  # the validated pydantic model instance
    model: str
    usage: Usage
    attempts: int
    latency: float


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    model: str
    usage: Usage
    attempts: int
    latency: float


RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as strict structured output wants it: every object closed
    (``additionalProperties: false``) and every property required."""

    def close(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: close(v) for k, v in node.items() if k not in ("title", "default")}
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [close(v) for v in node]
        return node

    return dict(close(model.model_json_schema()))


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait, if it said."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        if when is None:
            return None
        return max(0.0, when.timestamp() - time.time())


def _kind(exc: Exception) -> tuple[str, int | None]:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", None
    if isinstance(exc, openai.APIConnectionError):
        return "connection", None
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited", 429
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return ("server" if status >= 500 else "client"), status
    return "malformed", None


class AIClient:
    """Calls one provider. ``sleep`` and ``clock`` are replaceable for tests of the waits."""

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._openai = openai.OpenAI(
            base_url=settings.base_url,
            # Self-hosted servers often need no key; the package insists on one.
            api_key=settings.api_key or "unused",
            max_retries=0,
            timeout=settings.timeout,
        )

    def _call(self, do: Callable[[float], Any]) -> tuple[Any, int, float]:
        started = self._clock()
        deadline = started + self.settings.deadline
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ProviderError("timeout", "The AI provider did not answer in time.")
            try:
                return do(min(self.settings.timeout, remaining)), attempt, self._clock() - started
            except RETRYABLE as exc:
                kind, status = _kind(exc)
                response = getattr(exc, "response", None)
                wait = retry_after(response.headers if response is not None else None)
                if wait is None:
                    wait = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.75 + random.random() / 2)
                if attempt >= self.settings.max_attempts or self._clock() + wait >= deadline:
                    raise ProviderError(kind, _describe(exc), status) from exc
                self._sleep(wait)
            except openai.APIStatusError as exc:
                kind, status = _kind(exc)
                raise ProviderError(kind, _describe(exc), status) from exc
            except openai.APIError as exc:  # a body the package could not read
                raise ProviderError("malformed", _describe(exc)) from exc
            except ValueError as exc:  # a 200 answer that is not JSON (a proxy's error page)
                raise ProviderError("malformed", f"The AI provider sent no JSON: {exc}") from exc

    def complete_json(
        self,
        messages: Sequence[dict[str, Any]],
        output: type[T],
        *,
        name: str,
        temperature: float = 0.2,
        max_tokens: int | None = 800,
    ) -> Completion:
        """One chat completion whose answer must be a JSON object valid for ``output``."""
        if not self.settings.can_complete:
            raise ProviderError("config", "No AI model is configured.")
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": strict_schema(output)},
        }

        def do(timeout: float) -> Any:
            return self._openai.with_options(timeout=timeout).chat.completions.create(  # type: ignore[call-overload]
                model=str(self.settings.model),
                messages=list(messages),
                response_format=response_format,
                temperature=temperature,
                max_tokens=max_tokens,
            )

        result, attempts, latency = self._call(do)
        choices = getattr(result, "choices", None)
        if not choices:
            raise ProviderError("malformed", "The AI provider sent no choices.")
        choice = choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            raise ProviderError("malformed", f"The model refused: {message.refusal}")
        if choice.finish_reason == "length":
            raise ProviderError("malformed", "The model's answer was cut off (max tokens).")
        try:
            data = output.model_validate_json(message.content or "")
        except (ValidationError, ValueError) as exc:
            raise ProviderError("malformed", f"The model's answer is not valid: {exc}") from exc
        return Completion(
            data=data,
            model=str(getattr(result, "model", None) or self.settings.model),
            usage=_usage(result),
            attempts=attempts,
            latency=latency,
        )

    def embed(self, texts: Sequence[str]) -> Embeddings:
        """One embedding per text, in order."""
        if not self.settings.can_embed:
            raise ProviderError("config", "No embedding model is configured.")
        if not texts:
            return Embeddings([], str(self.settings.embedding_model), Usage(), 0, 0.0)

        def do(timeout: float) -> Any:
            return self._openai.with_options(timeout=timeout).embeddings.create(
                model=str(self.settings.embedding_model),
                input=list(texts),
                encoding_format="float",
            )

        result, attempts, latency = self._call(do)
        rows = sorted(getattr(result, "data", None) or [], key=lambda d: d.index)
        vectors = [list(map(float, row.embedding)) for row in rows]
        if len(vectors) != len(texts) or not all(vectors):
            raise ProviderError("malformed", "The provider sent the wrong number of embeddings.")
        if len({len(v) for v in vectors}) != 1:
            raise ProviderError("malformed", "The provider's embeddings differ in length.")
        return Embeddings(
            vectors=vectors,
            model=str(getattr(result, "model", None) or self.settings.embedding_model),
            usage=_usage(result),
            attempts=attempts,
            latency=latency,
        )


def _usage(result: Any) -> Usage:
    usage = getattr(result, "usage", None)
    if usage is None:
        return Usage()
    return Usage(
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    detail = ""
    if isinstance(body, dict):
        err = body.get("error", body)
        detail = str(err.get("message") if isinstance(err, dict) else err)
    elif body:
        detail = json.dumps(body)[:200]
    base = f"The AI provider answered {status}" if status else "The AI provider failed"
    return f"{base}: {detail or type(exc).__name__}"[:500]


@functools.lru_cache(maxsize=16)
def client_for(settings: ProviderSettings) -> AIClient:
    """One client (and HTTP connection pool) per settings, shared by a process's threads."""
    return AIClient(settings)
