"""The daily retention run (each source's policy, :mod:`services.privacy.retention`).

Scheduled like the hourly clean-up (:mod:`.cleanup`): the worker schedules the first run when
it starts, each run schedules the next, and runs are named by their day, so several workers or
restarts keep one chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import utcnow
from ..queue import job_id, schedule_once
from ..services.privacy import retention
from ..state import ChatsState
from . import job_state

INTERVAL = timedelta(days=1)
FUNC = "gincore_chats.jobs.retention.run"


def run_id(state: ChatsState, at: datetime) -> str:
    return job_id(state, "retention", at.strftime("%Y%m%d"))


def schedule(state: ChatsState, at: datetime | None = None) -> bool:
    """Schedule the run at ``at`` (default: now); False when one is already waiting."""
    when = at or utcnow()
    return schedule_once(state, FUNC, job_id=run_id(state, when), at=when)


def run() -> str:
    with job_state() as state:
        report = retention.run(state)
        # Tomorrow's run, at the start of that day (UTC): a quiet hour for most hosts.
        tomorrow = (utcnow() + INTERVAL).replace(hour=3, minute=0, second=0, microsecond=0)
        schedule(state, tomorrow)
        return f"retention applied on {len(report.sources)} sources"
