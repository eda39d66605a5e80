"""Conversations, who takes part in them, and the visitor's browsing context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, JsonType, UTCDateTime, utcnow
from .contact import Contact
from .source import Source


class ConversationStatus:
    OPEN = "open"
    CLOSED = "closed"
    ALL = (OPEN, CLOSED)


class Conversation(Base):
    __tablename__ = "chats_conversations"
    __table_args__ = (
        # The console list is ordered by last activity and paged by keyset (activity, id).
        Index("ix_chats_conversations_source_activity", "source_id", "last_activity_at", "id"),
        # The default list shows conversations the customer wrote in; the visits filter and the
        # clean-up of empty ones read the others. Partial, so each walks only its own rows:
        # all sources (admins), or by source (managers of some), newest first.
        Index(
            "ix_chats_conversations_listed_activity",
            "last_activity_at",
            "id",
            postgresql_where=text("first_customer_message_at IS NOT NULL"),
            sqlite_where=text("first_customer_message_at IS NOT NULL"),
        ),
        Index(
            "ix_chats_conversations_listed_source_activity",
            "source_id",
            "last_activity_at",
            "id",
            postgresql_where=text("first_customer_message_at IS NOT NULL"),
            sqlite_where=text("first_customer_message_at IS NOT NULL"),
        ),
        # "Mine" is not limited to listed conversations (a manager who joined a visit sees it):
        # every open conversation by activity, for admins, whose lists are not by source.
        Index("ix_chats_conversations_activity", "last_activity_at", "id"),
        Index(
            "ix_chats_conversations_empty_activity",
            "last_activity_at",
            "id",
            postgresql_where=text("first_customer_message_at IS NULL"),
            sqlite_where=text("first_customer_message_at IS NULL"),
        ),
        # Reports select the conversations started in a date range.
        Index("ix_chats_conversations_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("chats_contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default=ConversationStatus.OPEN)
    # The customer's language (widget: browser language), used for texts sent to them.
    language: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    # Highest event sequence number handed out; events are numbered 1, 2, 3 ... per conversation.
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)
    # Rotating it revokes every visitor token issued for this conversation.
    visitor_nonce: Mapped[str] = mapped_column(String(32))
    # The newest message the customer has seen (the widget reports it): unread-reply emails.
    customer_last_read_message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0, server_default=text("0")
    )
    # The newest message any manager has read: the widget marks the visitor's messages "seen".
    staff_last_read_message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0, server_default=text("0")
    )
    # When the customer first wrote; None while the conversation is only a visit (the widget
    # opened, nothing sent): hidden from the console's default list and cleaned up later.
    first_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reports: the first reply a manager sent (first response time), and the last close
    # (resolution time); ``closed_by`` is the manager's id, or "auto" after inactivity.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[Source] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def active_manager_ids(self) -> list[str]:
        return [p.manager_id for p in self.participants if p.left_at is None]


class Participant(Base):
    """One stretch of a manager's presence in a conversation: joined_at .. left_at."""

    __tablename__ = "chats_participants"
    __table_args__ = (
        Index("ix_chats_participants_conv_manager", "conversation_id", "manager_id"),
        # Who is in a conversation now (left_at IS NULL): the console's "unassigned" filter
        # probes by conversation, "mine" starts from the manager. Partial: history stays out.
        Index(
            "ix_chats_participants_active_conv",
            "conversation_id",
            "manager_id",
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
        Index(
            "ix_chats_participants_active_manager",
            "manager_id",
            "conversation_id",
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    manager_id: Mapped[str] = mapped_column(String(64), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")


class VisitorContext(Base):
    """What the widget learnt about the visitor's browser; one row per conversation."""

    __tablename__ = "chats_visitor_contexts"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    ip: Mapped[str | None] = mapped_column(String(45))
    # Names from the geolocation database: it documents no maximum.
    country: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(Text)
    current_page: Mapped[str | None] = mapped_column(Text)
    page_title: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    # [{"url": ..., "title": ..., "at": iso}], newest last, capped.
    pages: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    user_agent: Mapped[str | None] = mapped_column(Text)
    # Parsed from the User-Agent, so as long as the visitor makes it ("Firefox 1111...").
    browser: Mapped[str | None] = mapped_column(Text)
    os: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(35))
    # Minutes east of UTC (JS getTimezoneOffset() negated), for the customer's local time.
    tz_offset_minutes: Mapped[int | None] = mapped_column(Integer)
    # The browser's IANA zone ("Europe/Berlin"), checked against zoneinfo: local times follow
    # its daylight-saving changes; the fixed offset above is the fallback for old widgets.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
