"""Files and images attached to messages; bytes live in the storage backend, not here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class Attachment(Base):
    __tablename__ = "chats_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), index=True
    )
    # Set when the message that carries the upload is sent; NULL while only uploaded.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_messages.id", ondelete="CASCADE"), index=True
    )
    # Unguessable: part of the download URL.
    public_id: Mapped[str] = mapped_column(String(43), unique=True)
    # "visitor" or a manager id; "channel" for inbound platform media.
    uploaded_by: Mapped[str] = mapped_column(String(64))
    # As the customer's device named it (platforms document no maximum).
    filename: Mapped[str] = mapped_column(Text)
    # RFC 6838: a type and a subtype of at most 127 characters each.
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    storage_key: Mapped[str] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    thumbnail_size: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Freed from the quota when set (its message was deleted); bytes are removed from storage.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
