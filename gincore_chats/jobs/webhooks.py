"""Outgoing webhook deliveries: one attempt per job (retries are scheduled by the service)."""

from __future__ import annotations

from ..services.webhooks import deliveries
from . import job_state


def deliver(delivery_id: int) -> None:
    with job_state() as state:
        deliveries.attempt(state, delivery_id)
