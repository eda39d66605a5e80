"""Settings read on every message, from the per-process cache (:mod:`..realtime.cache`).

A reader asks :func:`cached` with a key naming the row (``("ai_mode", source_id)``); every
service that writes such a row calls :func:`changed` with the same key in its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rq import get_current_job

from ..state import ChatsState
from .unit_of_work import after_commit, on_rollback

T = TypeVar("T")


def cached(state: ChatsState, key: tuple[str, Any], load: Callable[[], T]) -> T:
    # An RQ job runs in a short-lived work horse: it would start a hub listener for one job,
    # and its parent's cache (inherited by the fork) hears nothing. It reads the database.
    if get_current_job() is not None:
        return load()
    return state.cache.get(key, load)


def changed(state: ChatsState, key: tuple[str, Any]) -> None:
    """The row behind ``key`` changes in this transaction: dropped here at once (a read later
    in the transaction sees the change), everywhere after commit, and again on a rollback (what
    was read meanwhile was never committed)."""
    cache = state.cache
    cache.drop(key)
    after_commit(state.session, lambda: cache.publish_drop(key))
    on_rollback(state.session, lambda: cache.drop(key))
