"""Inquiry sources (a website widget or a messenger bot) and the employees assigned to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, JsonType, UTCDateTime, utcnow


class SourceKind:
    WIDGET = "widget"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    VIBER = "viber"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    GENERIC = "generic"
    ALL = (WIDGET, TELEGRAM, WHATSAPP, VIBER, MESSENGER, INSTAGRAM, GENERIC)


class Source(Base):
    __tablename__ = "chats_sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # Public identifier put in the widget snippet / webhook URL; not a secret.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_domains: Mapped[list[str]] = mapped_column(JsonType, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # Platform credentials (tokens, app secret ...) as encrypted JSON; see services.secrets.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded when asked for: most reads of a source (every conversation joins it) never need it.
    employees: Mapped[list[SourceEmployee]] = relationship(
        back_populates="source", cascade="all, delete-orphan"
    )

    @property
    def employee_ids(self) -> set[str]:
        return {e.manager_id for e in self.employees}


class SourceEmployee(Base):
    __tablename__ = "chats_source_employees"
    __table_args__ = (UniqueConstraint("source_id", "manager_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    # The host's user id as a string: the library never assumes int, str or UUID ids.
    manager_id: Mapped[str] = mapped_column(String(64), index=True)

    source: Mapped[Source] = relationship(back_populates="employees")


class WidgetText(Base):
    """An admin's override of one widget text, for one language (per source)."""

    __tablename__ = "chats_widget_texts"
    __table_args__ = (UniqueConstraint("source_id", "language", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    # A BCP 47 tag as the browser sends it, lower-cased: "uk", "pt-br".
    language: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
