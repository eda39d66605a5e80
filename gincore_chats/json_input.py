"""Untrusted JSON and text: decoded with a depth limit, strings made storable.

Python's decoder recurses once per nesting level, so ~2 KB of ``[[[[...`` raises
``RecursionError`` (not ``ValueError``) and escaped as a 500; here it is an input error, and
anything nested deeper than :data:`MAX_DEPTH` (real payloads of every platform stay under 10)
is refused before a service walks it.

PostgreSQL refuses two things JSON can carry: the NUL character (``\\u0000``, in ``TEXT`` and in
``JSONB``) and unpaired UTF-16 surrogates (``"\\ud83d"`` alone, e.g. from a JavaScript string
cut in the middle of an emoji), which cannot be encoded as UTF-8. :func:`storable` drops the
former and replaces the latter with U+FFFD, so such a message is kept rather than lost.

No Flask and no models: the widget API, the webhooks and the WebSocket ops all use this.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, TypeVar

#: Deepest nesting accepted (objects and arrays).
MAX_DEPTH = 64

T = TypeVar("T")


class JsonInputError(ValueError):
    """The input is not usable JSON; ``status`` is the HTTP answer, ``code`` names the case."""

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def storable_text(value: str) -> str:
    """``value`` without NUL characters and with unpaired surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Paired surrogates become their character, lone ones the replacement character.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def storable(value: T) -> T:
    """A copy of ``value`` (JSON data, tuples, frozen dataclasses) with storable strings."""
    if isinstance(value, str):
        return storable_text(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(storable(v) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: storable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    return value


def depth(value: Any) -> int:
    """How deeply objects and arrays nest in decoded JSON (a scalar is 0). No recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest


def decode(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decoded JSON with storable strings; :class:`JsonInputError` for anything else."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonInputError("The body is not UTF-8 text.", code="not_utf8") from None
    if not text.strip():
        raise JsonInputError("The body is empty; send a JSON object.", code="empty")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise JsonInputError(too_deep(max_depth), code="too_deep") from None
    except ValueError as exc:
        raise JsonInputError(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if depth(data) > max_depth:
        raise JsonInputError(too_deep(max_depth), code="too_deep")
    return storable(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(literal: str) -> float:
    # "1e999" would be infinity: JSONB refuses it and int() of it raises OverflowError.
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:20]} is out of range")
    return value


def too_deep(max_depth: int) -> str:
    return f"The JSON nests deeper than {max_depth} levels."
