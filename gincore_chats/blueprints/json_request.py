"""The one reader of request bodies for every JSON endpoint (widget API, console API, webhooks).

Whatever a client sends, the answer is a JSON error with a status that says what to fix, never
a 500: 413 for a body over the limit (read no further than the limit), 415 for a declared
content type that is not JSON, 400 for a body that is not UTF-8 JSON, nests too deeply
(:data:`~gincore_chats.json_input.MAX_DEPTH`) or is not an object. Strings come back storable
(see :mod:`gincore_chats.json_input`).
"""

from __future__ import annotations

from typing import Any

from flask import request

from ..json_input import JsonInputError, decode

#: Content types read as JSON (RFC 8259's, its structured-syntax suffix, and an old alias).
JSON_TYPES = ("application/json", "text/json")


def is_json_type(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")


def read_raw(limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes; JsonInputError (413) for more."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def too_large(limit: int) -> JsonInputError:
    return JsonInputError(
        f"The request body is too large (at most {limit} bytes).", code="too_large", status=413
    )


def check_content_type(*, required: bool) -> None:
    """415 for a declared non-JSON type; a missing one only when ``required``."""
    mimetype = request.mimetype
    if not mimetype and not required:
        return
    if not is_json_type(mimetype):
        raise JsonInputError(
            "Send the body as JSON with Content-Type: application/json.",
            code="unsupported_media_type",
            status=415,
        )


def object_from(raw: bytes) -> dict[str, Any]:
    """Decode ``raw`` and insist on a JSON object at the top."""
    data = decode(raw)
    if not isinstance(data, dict):
        raise JsonInputError(
            f"The body must be a JSON object, not {type_name(data)}.", code="not_an_object"
        )
    return data


def type_name(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def read_object(limit: int, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object. ``optional``: an empty body is ``{}`` (no type needed)."""
    if not optional:
        check_content_type(required=True)  # before reading a byte of a body we would refuse
    raw = read_raw(limit)
    if optional:
        if not raw.strip():
            return {}
        check_content_type(required=True)
    return object_from(raw)
