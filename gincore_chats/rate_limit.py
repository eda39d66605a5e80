"""Fixed-window rate limits in Redis, shared by every process (widget abuse protection)."""

from __future__ import annotations

import time

from .limits import Limit, parse
from .state import ChatsState

__all__ = ["Limit", "RateLimited", "hit", "parse", "refund"]


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def refund(state: ChatsState, bucket: str, who: str, limit: Limit) -> None:
    """Give back one action counted by :func:`hit` in the current window."""
    window = int(time.time() // limit.seconds)
    key = state.key("rl", bucket, who, window)
    # Only a key hit() made (and so set to expire): DECR would create one that never expires.
    state.redis.eval(
        "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end",
        1,
        key,
    )
