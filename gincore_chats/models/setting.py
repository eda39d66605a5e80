"""App-level settings edited in the settings pages (corporate mailbox, VAPID keys ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JsonType, UTCDateTime, utcnow


class Setting(Base):
    __tablename__ = "chats_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Secrets inside (SMTP password, VAPID private key) are stored encrypted by the service.
    value: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
