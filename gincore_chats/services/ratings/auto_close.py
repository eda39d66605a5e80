"""Closing conversations after a per-source inactivity time (``auto_close_minutes``).

A sweep (RQ, every :data:`INTERVAL`, chained like the clean-up of empty visits) closes the open
conversations the customer wrote in whose last activity is older than their source's time.
Closing is the same as a manager's (``closed_by`` "auto"): the rating is asked for, and a
customer who writes again reopens the conversation.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ...models import Conversation, ConversationStatus, Source, utcnow
from ...state import ChatsState
from ..conversations.lifecycle import do_close
from ..unit_of_work import unit_of_work

SETTING = "auto_close_minutes"
#: Longest inactivity time an admin may set: 30 days.
MAX_MINUTES = 30 * 24 * 60
#: Most conversations closed per transaction (a backlog is closed over several).
BATCH = 200


def inactivity(source: Source) -> timedelta | None:
    raw = (source.settings or {}).get(SETTING)
    try:
        minutes = float(raw) if raw is not None else 0.0
    except (TypeError, ValueError):
        return None
    return timedelta(minutes=minutes) if minutes > 0 else None


def do_set_inactivity(source: Source, minutes: float | None) -> None:
    """Set (minutes, > 0) or clear (None, 0) the source's auto-close time."""
    if minutes is not None and not 0 <= minutes <= MAX_MINUTES:
        raise ValueError(f"Auto-close: between 0 and {MAX_MINUTES} minutes (30 days).")
    settings = dict(source.settings or {})
    if minutes:
        settings[SETTING] = round(float(minutes), 3)
    else:
        settings.pop(SETTING, None)
    source.settings = settings  # a new dict, so the JSON column is seen as changed


def close_inactive(state: ChatsState) -> int:
    """Close what has been quiet too long, source by source; returns how many were closed."""
    session = state.session
    with unit_of_work(session):
        timed = [(s.id, inactivity(s)) for s in session.scalars(select(Source)) if inactivity(s)]
    closed = 0
    for source_id, wait in timed:
        assert wait is not None
        while True:
            with unit_of_work(session):
                rows = list(
                    session.scalars(
                        select(Conversation)
                        .where(
                            Conversation.source_id == source_id,
                            Conversation.status == ConversationStatus.OPEN,
                            Conversation.first_customer_message_at.is_not(None),
                            Conversation.last_activity_at < utcnow() - wait,
                        )
                        .order_by(Conversation.last_activity_at)
                        .limit(BATCH)
                        .with_for_update(skip_locked=True, of=Conversation)
                    ).unique()
                )
                for conv in rows:
                    do_close(state, None, conv)
            closed += len(rows)
            if len(rows) < BATCH:
                break
    return closed
