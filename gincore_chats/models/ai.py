"""AI replies: per-source settings, the log of provider calls, each conversation's AI state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JsonType, UTCDateTime, utcnow


class AIMode:
    HUMANS = "humans"  # the default: people answer; the console may offer an AI draft
    AI_FIRST = "ai_first"  # the assistant answers and hands off to people
    AI_ONLY = "ai_only"  # the assistant answers everything; managers may still take over
    ALL = (HUMANS, AI_FIRST, AI_ONLY)


class AIStatus:
    ACTIVE = "active"  # the assistant answers the next customer message
    HANDED_OFF = "handed_off"  # handed to people (asked for, no answer, failure, limit)
    STOPPED = "stopped"  # a manager joined or replied
    ALL = (ACTIVE, HANDED_OFF, STOPPED)


class AIOutcome:
    ANSWERED = "answered"
    HANDED_OFF = "handed_off"
    FAILED = "failed"
    DRAFTED = "drafted"
    ALL = (ANSWERED, HANDED_OFF, FAILED, DRAFTED)


class AISettings(Base):
    """One source's AI configuration (no row: humans only)."""

    __tablename__ = "chats_ai_settings"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("chats_sources.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(12), default=AIMode.HUMANS)
    assistant_name: Mapped[str | None] = mapped_column(Text)
    assistant_avatar_url: Mapped[str | None] = mapped_column(Text)
    # {"en": "...", "uk": "..."}: the admin's instruction per customer language.
    instructions: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # What answers may rest on: published knowledge entries in scope, the conversation itself.
    use_knowledge: Mapped[bool] = mapped_column(Boolean, default=True)
    use_conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hand-off rules (AI first): after this many AI answers the customer still writes after,
    # and when no entry grounds an answer.
    max_unresolved_turns: Mapped[int] = mapped_column(Integer, default=3)
    handoff_on_no_answer: Mapped[bool] = mapped_column(Boolean, default=True)
    # Spend per UTC day (in the currency of the prices below); None: no limit.
    daily_limit: Mapped[float | None] = mapped_column(Float)
    price_input_per_million: Mapped[float] = mapped_column(Float, default=0.0)
    price_output_per_million: Mapped[float] = mapped_column(Float, default=0.0)
    # Provider overrides (None: CHATS_AI_*); the key is encrypted like channel secrets.
    base_url: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AICall(Base):
    """One provider call (or a no-provider turn): what it cost and how it ended."""

    __tablename__ = "chats_ai_calls"
    __table_args__ = (Index("ix_chats_ai_calls_source_created", "source_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("chats_sources.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="SET NULL"), index=True
    )
    # The model that answered ("" when no provider was called).
    model: Mapped[str] = mapped_column(Text, default="")
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(12))
    # Why: the hand-off reason or the provider error.
    detail: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AIConversationState(Base):
    """Whether the assistant still answers a conversation (no row: it does, per the mode)."""

    __tablename__ = "chats_ai_states"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(12), default=AIStatus.ACTIVE)
    # AI answers since the hand-back (or the start) that the customer wrote again after.
    unresolved_turns: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
