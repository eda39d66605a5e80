"""REST API tokens and outgoing webhooks: endpoints, the events they carry and each delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, JsonType, UTCDateTime, utcnow


class ApiToken(Base):
    """A bearer token acting as one host user, with scopes that narrow that user's permissions.

    Only a SHA-256 digest of the token is stored (tokens are 256 random bits, so a slow hash
    adds nothing); the plain token is shown once, when it is created.
    """

    __tablename__ = "chats_api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The host user the token acts as (the library never assumes int, str or UUID ids).
    manager_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(Base):
    """A URL of the host's systems that receives signed events."""

    __tablename__ = "chats_webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # URLs have no maximum length in any standard; browsers keep about 2 MB.
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(200))
    # Subscribed event types; empty: every type.
    events: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # The signing secret, encrypted (services.secrets): it must be read back to sign.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why the library switched it off (continuous failures); None when an admin did, or when on.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts since the last success, and when that streak began.
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEvent(Base):
    """One event as every endpoint receives it (the body is built once, in the transaction)."""

    __tablename__ = "chats_webhook_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The id receivers deduplicate on ("evt_" + 24 random characters).
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), index=True
    )
    # The conversation's event sequence number: order per conversation is recoverable.
    seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus:
    PENDING = "pending"  # waiting for its first or next attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retries exhausted, or the endpoint was disabled
    ALL = (PENDING, SUCCEEDED, FAILED)


class WebhookDelivery(Base):
    """One event on its way to one endpoint: the delivery log row, with its latest attempt."""

    __tablename__ = "chats_webhook_deliveries"
    __table_args__ = (
        # The log page lists an endpoint's deliveries newest first, paged by id.
        Index("ix_chats_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
        # The sweep finds pending deliveries that are due.
        Index("ix_chats_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("chats_webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("chats_webhook_events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    # Milliseconds the last attempt took.
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The start of the receiver's answer (for the log page).
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    # Set on a delivery an admin asked for again (same event, same event id).
    redelivery_of: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[WebhookEvent] = relationship(lazy="joined")
