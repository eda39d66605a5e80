"""AI jobs: the assistant's reply turn and a manager's AI draft (never on a request path)."""

from __future__ import annotations

from ..services.ai import drafts, replies
from . import job_state


def reply_turn(conversation_id: int, message_id: int) -> str:
    with job_state() as state:
        return replies.run_turn(state, conversation_id, message_id)


def draft(conversation_id: int, manager_id: str) -> str:
    with job_state() as state:
        return drafts.run_draft(state, conversation_id, manager_id)
