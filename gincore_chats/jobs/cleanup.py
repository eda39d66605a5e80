"""Housekeeping on a schedule: delete conversations that stayed empty visits.

The worker (``flask chats worker``) schedules the first run when it starts; each run schedules
the next one, an hour later. Runs are named by their hour, so several workers (or restarts) keep
one chain: a second worker finds the hour's run already waiting and schedules nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import utcnow
from ..queue import job_id, schedule_once
from ..services.conversations import retention
from ..state import ChatsState
from . import job_state

INTERVAL = timedelta(hours=1)
FUNC = "gincore_chats.jobs.cleanup.delete_empty_conversations"


def run_id(state: ChatsState, at: datetime) -> str:
    return job_id(state, "delete-empty-conversations", at.strftime("%Y%m%d%H"))


def schedule(state: ChatsState, at: datetime | None = None) -> bool:
    """Schedule the clean-up at ``at`` (default: now); False when off or already scheduled."""
    if state.config.empty_conversation_retention is None:
        return False
    when = at or utcnow()
    return schedule_once(state, FUNC, job_id=run_id(state, when), at=when)


def delete_empty_conversations() -> str:
    with job_state() as state:
        retention_time = state.config.empty_conversation_retention
        if retention_time is None:
            return "off (CHATS_EMPTY_CONVERSATION_RETENTION is not set)"
        removed = retention.delete_empty_conversations(state, retention_time)
        # The next hour's run, at the start of that hour.
        schedule(state, (utcnow() + INTERVAL).replace(minute=0, second=0, microsecond=0))
        return f"deleted {removed} empty conversations"
