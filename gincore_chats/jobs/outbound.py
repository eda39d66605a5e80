"""Outbound platform calls: send a manager's reply, carry an edit or a delete."""

from __future__ import annotations

from ..services.channels import outbound
from . import job_state


def send(message_id: int, attempt: int = 1) -> None:
    with job_state() as state:
        outbound.deliver(state, message_id, attempt)


def edit(message_id: int, attempt: int = 1) -> None:
    with job_state() as state:
        outbound.change_remotely(state, message_id, attempt, delete=False)


def delete(message_id: int, attempt: int = 1) -> None:
    with job_state() as state:
        outbound.change_remotely(state, message_id, attempt, delete=True)
