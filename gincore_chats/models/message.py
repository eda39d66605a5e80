"""Messages, the per-conversation event log, read state and drafts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, JsonType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .attachment import Attachment


class MessageKind:
    CUSTOMER = "customer"
    MANAGER = "manager"
    SYSTEM = "system"
    NOTE = "note"  # internal note: staff only, never sent to a customer by any path
    ASSISTANT = "assistant"  # the AI assistant's answer (services.ai), public like a reply
    ALL = (CUSTOMER, MANAGER, SYSTEM, NOTE, ASSISTANT)


class Message(Base):
    __tablename__ = "chats_messages"
    __table_args__ = (
        # Idempotency: a retried send with the same client UUID finds the original.
        UniqueConstraint("conversation_id", "client_id"),
        # Inbound platform messages are unique per source on the platform's message id.
        UniqueConstraint("source_id", "external_id"),
        Index("ix_chats_messages_conv_id", "conversation_id", "id"),
        # Unread counts and the console's unread filter ask "customer messages after N":
        # an index-only probe here instead of reading every message row of the conversation.
        Index(
            "ix_chats_messages_customer_conv_id",
            "conversation_id",
            "id",
            postgresql_where=text("kind = 'customer'"),
            sqlite_where=text("kind = 'customer'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    author_manager_id: Mapped[str | None] = mapped_column(String(64))
    # Snapshot of the signature at send time: history keeps the name the customer saw.
    author_name: Mapped[str | None] = mapped_column(Text)
    author_avatar_url: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    # System messages carry a code and data so each reader renders them in their own language.
    system_code: Mapped[str | None] = mapped_column(String(40))
    system_data: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    client_id: Mapped[str | None] = mapped_column(String(64))
    # The platform's message id: Instagram's are ~300 characters and no platform documents a
    # maximum.
    external_id: Mapped[str | None] = mapped_column(Text)
    quoted_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outbound platform delivery: pending, sent, delivered, read, failed (None for the widget).
    delivery_status: Mapped[str | None] = mapped_column(String(12))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivery_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    quoted: Mapped[Message | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)
    attachments: Mapped[list[Attachment]] = relationship(
        "Attachment", lazy="selectin", order_by="Attachment.id", viewonly=True
    )


class MessageRevision(Base):
    """Earlier bodies of edited or deleted messages, kept for audit."""

    __tablename__ = "chats_message_revisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("chats_messages.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_by: Mapped[str | None] = mapped_column(String(64))


class Visibility:
    PUBLIC = "public"  # the customer and staff
    STAFF = "staff"  # managers only (notes, previews, drafts)
    PII = "pii"  # managers with customers.view only (contact details, visitor context)


class ConversationEvent(Base):
    """The durable event log: the database, not Redis, is what clients resync from."""

    __tablename__ = "chats_events"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    type: Mapped[str] = mapped_column(String(40))
    visibility: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadState(Base):
    """How far one manager has read one conversation."""

    __tablename__ = "chats_read_states"
    __table_args__ = (
        UniqueConstraint("conversation_id", "manager_id"),
        # "Marked unread" is rare: the unread filter and count find a manager's few such rows
        # here instead of scanning every read state.
        Index(
            "ix_chats_read_states_marked",
            "manager_id",
            "conversation_id",
            postgresql_where=text("marked_unread IS TRUE"),
            sqlite_where=text("marked_unread IS TRUE"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    manager_id: Mapped[str] = mapped_column(String(64), index=True)
    last_read_message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0
    )
    # Set by "mark as unread": shows the conversation unread whatever was read.
    marked_unread: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Draft(Base):
    __tablename__ = "chats_drafts"
    __table_args__ = (UniqueConstraint("conversation_id", "manager_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE")
    )
    manager_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    quoted_message_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
