"""An email to the admins when a source starts failing to process its platform's deliveries.

"Starts failing": a delivery's processing failed while no other delivery of the source was
failed. The email is sent by a job after the failure is committed, at most once per hour per
source (a Redis key set only if absent, so two workers failing at once send one email).
Admins are the host users the ``candidates_loader`` lists with ``chats.admin`` and an address.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import func, select

from ...models import InboundEvent, Source
from ...queue import enqueue
from ...state import ChatsState
from ..hooks import inbound_failed
from ..notifications import mailbox
from ..notifications.recipients import admin_addresses
from ..unit_of_work import after_commit, unit_of_work
from .inbound_failures import Failures, failures_by_source, failures_of

log = logging.getLogger(__name__)

ALERT_JOB = "gincore_chats.jobs.source_alerts.failing"
#: Seconds between two alert emails about one source.
ALERT_INTERVAL = 3600


@inbound_failed.connect
def note_failure(state: ChatsState, event: InboundEvent) -> None:
    """Called where a delivery's failure is recorded: queue the alert if the source starts
    failing now (the email job runs after this transaction commits)."""
    others = state.session.scalar(
        select(func.count())
        .select_from(InboundEvent)
        .where(
            InboundEvent.source_id == event.source_id,
            InboundEvent.id != event.id,
            InboundEvent.processed_at.is_(None),
            InboundEvent.error.is_not(None),
        )
    )
    if others:
        return
    source_id = event.source_id
    after_commit(state.session, lambda: enqueue(state, ALERT_JOB, source_id))


def failing_sources(state: ChatsState) -> list[tuple[Source, Failures]]:
    """The sources with failed deliveries and their counts (the header of admins' pages)."""
    failures = failures_by_source(state)
    if not failures:
        return []
    rows = state.session.scalars(select(Source).where(Source.id.in_(failures)).order_by(Source.id))
    return [(source, failures[source.id]) for source in rows]


def _first_in_interval(state: ChatsState, source_id: int) -> bool:
    try:
        return bool(
            state.redis.set(
                state.key("source-failing-alert", source_id), "1", nx=True, ex=ALERT_INTERVAL
            )
        )
    except RedisError:
        return True  # better an extra email than a failing source nobody hears about


def settings_link(state: ChatsState, source_id: int) -> str | None:
    base = state.config.public_url
    if not base:
        return None
    return f"{base}{state.config.url_prefix}/settings/channels/{source_id}#inbound-failures"


def send_failing_alert(state: ChatsState, source_id: int) -> bool:
    """The job's work: email the admins unless fixed meanwhile or already told this hour."""
    with unit_of_work(state.session):
        source = state.session.get(Source, source_id)
        failures = failures_of(state, source_id) if source is not None else None
        name = source.name if source is not None else ""
        box = mailbox.load(state)
        recipients = admin_addresses(state)
    if failures is None:
        return False  # processed again (or the source deleted) before the job ran
    if not box.usable or not recipients:
        log.warning("gincore_chats: source %s is failing; no admin could be emailed", source_id)
        return False
    if not _first_in_interval(state, source_id):
        return False
    link = settings_link(state, source_id)
    text = (
        f"Deliveries from the platform to the source “{name}” could not be processed, so "
        "their messages are not in the chat console yet. Nothing is lost: each delivery is "
        "stored as it came.\n\n"
        f"Failed deliveries: {failures.count}\n"
        f"Last error: {failures.last_error}\n\n"
        "Once the cause is fixed, process them again from the source's settings page"
        + (f" ({link})" if link else "")
        + f" or with: flask chats process-inbound --failed --source {source_id}\n\n"
        "You get at most one such email per source and hour.\n"
    )
    try:
        mailbox.send(box, to=recipients, subject=f"Chat source “{name}” is failing", text=text)
    except mailbox.MailError:
        log.exception("gincore_chats: the source-failing email could not be sent")
        return False
    return True
