"""Closing jobs: rating prompts and button answers on platforms, transcripts, auto-close.

The auto-close sweep schedules its next run itself (every minute, named by the minute, so
several workers keep one chain); ``flask chats worker`` schedules the first one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import utcnow
from ..queue import job_id, schedule_once
from ..services.ratings import auto_close, prompts, transcript
from ..state import ChatsState
from . import job_state

INTERVAL = timedelta(minutes=1)
SWEEP = "gincore_chats.jobs.ratings.close_inactive"


def send_prompt(conversation_id: int) -> str:
    with job_state() as state:
        return prompts.send_prompt(state, conversation_id)


def answer_button(source_id: int, callback_id: str, text: str) -> str:
    with job_state() as state:
        return prompts.answer_button(state, source_id, callback_id, text)


def send_transcript(conversation_id: int) -> str:
    with job_state() as state:
        return transcript.send_transcript(state, conversation_id)


def schedule_sweep(state: ChatsState, at: datetime | None = None) -> bool:
    when = at or utcnow()
    run = job_id(state, "auto-close", when.strftime("%Y%m%d%H%M"))
    return schedule_once(state, SWEEP, job_id=run, at=when)


def close_inactive() -> str:
    with job_state() as state:
        closed = auto_close.close_inactive(state)
        schedule_sweep(state, (utcnow() + INTERVAL).replace(second=0, microsecond=0))
        return f"closed {closed} inactive conversations"
