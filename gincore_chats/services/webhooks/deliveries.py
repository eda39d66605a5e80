"""Delivering webhook events: at least once, retried with back-off, logged, and an endpoint
that keeps failing is switched off (its admins are emailed).

One attempt: read the delivery and commit (no transaction stays open), sign and POST
(:mod:`.transport`), then record the outcome in a new unit of work. A failure is retried after
``CHATS_WEBHOOK_BACKOFF * 2**(attempt-1)`` seconds (at most an hour, ±20 % jitter) for
``CHATS_WEBHOOK_RETRY_HOURS``; then the delivery is ``failed`` and an admin may redeliver it.
After ``CHATS_WEBHOOK_DISABLE_FAILURES`` failed attempts in a row spanning at least
``CHATS_WEBHOOK_DISABLE_HOURS``, the endpoint is disabled and the admins get an email.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ...models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from ...queue import enqueue
from ...state import ChatsState
from ..errors import NotFound
from ..notifications import mailbox
from ..notifications.recipients import admin_addresses
from ..row_ids import row_id
from ..unit_of_work import after_commit, unit_of_work
from . import transport
from .endpoints import secret_of
from .events import DELIVER_JOB, envelope

log = logging.getLogger(__name__)

MAX_DELAY = 3600.0
JITTER = 0.2
#: How long one attempt holds its delivery (a duplicate job meanwhile does nothing).
LOCK_SLACK = 30


@dataclass(frozen=True)
class Prepared:
    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    secret: str
    headers: dict[str, str]


def retry_delay(state: ChatsState, attempt: int) -> float:
    base = min(MAX_DELAY, state.config.webhook_backoff * 2 ** (attempt - 1))
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def _schedule(state: ChatsState, delivery_id: int, delay: float) -> None:
    # RQ's scheduler keeps whole seconds; below one second the job is queued at once.
    wait = timedelta(seconds=delay + 1) if delay >= 1 else None
    after_commit(state.session, lambda: enqueue(state, DELIVER_JOB, delivery_id, delay=wait))


def _prepare(state: ChatsState, delivery_id: int) -> Prepared | None:
    with unit_of_work(state.session):
        delivery = state.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        endpoint = state.session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None:
            return None
        reason = None
        if not state.config.is_pro:
            reason = "Webhooks need the Pro plan (CHATS_PLAN)."
        elif not endpoint.active:
            reason = endpoint.disabled_reason or "The endpoint is switched off."
        secret = secret_of(state, endpoint)
        if secret is None:
            reason = "The endpoint's secret cannot be decrypted (the encryption key changed)."
        if reason is not None:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = reason
            return None
        event = delivery.event
        return Prepared(
            delivery_id=delivery.id,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            body=envelope(event),
            secret=secret or "",
            headers={
                "Chats-Webhook-Id": event.public_id,
                "Chats-Webhook-Event": event.type,
                "Chats-Webhook-Sequence": "" if event.seq is None else str(event.seq),
                "Chats-Webhook-Delivery": str(delivery.id),
                "Chats-Webhook-Attempt": str(delivery.attempts + 1),
            },
        )


def attempt(state: ChatsState, delivery_id: int) -> None:
    """One attempt of one delivery (the RQ job's body)."""
    lock = state.key("webhook-attempt", delivery_id)
    ttl = int(state.config.webhook_timeout) + LOCK_SLACK
    if not state.redis.set(lock, "1", nx=True, ex=ttl):
        return  # the same delivery is being attempted right now
    try:
        prepared = _prepare(state, delivery_id)
        if prepared is None:
            return
        outcome = transport.post(
            prepared.url,
            prepared.body,
            prepared.headers,
            prepared.secret,
            timeout=state.config.webhook_timeout,
            allow_private=state.config.webhooks_allow_private,
        )
        disabled = _record(state, prepared, outcome)
    finally:
        state.redis.delete(lock)
    if disabled is not None:
        _email_admins(state, *disabled)


def _record(
    state: ChatsState, prepared: Prepared, outcome: transport.Outcome
) -> tuple[str, str] | None:
    """Store the outcome; returns (url, reason) when this failure disabled the endpoint."""
    config = state.config
    with unit_of_work(state.session):
        delivery = state.session.get(WebhookDelivery, prepared.delivery_id)
        endpoint = state.session.get(WebhookEndpoint, prepared.endpoint_id)
        if delivery is None or endpoint is None:
            return None
        now = utcnow()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = outcome.status
        delivery.latency_ms = outcome.latency_ms
        delivery.last_error = outcome.error
        delivery.response_excerpt = outcome.excerpt
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            endpoint.failure_streak = 0
            endpoint.failing_since = None
            return None
        endpoint.failure_streak += 1
        endpoint.failing_since = endpoint.failing_since or now
        disabled = None
        if (
            endpoint.active
            and endpoint.failure_streak >= config.webhook_disable_failures
            and now - endpoint.failing_since >= timedelta(hours=config.webhook_disable_hours)
        ):
            endpoint.active = False
            endpoint.disabled_at = now
            endpoint.disabled_reason = (
                f"Disabled after {endpoint.failure_streak} failed deliveries in a row since "
                f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC. Last error: {outcome.error}"
            )
            disabled = (endpoint.url, endpoint.disabled_reason)
        age = now - delivery.event.created_at
        retry = not outcome.permanent and age < timedelta(hours=config.webhook_retry_hours)
        if endpoint.active and retry:
            delay = retry_delay(state, delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            _schedule(state, delivery.id, delay)
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        return disabled


def _email_admins(state: ChatsState, url: str, reason: str) -> None:
    box = mailbox.load(state)
    recipients = admin_addresses(state)
    if not box.configured or not recipients:
        log.warning("gincore_chats: webhook %s disabled; no admin could be emailed", url)
        return
    try:
        mailbox.send(
            box,
            to=recipients,
            subject="A webhook endpoint was disabled",
            text=(
                f"The webhook endpoint {url} kept failing and has been switched off; "
                f"no events are sent to it now.\n\n{reason}\n\n"
                "Fix the receiver, then switch the endpoint on again in the chat settings "
                "(Settings → Webhooks) and redeliver the events it missed from its log.\n"
            ),
        )
    except mailbox.MailError:
        log.exception("gincore_chats: the webhook-disabled email could not be sent")


# -- the delivery log -----------------------------------------------------------------------------


def page(
    state: ChatsState, endpoint: WebhookEndpoint, before_id: int | None, limit: int
) -> list[WebhookDelivery]:
    """Up to ``limit + 1`` deliveries of an endpoint, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return list(state.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))


def get(state: ChatsState, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    found = row_id(delivery_id)
    delivery = state.session.get(WebhookDelivery, found) if found is not None else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("No such delivery of this endpoint.")
    return delivery


def do_redeliver(state: ChatsState, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event (same event id) to the endpoint again, as a new delivery."""
    now = utcnow()
    again = WebhookDelivery(
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        redelivery_of=delivery.id,
        created_at=now,
    )
    state.session.add(again)
    state.session.flush()
    _schedule(state, again.id, 0)
    return again


def do_sweep(state: ChatsState, grace: timedelta = timedelta(minutes=5)) -> int:
    """Enqueue pending deliveries whose attempt is overdue (a job lost with Redis, an enqueue
    that failed after commit). Safe to run any time: a duplicate job finds the delivery busy
    or done."""
    due: datetime = utcnow() - grace
    rows = list(
        state.session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at < due,
            )
        )
    )
    for delivery_id in rows:
        _schedule(state, delivery_id, 0)
    return len(rows)
