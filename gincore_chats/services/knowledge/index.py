"""Search columns and term statistics, kept current by every write to an entry.

Each phrasing stores its normalised text (trigram matching) and its stems; on PostgreSQL also a
``tsvector`` of the stems under the ``simple`` configuration. ``simple`` is the right
configuration here because the stems are already language-specific (Snowball per language,
our own stripper for Ukrainian, which PostgreSQL lacks): any other configuration would stem
them a second time, in one language for all. The same tokens feed the scorer, so the database
never narrows away what the scorer would have liked.

``chats_kb_terms`` counts, per language, in how many entries each stem occurs: retrieval weighs
rare words above common ones with it. Updates lock term rows in sorted order, so concurrent
writers never deadlock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...knowledge.text import normalize, primary, stem_string
from ...models import KnowledgeEntry, KnowledgePhrasing, KnowledgeTerm
from ...state import ChatsState

_TRGM_KEY = "kb_trigram"


def dialect(state: ChatsState) -> str:
    return str(state.session.get_bind().dialect.name)


def is_postgresql(state: ChatsState) -> bool:
    return dialect(state) == "postgresql"


def trigram_available(state: ChatsState) -> bool:
    """Whether pg_trgm is installed (checked once per process and engine)."""
    if not is_postgresql(state):
        return False
    engine = state.session.get_bind()
    cache: dict[Any, bool] = state.extras.setdefault(_TRGM_KEY, {})
    key = str(engine.url)
    if key not in cache:
        found = state.session.execute(
            text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        ).scalar()
        cache[key] = bool(found)
    return cache[key]


def tsvector(value: Any) -> Any:
    return func.to_tsvector(literal_column("'simple'::regconfig"), value)


def _refresh_phrasing(state: ChatsState, phrasing: KnowledgePhrasing, language: str) -> None:
    phrasing.normalized = normalize(phrasing.text)[:500]
    phrasing.stems = stem_string(phrasing.text, language)
    phrasing.search_vector = tsvector(phrasing.stems) if is_postgresql(state) else None


def entry_terms(entry: KnowledgeEntry) -> set[str]:
    found: set[str] = set()
    for phrasing in entry.phrasings:
        found.update(phrasing.stems.split())
    found.update(entry.answer_stems.split())
    return {t[:64] for t in found if t}


def refresh(state: ChatsState, entry: KnowledgeEntry, old_language: str | None = None) -> None:
    """Recompute an entry's search columns and its share of the term statistics."""
    language = primary(entry.language)
    for phrasing in entry.phrasings:
        _refresh_phrasing(state, phrasing, language)
    entry.answer_stems = stem_string(entry.answer, language)
    entry.answer_vector = tsvector(entry.answer_stems) if is_postgresql(state) else None
    before = set(entry.terms.split()) if entry.terms else set()
    after = entry_terms(entry)
    previous = old_language or entry.language
    if previous != entry.language:
        _adjust(state, previous, before, -1)
        _adjust(state, entry.language, after, +1)
    else:
        _adjust(state, entry.language, before - after, -1)
        _adjust(state, entry.language, after - before, +1)
    entry.terms = " ".join(sorted(after))


def forget(state: ChatsState, entry: KnowledgeEntry) -> None:
    """Before an entry is deleted: take its terms out of the statistics."""
    _adjust(state, entry.language, set(entry.terms.split()) if entry.terms else set(), -1)
    entry.terms = ""


def _adjust(state: ChatsState, language: str, terms: Iterable[str], delta: int) -> None:
    ordered = sorted(set(terms))
    if not ordered:
        return
    if delta < 0:
        for chunk in _chunks(ordered):
            state.session.execute(
                update(KnowledgeTerm)
                .where(KnowledgeTerm.language == language, KnowledgeTerm.term.in_(chunk))
                .values(df=KnowledgeTerm.df + delta)
            )
        return
    insert = pg_insert if is_postgresql(state) else sqlite_insert
    for chunk in _chunks(ordered):
        stmt = insert(KnowledgeTerm).values(
            [{"language": language, "term": t, "df": delta} for t in chunk]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[KnowledgeTerm.language, KnowledgeTerm.term],
            set_={"df": KnowledgeTerm.df + stmt.excluded.df},
        )
        state.session.execute(stmt)


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def document_frequencies(state: ChatsState, language: str, terms: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(terms))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        rows = state.session.execute(
            select(KnowledgeTerm.term, KnowledgeTerm.df).where(
                KnowledgeTerm.language == language, KnowledgeTerm.term.in_(chunk)
            )
        )
        found.update({term: int(df) for term, df in rows})
    return found


#: Seconds an entry count is reused (it only scales the word weights).
COUNT_TTL = 30.0


def entry_count(state: ChatsState, language: str) -> int:
    cache: dict[str, tuple[float, int]] = state.extras.setdefault("kb_entry_counts", {})
    now = time.monotonic()
    hit = cache.get(language)
    if hit is not None and now - hit[0] < COUNT_TTL:
        return hit[1]
    count = _count(state, language)
    # Small bases are counted every time (cheap, and a new entry must count at once).
    if count >= 1000:
        cache[language] = (now, count)
    return count


def _count(state: ChatsState, language: str) -> int:
    return int(
        state.session.scalar(
            select(func.count(KnowledgeEntry.id)).where(KnowledgeEntry.language == language)
        )
        or 0
    )


def do_rebuild(state: ChatsState) -> int:
    """Recompute every search column and the statistics from scratch (after an upgrade of
    the stemmer, or to repair). Returns the number of entries."""
    state.session.execute(delete(KnowledgeTerm))
    count = 0
    for entry in state.session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)):
        entry.terms = ""
        refresh(state, entry)
        count += 1
    return count
