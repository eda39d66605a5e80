"""``/webhooks`` (chats.admin): endpoints, their delivery log, redelivery, secret rotation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field, Strict

from ...models import WebhookDelivery, WebhookEndpoint
from ...permissions import Permission, PermissionDenied
from ...services.unit_of_work import unit_of_work
from ...services.webhooks import deliveries, endpoints
from ...services.webhooks.events import EVENT_TYPES
from ...state import get_state
from . import pagination
from .guard import current_manager
from .problems import invalid
from .schemas import Cursor, Limit, Maybe
from .spec import BodyModel, QueryModel, operation

EventType = StrEnum("EventType", {name.replace(".", "_").upper(): name for name in EVENT_TYPES})  # type: ignore[misc]
Url = Annotated[str, Field(min_length=1, max_length=2000, description="http:// or https://")]
Secret = Annotated[
    str,
    Field(
        min_length=endpoints.MIN_SECRET,
        max_length=endpoints.MAX_SECRET,
        pattern=r"^[!-~]+$",
        description="Your own signing secret; leave it out to get a generated one.",
    ),
]


class Endpoint(BaseModel):
    id: int
    url: str
    description: str | None
    events: list[EventType] = Field(description="Subscribed types; empty: every type.")  # type: ignore[valid-type]
    active: bool
    disabled_reason: str | None = Field(description="Why the library switched it off.")
    disabled_at: datetime | None
    failure_streak: int = Field(description="Failed attempts since the last success.")
    created_at: datetime
    updated_at: datetime


class EndpointList(BaseModel):
    items: list[Endpoint]


class CreatedEndpoint(Endpoint):
    secret: str = Field(description="The signing secret: shown only now.")


class NewSecret(BaseModel):
    secret: str = Field(description="The new signing secret: shown only now.")


class CreateEndpoint(BodyModel):
    url: Url
    events: list[Annotated[EventType, Strict(False)]] = Field(default_factory=list)  # type: ignore[valid-type]
    secret: Secret | None = None
    description: Annotated[str, Field(max_length=endpoints.MAX_DESCRIPTION)] | None = None
    active: bool = True


class UpdateEndpoint(BodyModel):
    url: Url | None = None
    events: list[Annotated[EventType, Strict(False)]] | None = None  # type: ignore[valid-type]
    description: Annotated[str, Field(max_length=endpoints.MAX_DESCRIPTION)] | None = None
    active: bool | None = Field(None, description="true again after a disable resets its count.")


class RotateSecret(BodyModel):
    secret: Secret | None = None


class DeliveryState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(BaseModel):
    id: int
    event_id: str = Field(description="The id receivers deduplicate on (same for redeliveries).")
    event_type: str
    conversation_id: int | None
    sequence: int | None
    status: DeliveryState
    attempts: int
    response_code: int | None
    latency_ms: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    redelivery_of: int | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None


class ListDeliveries(QueryModel):
    limit: Limit | Maybe = None
    cursor: Cursor | Maybe = None


def _admin() -> None:
    if not current_manager().is_admin:
        raise PermissionDenied("Webhooks need the chats.admin permission.", Permission.ADMIN)


def _out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or ()),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "failure_streak": endpoint.failure_streak,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def _delivery(row: WebhookDelivery) -> Delivery:
    return Delivery(
        id=row.id,
        event_id=row.event.public_id,
        event_type=row.event.type,
        conversation_id=row.event.conversation_id,
        sequence=row.event.seq,
        status=DeliveryState(row.status),
        attempts=row.attempts,
        response_code=row.response_code,
        latency_ms=row.latency_ms,
        last_error=row.last_error,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        redelivery_of=row.redelivery_of,
        created_at=row.created_at,
    )


def _verify(url: str | None) -> None:
    """The DNS check, before any transaction opens."""
    if url is None:
        return
    state = get_state()
    state.session.rollback()  # no transaction open during the look-up
    try:
        endpoints.verify_destination(state, url)
    except endpoints.EndpointError as exc:
        raise invalid(str(exc)) from None


@operation(tag="webhooks", ok=EndpointList)
def list_webhooks() -> EndpointList:
    """Every endpoint."""
    _admin()
    rows = endpoints.list_endpoints(get_state())
    return EndpointList(items=[Endpoint.model_validate(_out(e)) for e in rows])


@operation(tag="webhooks", ok=CreatedEndpoint, status=201, body=CreateEndpoint, post=True)
def create_webhook() -> Any:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    _admin()
    state = get_state()
    data: CreateEndpoint = request.context.json  # type: ignore[attr-defined]
    _verify(data.url)
    with unit_of_work(state.session):
        endpoint, secret = endpoints.do_create(
            state,
            url=data.url,
            events=[e.value for e in data.events],
            secret=data.secret,
            description=data.description,
            active=data.active,
            created_by=current_manager().id,
        )
        answer = CreatedEndpoint.model_validate({**_out(endpoint), "secret": secret})
    return answer, 201


@operation(tag="webhooks", ok=Endpoint)
def get_webhook(webhook_id: int) -> Endpoint:
    """One endpoint."""
    _admin()
    return Endpoint.model_validate(_out(endpoints.get(get_state(), webhook_id)))


@operation(tag="webhooks", ok=Endpoint, body=UpdateEndpoint)
def update_webhook(webhook_id: int) -> Endpoint:
    """Change the URL, event types, description, or switch it on or off."""
    _admin()
    state = get_state()
    data: UpdateEndpoint = request.context.json  # type: ignore[attr-defined]
    _verify(data.url)
    with unit_of_work(state.session):
        endpoint = endpoints.do_update(
            state,
            endpoints.get(state, webhook_id),
            url=data.url,
            events=[e.value for e in data.events] if data.events is not None else None,
            description=data.description,
            active=data.active,
        )
        answer = Endpoint.model_validate(_out(endpoint))
    return answer


@operation(tag="webhooks", ok=None, status=204)
def delete_webhook(webhook_id: int) -> Any:
    """Remove an endpoint and its delivery log."""
    _admin()
    state = get_state()
    with unit_of_work(state.session):
        endpoints.do_delete(state, endpoints.get(state, webhook_id))
    return "", 204


@operation(tag="webhooks", ok=NewSecret, body=RotateSecret, post=True)
def rotate_webhook_secret(webhook_id: int) -> NewSecret:
    """Replace the signing secret (yours, or a generated one); shown this once."""
    _admin()
    state = get_state()
    data: RotateSecret = request.context.json  # type: ignore[attr-defined]
    with unit_of_work(state.session):
        secret = endpoints.do_rotate_secret(state, endpoints.get(state, webhook_id), data.secret)
    return NewSecret(secret=secret)


@operation(tag="webhooks", ok=DeliveryPage, query=ListDeliveries)
def list_deliveries(webhook_id: int) -> DeliveryPage:
    """The endpoint's delivery log, newest first."""
    _admin()
    state = get_state()
    args: ListDeliveries = request.context.query  # type: ignore[attr-defined]
    endpoint = endpoints.get(state, webhook_id)
    limit = args.limit or state.config.page_size
    before = pagination.decode("deliveries", args.cursor, int)
    rows = deliveries.page(state, endpoint, before[0] if before else None, limit)
    rows, cursor = pagination.page(rows, limit, lambda d: (d.id,), "deliveries")
    return DeliveryPage(items=[_delivery(d) for d in rows], next_cursor=cursor)


@operation(tag="webhooks", ok=Delivery, status=201, post=True)
def redeliver(webhook_id: int, delivery_id: int) -> Any:
    """Send a delivery's event again (same event id), as a new delivery."""
    _admin()
    state = get_state()
    with unit_of_work(state.session):
        endpoint = endpoints.get(state, webhook_id)
        again = deliveries.do_redeliver(state, deliveries.get(state, endpoint, delivery_id))
        answer = _delivery(again)
    return answer, 201


ROUTES = [
    ("/webhooks", list_webhooks, ["GET"]),
    ("/webhooks", create_webhook, ["POST"]),
    ("/webhooks/<int:webhook_id>", get_webhook, ["GET"]),
    ("/webhooks/<int:webhook_id>", update_webhook, ["PATCH"]),
    ("/webhooks/<int:webhook_id>", delete_webhook, ["DELETE"]),
    ("/webhooks/<int:webhook_id>/rotate-secret", rotate_webhook_secret, ["POST"]),
    ("/webhooks/<int:webhook_id>/deliveries", list_deliveries, ["GET"]),
    ("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver", redeliver, ["POST"]),
]
