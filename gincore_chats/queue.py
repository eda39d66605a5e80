"""Putting work on the RQ queue: below the services, which enqueue jobs by dotted path.

Jobs are named by string (``"gincore_chats.jobs.outbound.send"``) with JSON arguments (never
pickled objects), so nothing here imports the jobs package and services never import it either.
Call these only from an after-commit effect: a rolled-back change must not reach a worker.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from .state import ChatsState


def enqueue(
    state: ChatsState,
    func: str,
    *args: Any,
    delay: timedelta | None = None,
    job_id: str | None = None,
    retry: Any = None,
) -> Any:
    """Enqueue (or schedule) a job; call only from an after-commit effect.

    ``retry``: an ``rq.Retry`` for jobs that may fail for a passing reason (a database hiccup).
    """
    options: dict[str, Any] = {"job_id": job_id} if job_id else {}
    if retry is not None:
        options["retry"] = retry
    if delay is not None:
        return state.queue.enqueue_in(delay, func, *args, **options)
    return state.queue.enqueue(func, *args, **options)


def job_id(state: ChatsState, *parts: object) -> str:
    """A deterministic job id, namespaced by queue: RQ's job keys are global to the Redis
    server, and two apps (or test runs) sharing it number their conversations alike."""
    raw = "-".join((state.config.queue_name, *map(str, parts)))
    # RQ accepts only [A-Za-z0-9_-] in ids.
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)


#: Statuses of a job that will still run: scheduling the same id again would be a duplicate.
_WAITING = ("scheduled", "queued", "deferred", "started")


def schedule_once(
    state: ChatsState, func: str, *args: Any, job_id: str, at: datetime, retry: Any = None
) -> bool:
    """Schedule ``func(*args)`` at ``at`` unless a job with this id is waiting or running.

    Atomic in Redis (RQ's unique scheduling), so a burst of calls schedules one job. A finished,
    failed or stopped job of the same id is replaced. Returns whether a job was scheduled.
    Call only from an after-commit effect.
    """
    queue = state.queue
    for _attempt in range(2):
        job = queue.create_job(
            func,
            args=args,
            job_id=job_id,
            status=JobStatus.SCHEDULED,
            retry=retry,
            # Deleted once done: the id may then be scheduled again, and Redis stays lean.
            result_ttl=0,
        )
        try:
            queue.schedule_job(job, at, unique=True)
            return True
        except DuplicateJobError:
            try:
                existing = Job.fetch(job_id, connection=state.redis, serializer=queue.serializer)
            except NoSuchJobError:
                continue  # finished and deleted in between: try again
            if existing.get_status(refresh=False) in _WAITING:
                return False
            existing.delete()
    return False


def discard(state: ChatsState, job_id: str) -> bool:
    """Remove a job that has not started (an optimisation: jobs re-check before acting)."""
    try:
        job = Job.fetch(job_id, connection=state.redis, serializer=state.queue.serializer)
    except NoSuchJobError:
        return False
    if job.get_status(refresh=False) not in ("scheduled", "queued", "deferred"):
        return False
    # delete(), not cancel(): canceled jobs are kept forever (rq#1647) and keep their id taken.
    job.delete()
    return True
