"""The "a source is failing" email to the admins (queued when a delivery's processing fails)."""

from __future__ import annotations

from ..services.channels import alerts as source_alerts
from . import job_state


def failing(source_id: int) -> None:
    with job_state() as state:
        source_alerts.send_failing_alert(state, source_id)
