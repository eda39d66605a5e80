"""Canned responses: saved replies a manager inserts by typing ``/`` and a shortcut."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class CannedResponse(Base):
    """Personal (``owner_id`` set: only that manager has it) or shared (``owner_id`` None:
    admins manage it; one source's managers, or everyone's when ``source_id`` is None)."""

    __tablename__ = "chats_canned_responses"
    __table_args__ = (
        # The picker reads one manager's own replies and the shared ones, by shortcut.
        Index("ix_chats_canned_responses_owner_shortcut", "owner_id", "shortcut"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_sources.id", ondelete="CASCADE")
    )
    # A BCP 47 tag ("uk", "pt-br") or None: any language.
    language: Mapped[str | None] = mapped_column(String(35))
    # Letters, digits, "-" and "_": what follows "/" in the composer.
    shortcut: Mapped[str] = mapped_column(String(32))
    # Capped by services.canned.responses (TEXT_MAX), with {{ variables }} left in.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
