"""Processing a stored webhook delivery (``InboundEvent``) into contacts and messages."""

from __future__ import annotations

from ..services.channels import inbound
from . import job_state


def process(event_id: int) -> None:
    with job_state() as state:
        inbound.process_event(state, event_id)


def fetch_media(message_id: int) -> None:
    with job_state() as state:
        inbound.do_fetch_media(state, message_id)
