"""Webhook endpoints: admins register a URL, the event types it wants, a secret, on or off."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select

from ...models import WebhookEndpoint, utcnow
from ...state import ChatsState
from ..errors import NotFound
from ..row_ids import row_id
from ..secrets import SecretUnreadable, decrypt, encrypt
from .events import EVENT_TYPES
from .transport import UnsafeUrl, check_url, resolve

SECRET_PREFIX = "whsec_"
MIN_SECRET = 16
MAX_SECRET = 200
MAX_DESCRIPTION = 200
#: Endpoints an installation may have (each event is sent to each: a bound on fan-out).
MAX_ENDPOINTS = 20


class EndpointError(ValueError):
    """Invalid endpoint input; the text is shown to the admin."""


def clean_events(events: Iterable[str]) -> list[str]:
    wanted = sorted({str(e) for e in events})
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise EndpointError(f"Unknown event type: {', '.join(unknown)}.")
    return wanted


def clean_url(url: str) -> str:
    """A plain http(s) URL to a named host (no network: see :func:`verify_destination`)."""
    try:
        check_url(url)
    except UnsafeUrl as exc:
        raise EndpointError(str(exc)) from None
    return url.strip()


def verify_destination(state: ChatsState, url: str) -> None:
    """Resolve the URL's host and refuse non-public addresses (unless allowed). A DNS look-up:
    call it before opening a unit of work (no network call inside a transaction). Every send
    checks again. With CHATS_WEBHOOKS_ALLOW_PRIVATE nothing is refused, so nothing is looked up
    here (a host that does not resolve shows as a failed delivery)."""
    if state.config.webhooks_allow_private:
        return
    try:
        resolve(url, allow_private=state.config.webhooks_allow_private)
    except UnsafeUrl as exc:
        raise EndpointError(str(exc)) from None


def clean_secret(secret: str | None) -> str:
    if not secret:
        return SECRET_PREFIX + secrets.token_urlsafe(32)
    if not (MIN_SECRET <= len(secret) <= MAX_SECRET) or not secret.isascii():
        raise EndpointError(
            f"A secret is {MIN_SECRET}-{MAX_SECRET} ASCII characters; leave it empty to get one."
        )
    return secret


def _description(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise EndpointError(f"The description is too long (at most {MAX_DESCRIPTION}).")
    return text or None


def do_create(
    state: ChatsState,
    *,
    url: str,
    events: Iterable[str],
    secret: str | None,
    description: str | None,
    active: bool,
    created_by: str | None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it and its secret (shown once, like a token)."""
    count = len(list_endpoints(state))
    if count >= MAX_ENDPOINTS:
        raise EndpointError(f"At most {MAX_ENDPOINTS} webhook endpoints; remove one first.")
    plain = clean_secret(secret)
    now = utcnow()
    endpoint = WebhookEndpoint(
        url=clean_url(url),
        events=clean_events(events),
        description=_description(description),
        secret_encrypted=encrypt(state, {"secret": plain}),
        active=active,
        failure_streak=0,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    state.session.add(endpoint)
    state.session.flush()
    return endpoint, plain


def do_update(
    state: ChatsState,
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = clean_url(url)
    if events is not None:
        endpoint.events = clean_events(events)
    if description is not None:
        endpoint.description = _description(description)
    if active is not None and active != endpoint.active:
        endpoint.active = active
        if active:
            # Switched on again: a fresh start for the failure count.
            endpoint.disabled_reason = None
            endpoint.disabled_at = None
            endpoint.failure_streak = 0
            endpoint.failing_since = None
        else:
            endpoint.disabled_at = utcnow()
    endpoint.updated_at = utcnow()
    return endpoint


def do_rotate_secret(state: ChatsState, endpoint: WebhookEndpoint, secret: str | None) -> str:
    plain = clean_secret(secret)
    endpoint.secret_encrypted = encrypt(state, {"secret": plain})
    endpoint.updated_at = utcnow()
    return plain


def do_delete(state: ChatsState, endpoint: WebhookEndpoint) -> None:
    state.session.delete(endpoint)


def secret_of(state: ChatsState, endpoint: WebhookEndpoint) -> str | None:
    try:
        return str(decrypt(state, endpoint.secret_encrypted)["secret"])
    except (SecretUnreadable, KeyError):
        return None


def list_endpoints(state: ChatsState) -> list[WebhookEndpoint]:
    return list(state.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get(state: ChatsState, endpoint_id: int) -> WebhookEndpoint:
    found = row_id(endpoint_id)
    endpoint = state.session.get(WebhookEndpoint, found) if found is not None else None
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint
