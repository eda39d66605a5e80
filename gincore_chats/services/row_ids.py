"""Ids that arrive in requests (paths, query strings, JSON): an id no row can have is simply
not found, not a database error (PostgreSQL refuses to compare a BIGINT with 10**30)."""

from __future__ import annotations

from typing import Any

#: The largest BIGINT: ids, sequence numbers and message ids all fit under it.
MAX_ID = 2**63 - 1


def row_id(value: Any) -> int | None:
    """``value`` as an id a row may have (1 .. MAX_ID), else None. Booleans are not ids."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 19:
            return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number <= MAX_ID else None


def clamp_seq(value: int | None) -> int:
    """A client's "after this sequence number" within what the column can compare."""
    return max(0, min(int(value or 0), MAX_ID))
