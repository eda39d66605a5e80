"""Opaque keyset cursors: the last row's sort key, tagged with the list it belongs to."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from .problems import ApiProblem


def encode(kind: str, *key: Any) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps([kind, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> ApiProblem:
    return ApiProblem(
        400,
        "bad-cursor",
        "Invalid cursor",
        "The cursor is not one this list gave out; start again without it.",
    )


def decode(kind: str, cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The key a cursor of list ``kind`` carries, checked against ``types`` (int, datetime)."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, *values = json.loads(raw)
        if tag != kind or len(values) != len(types):
            raise ValueError(tag)
        key: list[Any] = []
        for value, wanted in zip(values, types, strict=True):
            if wanted is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError(value)
                key.append(parsed)
            elif wanted is int and type(value) is int and 0 <= value < 2**63:
                key.append(value)
            else:
                raise ValueError(value)
        return tuple(key)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise bad_cursor() from None


def page(rows: list[Any], limit: int, key: Any, kind: str) -> tuple[list[Any], str | None]:
    """The page (``rows`` holds one more than ``limit`` when there is a next one)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode(kind, *key(rows[-1])) if more and rows else None)
