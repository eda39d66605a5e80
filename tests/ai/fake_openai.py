"""A local server speaking the OpenAI wire format, driven by the tests.

``POST /v1/chat/completions`` and ``POST /v1/embeddings`` answer as the real API does: bearer
authentication, request validation (a ``response_format`` of type ``json_schema`` must carry a
name and a schema), ``chat.completion`` and ``list`` bodies with usage. A test queues what the
next calls get (:meth:`FakeOpenAI.script`): a JSON object for the model to "say", an HTTP error
(429 with ``retry-after``, 500), a delay longer than the client's timeout, or a malformed body.
Without a script, completions answer with :attr:`FakeOpenAI.reply` (a function of the request)
and embeddings with :attr:`FakeOpenAI.vectors` or a deterministic bag-of-trigrams vector.
Every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY = "sk-test-key"
DIM = 64


@dataclass
class Step:
    """What one call gets: ``status`` and ``body`` (dict or raw str), extra ``headers``, and a
    ``delay`` in seconds before answering."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: Any = None  # for completions: the object the model "says"


def trigram_vector(text: str) -> list[float]:
    vec = [0.0] * DIM
    value = f"  {text.lower()} "
    for i in range(len(value) - 2):
        h = int(hashlib.md5(value[i : i + 3].encode()).hexdigest(), 16)
        vec[h % DIM] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def error_body(status: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.steps: dict[str, list[Step]] = {"chat": [], "embeddings": []}
        self.reply: Callable[[dict[str, Any]], Any] = lambda request: {"ok": True}
        self.vectors: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except json.JSONDecodeError:
                    body = None
                with fake.lock:
                    fake.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                status, payload, headers = fake.handle(self.path, self.headers, body)
                data = (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- driving ----------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.steps = {"chat": [], "embeddings": []}
            self.vectors = {}
        self.reply = lambda request: {"ok": True}

    def script(self, endpoint: str, *steps: Step) -> None:
        with self.lock:
            self.steps[endpoint].extend(steps)

    def calls(self, endpoint: str) -> list[dict[str, Any]]:
        suffix = "/chat/completions" if endpoint == "chat" else "/embeddings"
        return [r for r in self.requests if r["path"].endswith(suffix)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API ----------------------------------------------------------------------------

    def handle(self, path: str, headers: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
        if headers.get("Authorization") != f"Bearer {KEY}":
            return 401, error_body(401, "Incorrect API key provided.", "invalid_request_error"), {}
        if path == "/v1/chat/completions":
            endpoint = "chat"
        elif path == "/v1/embeddings":
            endpoint = "embeddings"
        else:
            return 404, error_body(404, f"Unknown path {path}", "invalid_request_error"), {}
        if not isinstance(body, dict) or not body.get("model"):
            return (
                400,
                error_body(400, "you must provide a model parameter", "invalid_request_error"),
                {},
            )
        with self.lock:
            step = self.steps[endpoint].pop(0) if self.steps[endpoint] else None
        if step is not None and step.delay:
            time.sleep(step.delay)
        if step is not None and (step.status != 200 or step.body is not None):
            return (
                step.status,
                step.body
                if step.body is not None
                else error_body(step.status, "scripted error", "server_error"),
                step.headers,
            )
        if endpoint == "chat":
            problem = self._check_chat(body)
            if problem:
                return 400, error_body(400, problem, "invalid_request_error"), {}
            content = (
                step.content if step is not None and step.content is not None else self.reply(body)
            )
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            return 200, self._completion(body, text), {}
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            return (
                400,
                error_body(
                    400, "input must be a string or array of strings", "invalid_request_error"
                ),
                {},
            )
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": self.vectors.get(t) or trigram_vector(t),
            }
            for i, t in enumerate(inputs)
        ]
        tokens = sum(len(t.split()) for t in inputs)
        return (
            200,
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            {},
        )

    @staticmethod
    def _check_chat(body: dict[str, Any]) -> str | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages must be a non-empty array"
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in (
                "system",
                "user",
                "assistant",
                "developer",
                "tool",
            ):
                return "each message needs a valid role"
        fmt = body.get("response_format")
        if fmt is not None:
            if fmt.get("type") != "json_schema":
                return "response_format.type must be json_schema here"
            schema = fmt.get("json_schema") or {}
            if not schema.get("name") or not isinstance(schema.get("schema"), dict):
                return "json_schema needs a name and a schema"
            if schema.get("strict") and schema["schema"].get("additionalProperties") is not False:
                return "strict schemas must set additionalProperties to false"
        return None

    @staticmethod
    def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": len(text.split()),
                "total_tokens": prompt + len(text.split()),
            },
        }
