"""Stored webhook deliveries whose processing failed, for the admin to see and run again.

A failed delivery keeps its raw body and its last error (see :mod:`.inbound`). Once the cause
is fixed (a new version deployed, credentials corrected) it can be processed again: from the
settings page (queued for the worker) or with ``flask chats process-inbound --failed`` (right
there). Processing is idempotent, messages being unique per (source, platform message id), so
running it twice creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from ...models import InboundEvent
from ...state import ChatsState
from ..unit_of_work import unit_of_work
from .inbound import process_event, queue_processing

#: Most deliveries queued or processed per run (the rest wait for the next one).
BATCH = 1000


@dataclass(frozen=True)
class Failures:
    """The failed deliveries of one source: how many, and the newest one's error."""

    count: int
    last_error: str
    last_received_at: datetime
    last_attempts: int


@dataclass(frozen=True)
class Outcome:
    processed: int
    still_failing: int
    last_error: str | None = None


def _failed() -> ColumnElement[bool]:
    return and_(InboundEvent.processed_at.is_(None), InboundEvent.error.is_not(None))


def failures_by_source(state: ChatsState) -> dict[int, Failures]:
    """Every source with failed deliveries (two queries, whatever the number of sources)."""
    counts = dict(
        state.session.execute(
            select(InboundEvent.source_id, func.count())
            .where(_failed())
            .group_by(InboundEvent.source_id)
        ).all()
    )
    if not counts:
        return {}
    newest = (
        select(func.max(InboundEvent.id))
        .where(_failed())
        .group_by(InboundEvent.source_id)
        .scalar_subquery()
    )
    rows = state.session.execute(
        select(
            InboundEvent.source_id,
            InboundEvent.error,
            InboundEvent.received_at,
            InboundEvent.attempts,
        ).where(InboundEvent.id.in_(newest))
    )
    return {
        source_id: Failures(int(counts[source_id]), str(error), received_at, attempts)
        for source_id, error, received_at, attempts in rows
    }


def failures_of(state: ChatsState, source_id: int) -> Failures | None:
    return failures_by_source(state).get(source_id)


def failed_event_ids(
    state: ChatsState, source_id: int | None = None, limit: int = BATCH
) -> list[int]:
    query = select(InboundEvent.id).where(_failed())
    if source_id is not None:
        query = query.where(InboundEvent.source_id == source_id)
    return list(state.session.scalars(query.order_by(InboundEvent.id).limit(limit)))


def do_queue_failed(state: ChatsState, source_id: int) -> int:
    """Queue the source's failed deliveries for the worker (the settings page's button)."""
    ids = failed_event_ids(state, source_id)
    for event_id in ids:
        queue_processing(state, event_id)
    return len(ids)


def process_failed(state: ChatsState, source_id: int | None = None) -> Outcome:
    """Process failed deliveries here and now, one by one (the CLI)."""
    with unit_of_work(state.session):
        ids = failed_event_ids(state, source_id)
    done = failing = 0
    last_error: str | None = None
    for event_id in ids:
        try:
            process_event(state, event_id)
        except Exception:  # recorded on the event (process_event keeps the error)
            state.session.rollback()
        with unit_of_work(state.session):
            event = state.session.get(InboundEvent, event_id)
            if event is not None and event.processed_at is None:
                failing += 1
                last_error = event.error
            else:
                done += 1
    return Outcome(done, failing, last_error)
