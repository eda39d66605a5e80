"""The knowledge base: entries (a question and its answer), their phrasings, where they were
asked, the per-language term statistics retrieval weighs words with, and extraction records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, UTCDateTime, utcnow

#: The search columns: PostgreSQL's tsvector, plain text (unused) elsewhere.
SearchVector = Text().with_variant(TSVECTOR(), "postgresql")
#: GIN indexes of the knowledge base write each row into the index at once. With PostgreSQL's
#: default ``fastupdate`` new rows wait in a pending list that every search scans linearly
#: until a vacuum merges it: after an import of 10,000 entries a search read ~240 pages of it
#: and took 10-20 ms per query instead of 0.1 ms. The base is read far more than written.
GIN_OPTIONS: dict[str, Any] = {"postgresql_using": "gin", "postgresql_with": {"fastupdate": "off"}}
BigRef = BigInteger().with_variant(Integer(), "sqlite")


class EntryStatus:
    CANDIDATE = "candidate"  # proposed (extracted or imported), waiting for a person
    PUBLISHED = "published"  # shown to managers, visitors and the AI
    ARCHIVED = "archived"  # rejected or retired; still absorbs duplicates
    ALL = (CANDIDATE, PUBLISHED, ARCHIVED)


class EntryOrigin:
    MANUAL = "manual"
    EXTRACTED = "extracted"
    IMPORTED = "imported"
    ALL = (MANUAL, EXTRACTED, IMPORTED)


class KnowledgeEntry(Base):
    __tablename__ = "chats_kb_entries"
    __table_args__ = (
        Index("ix_chats_kb_entries_language_status", "language", "status"),
        Index("ix_chats_kb_entries_answer_search", "answer_vector", **GIN_OPTIONS),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Primary language subtag: "en", "uk", "pt".
    language: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=EntryStatus.CANDIDATE)
    origin: Mapped[str] = mapped_column(String(12), default=EntryOrigin.MANUAL)
    # How an extracted entry was written: "extractive" (pairing) or "provider" (LLM rewrite).
    method: Mapped[str | None] = mapped_column(String(12))
    # False: only the sources in chats_kb_entry_sources.
    all_sources: Mapped[bool] = mapped_column(Boolean, default=True)
    asked_count: Mapped[int] = mapped_column(Integer, default=0)
    last_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    # Search: the answer's stems and tsvector; the entry's distinct terms (what the term
    # statistics count for it).
    answer_stems: Mapped[str] = mapped_column(Text, default="")
    answer_vector: Mapped[Any] = mapped_column(SearchVector, nullable=True)
    terms: Mapped[str] = mapped_column(Text, default="")
    # The provider's embedding of the question (float32 little-endian), and what it embedded.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    embedding_key: Mapped[str | None] = mapped_column(String(64))

    phrasings: Mapped[list[KnowledgePhrasing]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="(KnowledgePhrasing.canonical.desc(), KnowledgePhrasing.id)",
        lazy="selectin",
    )
    scope: Mapped[list[KnowledgeEntrySource]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def source_ids(self) -> list[int]:
        return sorted(s.source_id for s in self.scope)


class KnowledgePhrasing(Base):
    """One way of asking an entry's question; the canonical one is the entry's question."""

    __tablename__ = "chats_kb_phrasings"
    __table_args__ = (
        UniqueConstraint("entry_id", "normalized"),
        Index("ix_chats_kb_phrasings_search", "search_vector", **GIN_OPTIONS),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("chats_kb_entries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500))
    stems: Mapped[str] = mapped_column(Text, default="")
    search_vector: Mapped[Any] = mapped_column(SearchVector, nullable=True)
    canonical: Mapped[bool] = mapped_column(Boolean, default=False)
    asked_count: Mapped[int] = mapped_column(Integer, default=0)
    # The conversation it was extracted from (kept when that conversation is deleted).
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[KnowledgeEntry] = relationship(back_populates="phrasings")


class KnowledgeEntrySource(Base):
    __tablename__ = "chats_kb_entry_sources"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("chats_kb_entries.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("chats_sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SightingKind:
    EXTRACTED = "extracted"  # the question was found in the conversation
    USED = "used"  # a manager inserted the answer, or the visitor opened it in the widget
    ALL = (EXTRACTED, USED)


class KnowledgeSighting(Base):
    """A conversation where an entry's question was asked: "asked N times" counts these."""

    __tablename__ = "chats_kb_sightings"
    __table_args__ = (UniqueConstraint("entry_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("chats_kb_entries.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(BigRef)
    kind: Mapped[str] = mapped_column(String(12), default=SightingKind.EXTRACTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeTerm(Base):
    """In how many entries of a language a stem occurs (retrieval's word weights)."""

    __tablename__ = "chats_kb_terms"

    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    df: Mapped[int] = mapped_column(Integer, default=0)


class KnowledgeExtraction(Base):
    """How far a conversation has been mined for candidates (a re-run starts after it)."""

    __tablename__ = "chats_kb_extractions"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("chats_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    last_message_id: Mapped[int] = mapped_column(BigRef, default=0)
    pairs: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str] = mapped_column(String(12), default="extractive")
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeRun(Base):
    """One batch extraction over history (``flask chats kb extract``)."""

    __tablename__ = "chats_kb_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats_sources.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(12), default="running")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


def _trigram_index_wanted(ddl: Any, target: Any, bind: Connection, **kw: Any) -> bool:
    return bind.dialect.name == "postgresql" and bool(
        bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
    )


# Typo-tolerant matching on PostgreSQL uses pg_trgm when the database has it: a misspelt word
# is looked up among the known stems (creating an extension needs privileges a host may not
# grant; search then falls back to prefixes, see retrieval).
Index(
    "ix_chats_kb_terms_trigram",
    KnowledgeTerm.term,
    postgresql_ops={"term": "gin_trgm_ops"},
    **GIN_OPTIONS,
).ddl_if(callable_=_trigram_index_wanted)  # type: ignore[arg-type]


@event.listens_for(KnowledgeTerm.__table__, "before_create")
def _create_trigram_extension(target: Any, bind: Connection, **kw: Any) -> None:
    """``metadata.create_all`` (tests, hosts without migrations) tries to enable pg_trgm."""
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception:
        return
