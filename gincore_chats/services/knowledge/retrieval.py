"""Finding the entries that answer a question.

:func:`search` is the API the console, the widget and the AI use::

    matches = retrieval.search(state, text=question, language="uk", source_id=conv.source_id)
    grounded = [m for m in matches if m.grounded]

It returns published entries in scope of the source, best first. The database narrows the
candidates (PostgreSQL: full-text search on the stems through the GIN indexes, with prefixes
for typos and, when pg_trgm is installed, the known stems spelt like an unknown word; SQLite:
every entry of the language, fine for a demo's size), and
:mod:`gincore_chats.knowledge.scoring` ranks them in Python.

On PostgreSQL a search is one statement (a base under 1,000 entries adds a count), built in
:mod:`.pool`: it picks the full-text query from the term statistics, and returns the
candidate pool with everything the scorer needs and the settings.

Hybrid retrieval: pass ``embedding=embed_query(state, text)`` and the candidates are re-ranked
with the cosine similarity of the entries' embeddings as well. :func:`embed_query` calls the
provider: call it before opening a transaction (read, commit, call, store), never inside one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    Select,
    select,
)

from ...ai import ProviderError, client_for
from ...knowledge import language as lang_detect
from ...knowledge.scoring import Document, rank
from ...knowledge.text import primary, stems
from ...models import EntryStatus, KnowledgeEntry, KnowledgePhrasing
from ...state import ChatsState
from . import index, pool
from . import settings as kb_settings
from .entries import in_scope
from .pool import NOT_READ, Row, Stored

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    entry_id: int
    question: str
    answer: str
    language: str
    #: In [0, 1]; lexical, or the mean of lexical and cosine similarity when hybrid.
    score: float
    #: The score passed the configured threshold: the entry answers the question.
    grounded: bool
    lexical: float = 0.0
    cosine: float | None = None


def embed_query(state: ChatsState, text: str) -> list[float] | None:
    """The provider's embedding of ``text``, or None (no embedding model, or it failed).

    A network call: never inside an open transaction."""
    provider = state.config.ai
    if provider is None or not provider.can_embed or not text.strip():
        return None
    try:
        return client_for(provider).embed([text[:2000]]).vectors[0]
    except ProviderError as exc:
        log.warning("gincore_chats: query embedding failed (%s): %s", exc.kind, exc)
        return None


def to_blob(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return 0.0
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


def _base_filter(
    query: Select,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
) -> Select:
    query = query.where(
        KnowledgeEntry.language == language, KnowledgeEntry.status.in_(list(statuses))
    )
    scope = in_scope(source_id)
    if scope is not True:
        query = query.where(scope)  # type: ignore[arg-type]
    excluded = list(exclude)
    if excluded:
        query = query.where(KnowledgeEntry.id.notin_(excluded))
    return query


def _all_of_language(
    state: ChatsState,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
) -> tuple[list[Row], list[Document]]:
    """SQLite (the demo): every entry of the language, scored in Python."""
    query = _base_filter(
        select(
            KnowledgeEntry.id,
            KnowledgeEntry.question,
            KnowledgeEntry.answer,
            KnowledgeEntry.language,
            KnowledgeEntry.answer_stems,
        ),
        language,
        statuses,
        source_id,
        exclude,
    ).order_by(KnowledgeEntry.id)
    found = state.session.execute(query).all()
    phrasings: dict[int, list[list[str]]] = {r.id: [] for r in found}
    if phrasings:
        for entry_id, stem_text in state.session.execute(
            select(KnowledgePhrasing.entry_id, KnowledgePhrasing.stems).where(
                KnowledgePhrasing.entry_id.in_(list(phrasings))
            )
        ):
            phrasings[entry_id].append(stem_text.split())
    rows = [Row(r.id, r.question, r.answer, r.language) for r in found]
    docs = [Document(r.id, phrasings[r.id], (r.answer_stems or "").split()) for r in found]
    return rows, docs


def _score(
    state: ChatsState,
    text: str,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int] = (),
) -> list[tuple[Row, float]]:
    return _scored(state, text, language, statuses, source_id, exclude)[0]


def _scored(
    state: ChatsState,
    text: str,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int] = (),
) -> tuple[list[tuple[Row, float]], Stored]:
    """Entries with their lexical scores, best first, and the stored settings when the
    candidates' statement read them."""
    terms = list(dict.fromkeys(stems(text, language)))
    if not terms:
        return [], NOT_READ
    total = index.entry_count(state, language)
    if not total:
        return [], NOT_READ
    stored = NOT_READ
    if index.is_postgresql(state):
        rows, docs, df, stored = pool.candidates(
            state, terms, total, language, statuses, source_id, exclude
        )
    else:
        query_df = index.document_frequencies(state, language, terms)
        rows, docs = _all_of_language(state, language, statuses, source_id, exclude)
        vocabulary = {t for doc in docs for p in doc.phrasings for t in p}
        df = {**index.document_frequencies(state, language, vocabulary - set(query_df)), **query_df}
    by_id = {row.id: row for row in rows}
    scored = [(by_id[doc.key], s) for doc, s in rank(terms, docs, df, total) if s > 0]
    return scored, stored


