"""The RQ worker classes of ``flask chats worker``: each job runs in an app context of its app.

The app belongs to the worker object (given when it is made), not to a module global, so two
apps in one process each run their own workers, and a job finds its app as any Flask code does:
``current_app``.
"""

from __future__ import annotations

import os
from typing import Any, cast

from flask import Flask
from rq import SimpleWorker, Worker
from rq.job import Job
from rq.queue import Queue

from ..state import EXTENSION_KEY, ChatsState

COMMAND_POLL_SECONDS = 1.0


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
