"""Notification jobs: unread-message emails (scheduled) and browser pushes (immediate).

Each returns a short outcome ("sent to 2", "read or already sent" ...) that the worker logs.
The window's first message id is passed for the log only: the job decides from the database.
"""

from __future__ import annotations

from flask import current_app

from ..host import host_of
from ..services.notifications import unread_alerts, web_push
from . import job_state


def employee_unread(conversation_id: int, first_message_id: int) -> str:
    with job_state() as state:
        host = host_of(current_app)
        return unread_alerts.run(state, unread_alerts.EMPLOYEES, conversation_id, host)


def customer_unread(conversation_id: int, first_message_id: int) -> str:
    with job_state() as state:
        host = host_of(current_app)
        return unread_alerts.run(state, unread_alerts.CUSTOMERS, conversation_id, host)


def push_new_message(conversation_id: int, message_id: int) -> str:
    with job_state() as state:
        return web_push.push_new_message(state, conversation_id)