def _languages(state: ChatsState, text: str, language: str | None) -> list[str]:
    if language:
        return [primary(language)]
    found = lang_detect.detect(text)
    if found:
        return [found]
    written = lang_detect.script(text)
    return ["uk", "ru"] if written == "cyrillic" else ["en"]


def search(
    state: ChatsState,
    *,
    text: str,
    language: str | None,
    source_id: int | None,
    limit: int = 3,
    embedding: Sequence[float] | None = None,
) -> list[Match]:
    """Published entries in scope of ``source_id`` that answer ``text``, best first.

    ``language``: the question's language (a primary subtag or a full tag); None detects it.
    ``source_id``: the conversation's source; None searches every published entry.
    ``embedding``: the question's embedding from :func:`embed_query`, for hybrid ranking.
    """
    found: list[tuple[Row, float]] = []
    stored: Stored = NOT_READ
    for lang in _languages(state, text or "", language):
        scored, read = _scored(state, text or "", lang, (EntryStatus.PUBLISHED,), source_id)
        found.extend(scored)
        stored = stored if read is NOT_READ else read
    if not found:
        return []
    # PostgreSQL read the settings with the candidates; SQLite reads them here.
    settings = (
        kb_settings.from_stored(stored) if stored is not NOT_READ else kb_settings.load(state)
    )
    found.sort(key=lambda pair: (-pair[1], pair[0].id))
    cosines: dict[int, float] = {}
    if embedding is not None and found:
        query_vector = np.asarray(embedding, dtype="<f4")
        pooled = [row.id for row, _ in found]
        for entry_id, blob in state.session.execute(
            select(KnowledgeEntry.id, KnowledgeEntry.embedding).where(
                KnowledgeEntry.id.in_(pooled), KnowledgeEntry.embedding.is_not(None)
            )
        ):
            cosines[entry_id] = cosine(query_vector, from_blob(blob))
    matches = []
    for row, lexical in found:
        cos = cosines.get(row.id)
        if cos is None:
            score = lexical
            grounded = lexical >= settings.grounded_threshold
        else:
            score = (lexical + cos) / 2
            grounded = (
                lexical >= settings.grounded_threshold
                or cos >= settings.embedding_grounded_threshold
            )
        matches.append(
            Match(
                entry_id=row.id,
                question=row.question,
                answer=row.answer,
                language=row.language,
                score=round(score, 4),
                grounded=grounded,
                lexical=round(lexical, 4),
                cosine=None if cos is None else round(cos, 4),
            )
        )
    matches.sort(key=lambda m: (-m.score, m.entry_id))
    return matches[: max(1, min(int(limit), 20))]


def nearest(
    state: ChatsState,
    *,
    text: str,
    language: str,
    source_id: int | None,
    statuses: Sequence[str] = EntryStatus.ALL,
    exclude: Iterable[int] = (),
    limit: int = 5,
) -> list[tuple[int, float]]:
    """(entry id, lexical score) of the entries closest to ``text`` in any of ``statuses``:
    duplicate detection and merge suggestions."""
    scored = _score(state, text, primary(language), statuses, source_id, exclude)
    return [(row.id, s) for row, s in scored[:limit]]


def similar_entries(
    state: ChatsState, entry: KnowledgeEntry, limit: int = 10
) -> list[tuple[KnowledgeEntry, float]]:
    """Entries an admin may want to merge ``entry`` into."""
    found = nearest(
        state,
        text=" ".join(p.text for p in entry.phrasings) or entry.question,
        language=entry.language,
        source_id=None,
        exclude=[entry.id],
        limit=limit,
    )
    result = []
    for entry_id, s in found:
        other = state.session.get(KnowledgeEntry, entry_id)
        if other is not None:
            result.append((other, s))
    return result
