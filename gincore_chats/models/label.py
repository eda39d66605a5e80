"""Labels admins define ("billing", "vip") and the labels put on conversations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class Label(Base):
    __tablename__ = "chats_labels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # casefold(name): "VIP" and "vip" are one label (unique here, so two admins cannot race).
    name_key: Mapped[str] = mapped_column(String(50), unique=True)
    # "#rrggbb", lowercase (services.labels.catalog validates it).
    color: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationLabel(Base):
    """A label on a conversation; one row per pair."""

    __tablename__ = "chats_conversation_labels"
    __table_args__ = (
        # Filtering the list by a label and grouping reports by label walk this index.
        Index("ix_chats_conversation_labels_label", "label_id", "conversation_id"),
    )

    conversation_id: Mapped[int] = mapped_column(
        # Named here: the convention's name is longer than PostgreSQL's 63 characters.
        ForeignKey(
            "chats_conversations.id",
            ondelete="CASCADE",
            name="fk_chats_conversation_labels_conversation_id",
        ),
        primary_key=True,
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("chats_labels.id", ondelete="CASCADE"), primary_key=True
    )
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
