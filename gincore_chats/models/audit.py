"""The audit log: who revealed, set or rotated what (secrets of a source, ...), and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JsonType, UTCDateTime, utcnow


class AuditEntry(Base):
    """One admin action. Written only by ``services.audit_log``; never holds a secret's value."""

    __tablename__ = "chats_audit_log"
    __table_args__ = (Index("ix_chats_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The host user's id as a string; None for the command line (no logged-in user).
    manager_id: Mapped[str | None] = mapped_column(String(64))
    # "source.secret.revealed", "source.secret.rotated" ...: dotted, past tense.
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
