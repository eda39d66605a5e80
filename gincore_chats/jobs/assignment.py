"""Auto-assignment on a schedule: managers away too long give back waiting conversations, and
whatever waits in a pool goes to whoever has capacity (a missed signal is caught up here).

Like the hourly clean-up (jobs.cleanup), each run schedules the next one; runs are named by
their minute, so several workers keep one chain (services.assignment.sweep).
"""

from __future__ import annotations

from ..models import Source
from ..services.assignment import returns, router
from ..services.assignment import sweep as sweep_schedule
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState
from . import job_state


def run_once(state: ChatsState) -> tuple[int, int]:
    """One sweep over every source assigning automatically: (given back, assigned)."""
    given_back = assigned = 0
    with unit_of_work(state.session):
        ids = sweep_schedule.automatic_source_ids(state)
    for source_id in ids:
        # One transaction per source: a busy source's locks never hold up the others.
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id)
            if source is None:
                continue
            given_back += returns.do_return_from_away(state, source)
            assigned += router.do_drain(state, source)
    return given_back, assigned


def sweep() -> str:
    with job_state() as state:
        given_back, assigned = run_once(state)
        sweep_schedule.schedule_next(state)
        return f"gave back {given_back}, assigned {assigned}"


def schedule(state: ChatsState) -> bool:
    """The worker's start: resume the chain if some source assigns automatically."""
    try:
        return sweep_schedule.schedule(state)
    finally:
        # No transaction left open for the worker's life (it would block DDL and TRUNCATE).
        state.db.session.remove()
