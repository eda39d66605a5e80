"""Customers: a visitor of the widget or a person writing from a messenger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JsonType, UTCDateTime, utcnow


class Contact(Base):
    __tablename__ = "chats_contacts"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    # The platform's user id (Telegram chat id, WhatsApp phone, Viber token ...), always a
    # string: Viber tokens exceed 2**53. None for widget visitors. Platform-provided values
    # are Text where the platform documents no maximum (see docs/channels.rst).
    external_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(64), index=True)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # What a messenger platform tells about the person.
    username: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Consent to data processing: when, and the exact text the visitor agreed to.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str | None] = mapped_column(Text)
    # Set while replies cannot reach the customer (they blocked the bot, unsubscribed ...),
    # with the reason shown to managers; cleared when they write again.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(Text)
    # The platform's time of the last block/unblock applied: an older one arriving late (two
    # workers, a retried delivery) must not undo a newer one.
    reachability_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactNote(Base):
    """An internal note on a customer (panel). Staff only: no visitor path reads this table."""

    __tablename__ = "chats_contact_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="CASCADE"), index=True
    )
    author_manager_id: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
