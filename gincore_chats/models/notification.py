"""Web push subscriptions and the log of notifications sent (so none is sent twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class PushSubscription(Base):
    __tablename__ = "chats_push_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manager_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationKind:
    EMPLOYEE_UNREAD = "employee_unread"
    CUSTOMER_UNREAD = "customer_unread"


class NotificationLog(Base):
    """One row per sent notification window: the unique key makes a re-run a no-op."""

    __tablename__ = "chats_notification_log"
    __table_args__ = (UniqueConstraint("conversation_id", "kind", "upto_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(24))
    # The newest message covered; the next window starts after it.
    upto_message_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
