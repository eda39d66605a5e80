"""Prometheus metrics, opt-in: ``CHATS_METRICS_ENABLED`` and the ``metrics`` extra
(``pip install gincore-chats[metrics]``, which brings ``prometheus-client``).

The instruments live in prometheus-client's default registry, once per process, so they also
work in its multi-process mode: with ``PROMETHEUS_MULTIPROC_DIR`` set (the same empty directory
for every gunicorn worker of a host, emptied at start) ``<prefix>/metrics`` aggregates all the
processes of the host. Each recording function is a no-op while metrics are off, so callers
never check the setting themselves.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .state import ChatsState

#: Directions of a message by its kind: what customers send in, what the team (or the
#: assistant) sends out; system lines and internal notes are neither.
DIRECTION = {"customer": "in", "manager": "out", "assistant": "out"}


@dataclass(frozen=True)
class _Instruments:
    sockets: Any
    messages: Any
    webhook_ack: Any
    queue_depth: Any
    queue_lag: Any
    provider_errors: Any


def available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _instruments() -> _Instruments:
    from prometheus_client import Counter, Gauge, Histogram

    return _Instruments(
        sockets=Gauge(
            "gincore_chats_open_sockets",
            "Open WebSockets by side (visitor: the widget, staff: the console).",
            ["side"],
            multiprocess_mode="livesum",
        ),
        messages=Counter(
            "gincore_chats_messages",
            "Messages stored, by direction (in: customers, out: the team) and source kind.",
            ["direction", "source_kind"],
        ),
        webhook_ack=Histogram(
            "gincore_chats_webhook_ack_seconds",
            "Time to answer a platform's webhook delivery (it retries slow ones).",
            ["source_kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0),
        ),
        queue_depth=Gauge(
            "gincore_chats_queue_depth",
            "Jobs waiting in the library's RQ queue (read at scrape time).",
            multiprocess_mode="mostrecent",
        ),
        queue_lag=Gauge(
            "gincore_chats_queue_lag_seconds",
            "Age of the oldest job waiting in the library's RQ queue (0 when empty; read at "
            "scrape time): a growing value means too few workers, or none.",
            multiprocess_mode="mostrecent",
        ),
        provider_errors=Counter(
            "gincore_chats_provider_errors",
            "Outbound sends a messenger platform refused or failed, by source kind and outcome "
            "(retry: tried again later, final: the message is marked failed).",
            ["source_kind", "outcome"],
        ),
    )


def enabled(state: ChatsState) -> bool:
    return state.config.metrics_enabled


@contextmanager
def open_socket(state: ChatsState, side: str) -> Iterator[None]:
    """Count a WebSocket as open for the duration of the block."""
    if not enabled(state):
        yield
        return
    gauge = _instruments().sockets.labels(side=side)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def message_stored(state: ChatsState, message_kind: str, source_kind: str) -> None:
    """Count a committed message (call from an after-commit effect)."""
    direction = DIRECTION.get(message_kind)
    if direction is not None and enabled(state):
        _instruments().messages.labels(direction=direction, source_kind=source_kind).inc()


@contextmanager
def webhook_ack(state: ChatsState, source_kind: str) -> Iterator[None]:
    """Time answering a webhook delivery."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if enabled(state):
            elapsed = time.perf_counter() - started
            _instruments().webhook_ack.labels(source_kind=source_kind).observe(elapsed)


def provider_error(state: ChatsState, source_kind: str, *, final: bool) -> None:
    """Count one failed send attempt (call from an after-commit effect)."""
    if enabled(state):
        outcome = "final" if final else "retry"
        _instruments().provider_errors.labels(source_kind=source_kind, outcome=outcome).inc()


def queue_lag_seconds(state: ChatsState) -> float:
    """Seconds the oldest queued job has waited (RQ pushes to the right: index 0 is oldest)."""
    from rq.job import Job

    for job_id in state.queue.get_job_ids(0, 0):
        job = Job.fetch(job_id, connection=state.redis, serializer=state.queue.serializer)
        if job.enqueued_at is not None:
            enqueued = job.enqueued_at
            if enqueued.tzinfo is None:
                enqueued = enqueued.replace(tzinfo=UTC)
            return max(0.0, (datetime.now(UTC) - enqueued).total_seconds())
    return 0.0


def exposition(state: ChatsState) -> tuple[bytes, str]:
    """The text exposition of every metric (of all this host's processes in multi-process
    mode), with its content type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    instruments = _instruments()
    instruments.queue_depth.set(state.queue.count)
    try:
        instruments.queue_lag.set(queue_lag_seconds(state))
    except Exception:
        instruments.queue_lag.set(0)
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
