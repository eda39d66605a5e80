"""The per-minute sweep's schedule (the job is ``jobs.assignment.sweep``).

It runs only while some source assigns automatically: saving round-robin starts the chain,
the worker's start resumes it, and a run that finds no such source schedules no next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ...models import Source, utcnow
from ...queue import job_id, schedule_once
from ...state import ChatsState
from . import settings as assignment_settings

INTERVAL = timedelta(minutes=1)
FUNC = "gincore_chats.jobs.assignment.sweep"


def automatic_source_ids(state: ChatsState) -> list[int]:
    rows = state.session.scalars(select(Source).where(Source.active.is_(True))).unique()
    return [s.id for s in rows if assignment_settings.of(s).automatic]


def run_id(state: ChatsState, at: datetime) -> str:
    return job_id(state, "assignment-sweep", at.strftime("%Y%m%d%H%M"))


def schedule(state: ChatsState, at: datetime | None = None) -> bool:
    """Schedule a sweep at ``at`` (default: now); call after commit. False when none is
    needed (no source assigns automatically) or one is already waiting for that minute."""
    if not automatic_source_ids(state):
        return False
    when = at or utcnow()
    return schedule_once(state, FUNC, job_id=run_id(state, when), at=when)


def schedule_next(state: ChatsState) -> bool:
    return schedule(state, (utcnow() + INTERVAL).replace(second=0, microsecond=0))
