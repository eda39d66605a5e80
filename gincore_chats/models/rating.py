"""A customer's rating of a closed conversation, and the transcript they asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

#: The scores a customer can give: 1 (bad) .. 5 (excellent).
SCORES = (1, 2, 3, 4, 5)
#: Longest comment kept with a rating.
MAX_COMMENT = 2000


class Rating(Base):
    """One per conversation: asked for when it closes (``score`` None: pending), then given.

    Closing again asks again and the newer score replaces the older; a customer who writes
    instead of rating reopens the conversation and the pending request is dropped.
    """

    __tablename__ = "chats_ratings"
    # Reports count the ratings given in a date range.
    __table_args__ = (Index("ix_chats_ratings_rated_at", "rated_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    # Where the rating was asked for: the source's kind (widget, telegram, whatsapp ...).
    channel: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last transcript email: requests are limited per conversation from it.
    transcript_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def pending(self) -> bool:
        return self.score is None
