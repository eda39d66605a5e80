"""``Idempotency-Key`` on every POST: a retry returns the first answer and changes nothing.

The first request with a key (per token) takes a lock in Redis, runs, and its answer is kept for
``CHATS_API_IDEMPOTENCY_TTL`` seconds. A retry with the same key and the same request gets that
answer again (``Idempotent-Replayed: true``); the same key with a different request is a 422; a
retry while the first is still running is a 409. Answers of 5xx and 429 are not kept: the
client should retry those for real.

Messages have a second guard in the database: a send without a ``client_id`` takes one derived
from the key, so even if Redis lost the record the retry finds the stored message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from flask import Response, g, request

from ...state import ChatsState, get_state
from .guard import FORM_TYPES, current_token_id
from .problems import ApiProblem

HEADER = "Idempotency-Key"
#: How long a first request may run before a retry may take over its key.
LOCK_SECONDS = 60
_KEPT_HEADERS = ("Content-Type", "Location")
#: What the document allows (spec.IdempotencyHeaders): printable ASCII (tabs as HTTP allows).
KEY_RE = re.compile(r"[\t -~]{1,255}")


def _fingerprint() -> str:
    """The request a key stands for: method, path, query, and the body as the API reads it
    (parsed JSON, or form fields and file contents: a multipart boundary differs per retry)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    if request.mimetype in FORM_TYPES:
        for name in sorted(request.form):
            for value in request.form.getlist(name):
                digest.update(f"f:{name}={value}\n".encode("utf-8", "surrogatepass"))
        for name in sorted(request.files):
            for file in request.files.getlist(name):
                content = hashlib.sha256(file.stream.read()).hexdigest()
                file.stream.seek(0)
                digest.update(f"file:{name}:{file.filename}:{content}\n".encode())
    else:
        body = request.get_json(silent=True)
        digest.update(json.dumps(body, sort_keys=True, ensure_ascii=True).encode())
    return digest.hexdigest()


def _key(state: ChatsState, key: str) -> str:
    return state.key("idem", current_token_id(), hashlib.sha256(key.encode()).hexdigest())


def derived_client_id(key: str) -> str:
    """A message client id for a send without one: the same for every retry of the request."""
    return "idem-" + hashlib.sha256(f"{current_token_id()}:{key}".encode()).hexdigest()[:40]


def current_key() -> str | None:
    return getattr(g, "gincore_idempotency_key", None)


def before() -> Response | None:
    """Replay a finished request, refuse a conflicting one, or take the key for this one."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not KEY_RE.fullmatch(key):
        raise ApiProblem(
            422,
            "validation",
            "Invalid request",
            "Idempotency-Key must be 1-255 printable ASCII characters (a UUID).",
            errors=[{"loc": ["header", HEADER], "msg": "invalid key", "type": "value_error"}],
        )
    state = get_state()
    redis_key = _key(state, key)
    fingerprint = _fingerprint()
    record = json.dumps({"fp": fingerprint, "done": False})
    if state.redis.set(redis_key, record, nx=True, ex=LOCK_SECONDS):
        g.gincore_idempotency_key = key
        g.gincore_idempotency_redis_key = redis_key
        g.gincore_idempotency_fp = fingerprint
        return None
    stored = state.redis.get(redis_key)
    if stored is None:  # expired in between: take it
        return before()
    data = json.loads(stored)
    if data["fp"] != fingerprint:
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "This Idempotency-Key was used for a different request; use a new key.",
        )
    if not data["done"]:
        raise ApiProblem(
            409,
            "idempotency-in-progress",
            "Request in progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
            retry_after=1,
        )
    response = Response(base64.b64decode(data["body"]), status=data["status"])
    for name, value in data["headers"].items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def after(response: Response) -> Response:
    """Keep the answer for retries (or free the key when retrying could succeed)."""
    redis_key = getattr(g, "gincore_idempotency_redis_key", None)
    if redis_key is None:
        return response
    g.gincore_idempotency_redis_key = None
    state = get_state()
    if response.status_code >= 500 or response.status_code in (409, 429):
        state.redis.delete(redis_key)
        return response
    record: dict[str, Any] = {
        "fp": g.gincore_idempotency_fp,
        "done": True,
        "status": response.status_code,
        "body": base64.b64encode(response.get_data()).decode(),
        "headers": {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS},
    }
    state.redis.set(redis_key, json.dumps(record), ex=state.config.api_idempotency_ttl)
    return response


def release(_exc: BaseException | None) -> None:
    """A request that ended without an answer (an exception past every handler) frees its key."""
    redis_key = getattr(g, "gincore_idempotency_redis_key", None)
    if redis_key is not None:
        get_state().redis.delete(redis_key)
