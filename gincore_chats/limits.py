"""Rate limit figures as configured (``"10/hour"``); counting them is :mod:`.rate_limit`'s job.

Apart from the counter so that the configuration can read limits without importing the app
state (which itself holds the configuration).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse(spec: str) -> Limit:
    """``"10/hour"``, ``"30/minute"``, ``"5/10s"`` (count per window)."""
    count, _, window = spec.partition("/")
    units = {
        "s": 1,
        "second": 1,
        "minute": 60,
        "min": 60,
        "m": 60,
        "hour": 3600,
        "h": 3600,
        "day": 86400,
    }
    window = window.strip().lower()
    digits = "".join(ch for ch in window if ch.isdigit())
    unit = window[len(digits) :] or "s"
    if unit not in units or not count.strip().isdigit():
        raise ValueError(f"Bad rate limit {spec!r}; use forms like '10/hour' or '5/10s'.")
    return Limit(int(count), int(digits or 1) * units[unit])
