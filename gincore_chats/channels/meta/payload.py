"""Defensive readers for webhook JSON.

Meta adds fields without notice and a batch can hold up to 1000 updates, so one odd item must
never cost us the others: every reader here returns an empty value instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

T = TypeVar("T")


def load_body(raw_body: bytes) -> dict[str, Any]:
    """Decode the webhook body; a body that is not a JSON object is a broken delivery."""
    data = json.loads(raw_body)
    if not isinstance(data, dict):
        raise ValueError("webhook body is not a JSON object")
    return data


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def sort_into(
    items: Any,
    read: Callable[[dict[str, Any]], T | str],
    kept: list[T],
    others: list[str],
) -> None:
    """``read`` each item of a webhook list; what it cannot use comes back as a reason (or a
    text for the console), which goes to ``others`` so the rest of the batch still counts."""
    for raw in as_list(items):
        item = read(as_dict(raw))
        if isinstance(item, str):
            others.append(item)
        else:
            kept.append(item)


def as_str(value: Any) -> str | None:
    """Ids are strings; a number (from a fake server or an old payload) becomes its digits."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (str, int)):
        text = str(value)
        return text or None
    return None


def from_unix(value: Any, *, millis: bool = False) -> datetime | None:
    """WhatsApp sends seconds as a string; Messenger/Instagram send milliseconds as a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if millis:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def location_text(
    latitude: Any, longitude: Any, name: str | None = None, address: str | None = None
) -> str:
    """A readable location with a maps link, since a chat console shows text, not a map."""
    lines = [", ".join(p for p in (name, address) if p)] if (name or address) else []
    lines.append(f"Location: {latitude}, {longitude}")
    query = quote(f"{latitude},{longitude}", safe=",")
    lines.append(f"https://www.google.com/maps/search/?api=1&query={query}")
    return "\n".join(lines)


def unsupported_text(platform: str, what: str | None) -> str:
    kind = f" ({what})" if what else ""
    return f"The customer sent a {platform} message type{kind} that cannot be shown here."
