"""Channel test fixtures: fake platform servers, config pointing at them, and the RQ worker.

The shared test app's config is frozen at start; each test swaps in a copy whose API base URLs
point at the fakes (as ``tests/test_widget_protection.py`` does for its settings). Jobs run in
the real RQ worker (``flask chats worker --burst --simple``, scheduler included), in a loop with
a deadline while a retry waits for its time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..conftest import LiveServer
from .fakes import FakeReceiver, FakeTelegram, FakeViber


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_viber() -> Iterator[FakeViber]:
    server = FakeViber()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def receiver() -> Iterator[FakeReceiver]:
    server = FakeReceiver()
    yield server
    server.stop()


def clear_queue(state: Any) -> None:
    """RQ's keys are not under the Redis prefix the shared cleanup removes: empty them here,
    so no job (ids restart with the tables) leaks into the next test."""
    queue = state.queue
    queue.empty()
    # A job a worker took but never started (its loop ended on an error) waits in RQ's
    # intermediate list; the next test's worker would fail it as "stuck" a minute later.
    queue.connection.delete(queue.intermediate_queue_key)
    for registry in (
        queue.scheduled_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.started_job_registry,
    ):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def channels(
    app: Any,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_viber: FakeViber,
    receiver: FakeReceiver,
) -> Iterator[Any]:
    """The app state with API bases on the fakes, public URL on the live server, fast retries."""
    state = app.extensions["gincore_chats"]
    for fake in (fake_telegram, fake_viber, receiver):
        fake.reset()
    clear_queue(state)
    monkeypatch.setattr(
        state,
        "config",
        dataclasses.replace(
            state.config,
            telegram_api_base=fake_telegram.url,
            viber_api_base=f"{fake_viber.url}/pa",
            public_url=live_server.url,
            send_backoff=0.2,
            send_max_attempts=3,
            channel_timeout=5.0,
        ),
    )
    yield state
    clear_queue(state)


def run_worker(app: Any) -> None:
    """One burst of the real worker; a job that raised fails the test with its traceback."""
    result = app.test_cli_runner().invoke(args=["chats", "worker", "--burst", "--simple"])
    assert result.exit_code == 0, result.output
    state = app.extensions["gincore_chats"]
    failed = state.queue.failed_job_registry
    errors = []
    for job_id in failed.get_job_ids():
        job = state.queue.fetch_job(job_id)
        errors.append(job.latest_result().exc_string if job and job.latest_result() else job_id)
    assert not errors, "\n".join(errors)


def work_until(app: Any, done: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Run the worker until ``done()`` is truthy (scheduled retries become due meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        run_worker(app)
        result = done()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.1)


def pending_jobs(app: Any) -> int:
    state = app.extensions["gincore_chats"]
    return state.queue.count + state.queue.scheduled_job_registry.count


def make_channel_source(
    app: Any, kind: str, credentials: dict[str, str], employees: list[str], name: str = "Bot"
) -> tuple[int, str]:
    from gincore_chats.services import sources
    from gincore_chats.services.channels import sources as channel_sources
    from gincore_chats.services.unit_of_work import unit_of_work

    with app.app_context():
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            source = channel_sources.do_create_channel_source(state, kind, name, credentials)
            sources.do_set_employees(state, source, employees)
        return source.id, source.public_key


def stored_credentials(app: Any, source_id: int) -> dict[str, Any]:
    from gincore_chats.models import Source
    from gincore_chats.services.channels.sources import read_credentials

    with app.app_context():
        state = app.extensions["gincore_chats"]
        try:
            return read_credentials(state, state.session.get(Source, source_id))
        finally:
            state.session.remove()


def count_rows(app: Any, model: Any) -> int:
    from sqlalchemy import func, select

    with app.app_context():
        session = app.extensions["gincore_chats"].session
        try:
            return int(session.scalar(select(func.count()).select_from(model)))
        finally:
            session.remove()


def webhook_url(live_server: LiveServer, key: str) -> str:
    return f"{live_server.url}/chats/webhooks/{key}"
