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
    # Where the contact was first seen; a contact's conversations may come from any source.
    # None for a contact a host imported (``link_contact``). With ``external_id`` it is the
    # contact's platform id on that source: unique, and kept by a merged-away contact so the
    # platform user still reaches the contact it was merged into.
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_sources.id", ondelete="CASCADE"), nullable=True
    )
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
    # The host's own user id, from a signed identity or an import: one contact per host user.
    host_user_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # When the host last vouched for the fields (a valid signature or an import): unsigned
    # claims (the widget's own form) never override them after that.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set on a contact merged into another: conversations, notes and fields moved there, and a
    # platform id still found here resolves to that contact. Cleared by an undo.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="SET NULL"), index=True
    )


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


class ContactMerge(Base):
    """One merge of ``merged_id`` into ``survivor_id``, with what it moved (for the undo)."""

    __tablename__ = "chats_contact_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="CASCADE"), index=True
    )
    merged_id: Mapped[int] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[str] = mapped_column(String(64))
    # {"conversation_ids": [...], "note_ids": [...], "survivor_before": {field: value}}
    moved: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MergeReason:
    SAME_IDENTITY = "same_identity"
    SAME_EMAIL = "same_email"
    SAME_PHONE = "same_phone"
    ALL = (SAME_IDENTITY, SAME_EMAIL, SAME_PHONE)


class ContactMergeSuggestion(Base):
    """ "Same person?": ``contact_id`` probably is ``candidate_id``; a manager decides."""

    __tablename__ = "chats_contact_merge_suggestions"
    __table_args__ = (UniqueConstraint("contact_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="CASCADE"), index=True
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("chats_contacts.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Merged or dismissed: no longer offered.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
