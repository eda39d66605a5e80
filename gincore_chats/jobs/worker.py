"""The RQ worker classes of ``flask chats worker``: each job runs in an app context of its app.

The app belongs to the worker object (given when it is made), not to a module global, so two
apps in one process each run their own workers, and a job finds its app as any Flask code does:
``current_app``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, cast

import redis
from flask import Flask
from rq import SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.worker import BaseWorker

from ..state import EXTENSION_KEY, ChatsState

COMMAND_POLL_SECONDS = 1.0
RESTART_PAUSE_SECONDS = 2.0


class _AppJobs:
    """Mixed into an RQ worker class: ``perform_job`` runs inside a fresh app context."""

    # Optional only because RQ itself makes instances to describe workers (``Worker.all``).
    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self._parent_pid = os.getpid()

    def perform_job(self, job: Job, queue: Queue) -> bool:
        if self.app is None:
            raise RuntimeError("gincore-chats workers need the app: AppWorker(..., app=app)")
        with self.app.app_context():
            if os.getpid() != self._parent_pid:
                # A forked work-horse must not reuse the parent's pooled DB connections.
                state: ChatsState = self.app.extensions[EXTENSION_KEY]
                for engine in state.db.engines.values():
                    engine.dispose(close=False)
            return super().perform_job(job, queue)  # type: ignore[misc,no-any-return]

    #: Set by a warm shutdown request (SIGINT/SIGTERM, RQ's shutdown command): RQ itself keeps
    #: no flag when the request comes while the worker is idle (it raises StopRequested).
    stop_asked = False

    def handle_warm_shutdown_request(self) -> None:
        self.stop_asked = True
        cast(Worker, super()).handle_warm_shutdown_request()

    def subscribe(self) -> None:
        """RQ's own, with a short poll on the command channel (``rq.command`` messages).

        RQ polls it every 60 s, and redis-py 8.2's ``PubSubWorkerThread.stop()`` waits for the
        poll in progress to end: a worker's shutdown, and every ``--burst`` run, could hang a
        minute after its last job. A one-second poll costs one idle Redis read a second.
        """
        worker = cast(Worker, self)  # the mixin always sits in front of an RQ worker class
        worker.log.info(
            "Worker %s: subscribing to channel %s", worker.name, worker.pubsub_channel_name
        )
        worker.pubsub = worker.connection.pubsub()
        worker.pubsub.subscribe(**{worker.pubsub_channel_name: worker.handle_payload})
        worker.pubsub_thread = worker.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=COMMAND_POLL_SECONDS,
            daemon=True,
            exception_handler=worker._pubsub_exception_handler,
        )


class AppWorker(_AppJobs, Worker):
    """Forks a work-horse per job (RQ's default)."""


class SimpleAppWorker(_AppJobs, SimpleWorker):
    """Runs jobs in the worker's own process (``--simple``)."""


def run_until_stopped(
    make: Callable[[], BaseWorker], *, burst: bool, say: Callable[[str], None] = print
) -> None:
    """Run workers from ``make`` until one is asked to stop (SIGINT/SIGTERM, RQ's shutdown
    command) or, with ``burst``, has drained the queue.

    RQ's work loop ends on any error of its own: a Redis restart while a job runs (it is then
    "loading the dataset") made the worker exit, and every later job waited for a supervisor to
    notice (the chaos run lost 343 messages that way). A loop that ended without a stop request
    is followed by a fresh worker once Redis answers; the job that was running is found
    abandoned by the next worker's maintenance and run again (send jobs never send twice).
    """
    while True:
        worker = make()
        try:
            worker.work(with_scheduler=True, burst=burst)
        except redis.exceptions.ConnectionError as exc:  # also raised by RQ's own teardown
            say(f"gincore-chats worker: lost Redis ({exc})")
        if burst or getattr(worker, "stop_asked", False):
            return
        pause = RESTART_PAUSE_SECONDS
        say(f"gincore-chats worker: RQ stopped on an error; a new worker in {pause:g} s")
        try:
            time.sleep(pause)
        except StopRequested:  # a SIGTERM during the pause, through the last worker's handler
            return
        if getattr(worker, "stop_asked", False):
            return
