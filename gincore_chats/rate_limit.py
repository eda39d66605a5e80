"""Fixed-window rate limits in Redis, shared by every process (widget abuse protection)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import ChatsState


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def hit(state: ChatsState, bucket: str, who: str, limit: Limit, message: str) -> None:
    """Count one action; raise RateLimited when the window's budget is spent."""
    window = int(time.time() // limit.seconds)
    key = state.key("rl", bucket, who, window)
    pipe = state.redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.seconds + 1)
    count, _ = pipe.execute()
    if int(count) > limit.count:
        retry = limit.seconds - int(time.time()) % limit.seconds
        raise RateLimited(message, retry)
