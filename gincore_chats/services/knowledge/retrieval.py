"""Finding the entries that answer a question.

:func:`search` is the API the console, the widget and the AI use::

    matches = retrieval.search(state, text=question, language="uk", source_id=conv.source_id)
    grounded = [m for m in matches if m.grounded]

It returns published entries in scope of the source, best first. The database narrows the
candidates (PostgreSQL: full-text search on the stems, with prefixes for typos, plus pg_trgm
similarity on the normalised text when the extension is installed; SQLite: every entry of the
language, fine for a demo's size), and :mod:`gincore_chats.knowledge.scoring` ranks them.

Hybrid retrieval: pass ``embedding=embed_query(state, text)`` and the candidates are re-ranked
with the cosine similarity of the entries' embeddings as well. :func:`embed_query` calls the
provider: call it before opening a transaction (read, commit, call, store), never inside one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy import text as sql_text

from ...ai import ProviderError, client_for
from ...knowledge import language as lang_detect
from ...knowledge.scoring import Document, rank
from ...knowledge.text import primary, stems
from ...models import EntryStatus, KnowledgeEntry, KnowledgePhrasing
from ...state import ChatsState
from . import index
from .entries import in_scope
from .settings import load as load_settings

log = logging.getLogger(__name__)

#: How many entries the database hands the scorer.
POOL = 60
#: Shortest prefix used for typo-tolerant full-text matching.
PREFIX = 4


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


@dataclass(frozen=True)
class _Row:
    id: int
    question: str
    answer: str
    language: str


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


#: Known stems put into the full-text query at most: the rare ones (in at most RARE of the
#: entries, or RARE_COUNT), else the two rarest.
NARROW_TERMS = 4
RARE = 0.05
RARE_COUNT = 50
#: Known stems tried in place of one unknown word.
RESPELLINGS = 3


def _respell(state: ChatsState, language: str, unknown: Sequence[str]) -> list[str]:
    """Known stems spelt like words the base does not know (typos), by trigram similarity,
    in one query for all of them."""
    wanted = [t for t in unknown if len(t) >= PREFIX][:6]
    if not wanted or not index.trigram_available(state):
        return []
    rows = state.session.execute(
        sql_text(
            "SELECT k.term FROM unnest(CAST(:words AS text[])) AS w(word) CROSS JOIN LATERAL ("
            " SELECT term FROM chats_kb_terms"
            " WHERE language = :language AND df > 0 AND term % w.word"
            " ORDER BY similarity(term, w.word) DESC LIMIT :per_word) AS k"
        ),
        {"words": wanted, "language": language, "per_word": RESPELLINGS},
    )
    return list(dict.fromkeys(rows.scalars()))


def _tsquery(
    terms: Sequence[str], df: dict[str, int], total: int, respelt: Sequence[str] = ()
) -> str:
    """The rarest known stems as they are; unknown ones (typos?) also as prefixes, and the
    known stems spelt like them."""
    known = sorted((t for t in terms if df.get(t)), key=lambda t: (df[t], t))
    rare = [t for t in known if df[t] <= max(RARE_COUNT, RARE * total)]
    known = (rare or known[:2])[:NARROW_TERMS]
    parts = []
    for t in [*known, *respelt]:
        parts.append(f"'{t}'")
    for t in terms:
        if df.get(t):
            continue
        safe = "".join(c for c in t if c.isalnum())
        if not safe:
            continue
        parts.append(f"'{safe}'")
        if len(safe) > PREFIX:
            parts.append(f"'{safe[: max(PREFIX, len(safe) - 2)]}':*")
    return " | ".join(dict.fromkeys(p for p in parts if "''" not in p))


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


def _narrow(
    state: ChatsState,
    text: str,
    terms: list[str],
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
    df: dict[str, int],
    total: int,
) -> list[int]:
    """Entry ids worth scoring, most promising first."""
    if not index.is_postgresql(state):
        query = _base_filter(select(KnowledgeEntry.id), language, statuses, source_id, exclude)
        return list(state.session.scalars(query.order_by(KnowledgeEntry.id)))
    narrowing = list(terms)
    respelt = _respell(state, language, [t for t in narrowing if not df.get(t)])
    tsq_text = _tsquery(narrowing, df, total, respelt)
    scores: dict[int, float] = {}
    if tsq_text:
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), tsq_text)
        phr = _base_filter(
            select(
                KnowledgePhrasing.entry_id,
                func.max(func.ts_rank(KnowledgePhrasing.search_vector, tsq)).label("r"),
            ).join(KnowledgeEntry, KnowledgeEntry.id == KnowledgePhrasing.entry_id),
            language,
            statuses,
            source_id,
            exclude,
        ).where(KnowledgePhrasing.search_vector.op("@@")(tsq))
        phr = phr.group_by(KnowledgePhrasing.entry_id).order_by(literal_column("r").desc())
        for entry_id, r in state.session.execute(phr.limit(POOL)):
            scores[entry_id] = float(r)
        ans = _base_filter(
            select(KnowledgeEntry.id, func.ts_rank(KnowledgeEntry.answer_vector, tsq).label("r")),
            language,
            statuses,
            source_id,
            exclude,
        ).where(KnowledgeEntry.answer_vector.op("@@")(tsq))
        for entry_id, r in state.session.execute(
            ans.order_by(literal_column("r").desc()).limit(POOL // 3)
        ):
            scores[entry_id] = max(scores.get(entry_id, 0.0), 0.5 * float(r))
    ordered = sorted(scores, key=lambda k: -scores[k])
    return ordered[:POOL]


def _score(
    state: ChatsState,
    text: str,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int] = (),
) -> list[tuple[_Row, float]]:
    terms = list(dict.fromkeys(stems(text, language)))
    if not terms:
        return []
    total = index.entry_count(state, language)
    if not total:
        return []
    query_df = index.document_frequencies(state, language, terms)
    ids = _narrow(state, text, terms, language, statuses, source_id, exclude, query_df, total)
    if not ids:
        return []
    rows = {
        r.id: _Row(r.id, r.question, r.answer, r.language)
        for r in state.session.execute(
            select(
                KnowledgeEntry.id,
                KnowledgeEntry.question,
                KnowledgeEntry.answer,
                KnowledgeEntry.language,
            ).where(KnowledgeEntry.id.in_(ids))
        )
    }
    answer_stems = dict(
        state.session.execute(
            select(KnowledgeEntry.id, KnowledgeEntry.answer_stems).where(KnowledgeEntry.id.in_(ids))
        ).all()
    )
    phrasings: dict[int, list[list[str]]] = {i: [] for i in ids}
    for entry_id, stem_text in state.session.execute(
        select(KnowledgePhrasing.entry_id, KnowledgePhrasing.stems).where(
            KnowledgePhrasing.entry_id.in_(ids)
        )
    ):
        phrasings[entry_id].append(stem_text.split())
    docs = [
        Document(i, phrasings[i], (answer_stems.get(i) or "").split()) for i in ids if i in rows
    ]
    vocabulary = set(terms)
    for doc in docs:
        for p in doc.phrasings:
            vocabulary.update(p)
    df = {**query_df, **index.document_frequencies(state, language, vocabulary - set(query_df))}
    return [(rows[doc.key], s) for doc, s in rank(terms, docs, df, total) if s > 0]


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
    settings = load_settings(state)
    found: list[tuple[_Row, float]] = []
    for lang in _languages(state, text or "", language):
        found.extend(_score(state, text or "", lang, (EntryStatus.PUBLISHED,), source_id))
    found.sort(key=lambda pair: (-pair[1], pair[0].id))
    cosines: dict[int, float] = {}
    if embedding is not None and found:
        query_vector = np.asarray(embedding, dtype="<f4")
        pool = [row.id for row, _ in found]
        for entry_id, blob in state.session.execute(
            select(KnowledgeEntry.id, KnowledgeEntry.embedding).where(
                KnowledgeEntry.id.in_(pool), KnowledgeEntry.embedding.is_not(None)
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
