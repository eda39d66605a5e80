"""What the library remembers about a host user who works as a manager.

The host's user table stays the host's; this is a cache of the display name, avatar and email
(refreshed whenever the manager uses the console) plus presence, so the widget and lists can show
managers without calling host code for every row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Presence:
    ONLINE = "online"
    INVISIBLE = "invisible"
    OFFLINE = "offline"
    ALL = (ONLINE, INVISIBLE, OFFLINE)


class ManagerProfile(Base):
    __tablename__ = "chats_managers"

    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # Whatever the host's avatar hook returns (a data: URL, a signed CDN link ...).
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # What the manager chose; being connected is tracked separately (realtime presence).
    presence: Mapped[str] = mapped_column(String(12), default=Presence.ONLINE)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The manager's own switch for "unread conversation" emails.
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
