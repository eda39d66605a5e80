"""Finding the entries that answer a question.

:func:`search` is the API the console, the widget and the AI use::

    matches = retrieval.search(state, text=question, language="uk", source_id=conv.source_id)
    grounded = [m for m in matches if m.grounded]

It returns published entries in scope of the source, best first. The database narrows the
candidates (PostgreSQL: full-text search on the stems through the GIN indexes, with prefixes
for typos and, when pg_trgm is installed, the known stems spelt like an unknown word; SQLite:
every entry of the language, fine for a demo's size), and
:mod:`gincore_chats.knowledge.scoring` ranks them in Python.

On PostgreSQL a search is one statement (a base under 1,000 entries adds a count): it picks
the full-text query from the term statistics, and returns the candidate pool with everything
the scorer needs (phrasings, answer stems, the statistics of their words) and the settings.
On a busy server a round trip costs more than the work in it, so nothing is fetched entry by
entry (bench/kb_retrieval.py; docs/knowledge_base.rst has the figures).

Hybrid retrieval: pass ``embedding=embed_query(state, text)`` and the candidates are re-ranked
with the cosine similarity of the entries' embeddings as well. :func:`embed_query` calls the
provider: call it before opening a transaction (read, commit, call, store), never inside one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Select,
    Text,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY

from ...ai import ProviderError, client_for
from ...knowledge import language as lang_detect
from ...knowledge.scoring import Document, rank
from ...knowledge.text import primary, stems
from ...models import EntryStatus, KnowledgeEntry, KnowledgePhrasing, KnowledgeTerm, Setting
from ...state import ChatsState
from . import index
from . import settings as kb_settings
from .entries import in_scope

log = logging.getLogger(__name__)

#: How many entries the database hands the scorer.
POOL = 60
#: ts_rank's normalisation for the pool: 2 divides by the length, so among entries that match
#: only a common word the short phrasings come first, as the scorer's Dice would rank them
#: (measured: recall@3 at 10,000 entries 0.871 -> 0.877; no change to the labelled set).
RANK_NORMALIZATION = 2
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


#: The stored settings value read with the candidates; _NOT_READ when no statement ran.
_Stored = dict[str, Any] | None
_NOT_READ: _Stored = None


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
#: entries, or RARE_COUNT), else (nothing rare, respellings included) both of the two rarest.
NARROW_TERMS = 4
RARE = 0.05
RARE_COUNT = 50
#: Known stems tried in place of one unknown word, and how many unknown words get them.
RESPELLINGS = 3
RESPELT_WORDS = 6


def _plan(trigram: bool) -> Any:
    """The full-text query, built in the database from the term statistics (so a search is
    one round trip): the rarest known stems (those in at most ``:rare_cut`` entries, at most
    NARROW_TERMS of them); every unknown one (a typo?) as it is and as a prefix; with pg_trgm,
    the known stems spelt like the first unknown ones, when they are rare too. Common stems
    (known or respelt) are read only when nothing rare is there, and then the phrasings with
    both of the two rarest (``a & b``: "не спрацював купон" reads 101 phrasings, not 1,725): like
    a search engine's stop words, each matches hundreds of phrasings, which cost the time (at
    10,000 entries, the slowest tenth of the searches spent 4.5 ms and more in the database;
    afterwards 1 ms) and bring the pool entries that share a word like "not" or "order" with
    the question and crowd out the right one (recall@3 0.877 -> 0.887). Also the query stems'
    document frequencies, which the scorer weighs them with."""
    respelt = (
        " SELECT k.term, k.df FROM (SELECT word FROM unknown WHERE length(word) >= :prefix"
        "  ORDER BY n LIMIT :respelt_words) AS u"
        " CROSS JOIN LATERAL (SELECT term, df FROM chats_kb_terms"
        "  WHERE language = :language AND df > 0 AND term % u.word"
        "  ORDER BY similarity(term, u.word) DESC, term LIMIT :per_word) AS k"
        if trigram
        else " SELECT NULL::text, NULL::integer WHERE false"
    )
    return (
        sql_text(
            "WITH words AS ("
            " SELECT w.word, w.n, t.df"
            " FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS w(word, n)"
            " LEFT JOIN chats_kb_terms AS t ON t.language = :language AND t.term = w.word),"
            " known AS (SELECT word, df FROM words WHERE df > 0),"
            " rare AS (SELECT word FROM known WHERE df <= :rare_cut"
            "  ORDER BY df, word LIMIT :narrow),"
            " unknown AS (SELECT word, n FROM words WHERE coalesce(df, 0) = 0),"
            f" respelt(word, df) AS ({respelt}),"
            " selective AS (SELECT word FROM rare"
            "  UNION SELECT word FROM respelt WHERE df <= :rare_cut),"
            " common AS (SELECT word FROM"
            "  (SELECT word, df FROM known UNION SELECT word, df FROM respelt"
            "   ORDER BY df, word LIMIT 2) AS two"
            "  WHERE NOT EXISTS (SELECT 1 FROM selective)),"
            " parts(part) AS ("
            "  SELECT quote_literal(word) FROM selective"
            "  UNION SELECT string_agg(quote_literal(word), ' & ') FROM common"
            "   HAVING count(*) > 0"
            "  UNION SELECT quote_literal(word) FROM unknown"
            "  UNION SELECT quote_literal(left(word, greatest(:prefix, length(word) - 2))) || ':*'"
            "   FROM unknown WHERE length(word) > :prefix)"
            " SELECT (SELECT string_agg(part, ' | ') FROM parts) AS tsq,"
            " (SELECT json_object_agg(word, df) FROM words WHERE df IS NOT NULL) AS query_df"
        )
        .columns(column("tsq", Text), column("query_df", JSON))
        .cte("plan")
    )


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


def _pool_filter(query: Select, scoped: bool, excluding: bool) -> Select:
    """:func:`_base_filter` with bound parameters, for a statement built once."""
    query = query.where(
        KnowledgeEntry.language == bindparam("kb_language"),
        KnowledgeEntry.status.in_(bindparam("kb_statuses", expanding=True)),
    )
    if scoped:
        query = query.where(in_scope(bindparam("kb_source_id")))  # type: ignore[arg-type]
    if excluding:
        query = query.where(KnowledgeEntry.id.notin_(bindparam("kb_exclude", expanding=True)))
    return query


@functools.lru_cache(maxsize=16)
def _candidates_statement(trigram: bool, scoped: bool, excluding: bool) -> Select:
    """The candidates' statement, built once per shape: building it costs more Python time
    than running it. Parameters: :func:`_plan`'s, and ``kb_language``, ``kb_statuses``,
    ``kb_source_id`` (when ``scoped``), ``kb_exclude`` (when ``excluding``)."""
    plan = _plan(trigram)
    tsq = func.to_tsquery(
        literal_column("'simple'::regconfig"), select(plan.c.tsq).scalar_subquery()
    )
    phrasing_hits = (
        _pool_filter(
            select(
                KnowledgePhrasing.entry_id.label("id"),
                func.max(
                    func.ts_rank(KnowledgePhrasing.search_vector, tsq, RANK_NORMALIZATION)
                ).label("r"),
            ).join(KnowledgeEntry, KnowledgeEntry.id == KnowledgePhrasing.entry_id),
            scoped,
            excluding,
        )
        .where(KnowledgePhrasing.search_vector.op("@@")(tsq))
        .group_by(KnowledgePhrasing.entry_id)
        .order_by(literal_column("r").desc())
        .limit(POOL)
        .subquery()
    )
    answer_hits = (
        _pool_filter(
            select(
                KnowledgeEntry.id.label("id"),
                (0.5 * func.ts_rank(KnowledgeEntry.answer_vector, tsq, RANK_NORMALIZATION)).label(
                    "r"
                ),
            ),
            scoped,
            excluding,
        )
        .where(KnowledgeEntry.answer_vector.op("@@")(tsq))
        .order_by(literal_column("r").desc())
        .limit(POOL // 3)
        .subquery()
    )
    hits = union_all(
        select(phrasing_hits.c.id, phrasing_hits.c.r), select(answer_hits.c.id, answer_hits.c.r)
    ).subquery("hits")
    pool = (
        select(hits.c.id, func.max(hits.c.r).label("r"))
        .group_by(hits.c.id)
        .order_by(literal_column("r").desc(), hits.c.id)
        .limit(POOL)
        .cte("pool")
    )
    phrasing = KnowledgePhrasing.__table__.alias("phrasing")
    phrasing_stems = (
        select(func.array_agg(phrasing.c.stems))
        .where(phrasing.c.entry_id == KnowledgeEntry.id)
        .scalar_subquery()
    )
    # entry.terms holds the distinct stems of its phrasings and answer (index.entry_terms).
    words_df = (
        select(func.json_object_agg(KnowledgeTerm.term, KnowledgeTerm.df, type_=JSON))
        .where(
            KnowledgeTerm.language == KnowledgeEntry.language,
            KnowledgeTerm.term
            == any_(func.string_to_array(KnowledgeEntry.terms, " ", type_=ARRAY(Text))),
        )
        .scalar_subquery()
    )
    query = (
        select(
            KnowledgeEntry.id,
            KnowledgeEntry.question,
            KnowledgeEntry.answer,
            KnowledgeEntry.language,
            KnowledgeEntry.answer_stems,
            phrasing_stems.label("phrasings"),
            words_df.label("words_df"),
            plan.c.query_df,
            select(Setting.value).where(Setting.key == kb_settings.KEY).scalar_subquery(),
        )
        .join(pool, pool.c.id == KnowledgeEntry.id)
        .join(plan, literal_column("true"))
        .order_by(pool.c.r.desc(), KnowledgeEntry.id)
    )
    return query


def _candidates(
    state: ChatsState,
    terms: Sequence[str],
    total: int,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
) -> tuple[list[_Row], list[Document], dict[str, int], _Stored]:
    """PostgreSQL: the entries worth scoring (at most POOL, by full-text rank on phrasings,
    answers at half weight) with their phrasings' and answer's stems and the statistics of
    every word they and the question use, in one statement. The GIN indexes find the
    matches; nothing outside the pool leaves the database. The knowledge-base settings ride
    along (grounding thresholds), which saves :func:`search` its own round trip."""
    # Stems are letters and digits (text.words); anything else could not be a tsquery lexeme.
    words = [t for t in terms if t.isalnum()]
    if not words:
        return [], [], {}, _NOT_READ
    excluded = list(exclude)
    query = _candidates_statement(
        index.trigram_available(state), source_id is not None, bool(excluded)
    )
    params = {
        "terms": words,
        "language": language,
        "rare_cut": max(RARE_COUNT, RARE * total),
        "narrow": NARROW_TERMS,
        "prefix": PREFIX,
        "respelt_words": RESPELT_WORDS,
        "per_word": RESPELLINGS,
        "kb_language": language,
        "kb_statuses": list(statuses),
    }
    if source_id is not None:
        params["kb_source_id"] = source_id
    if excluded:
        params["kb_exclude"] = excluded
    rows, docs, df = [], [], {}
    stored: _Stored = _NOT_READ
    for r in state.session.execute(query, params):
        stored = r[-1] or {}
        rows.append(_Row(r.id, r.question, r.answer, r.language))
        docs.append(
            Document(r.id, [p.split() for p in r.phrasings or ()], (r.answer_stems or "").split())
        )
        df.update({term: int(count) for term, count in (r.words_df or {}).items()})
        # The question's own stems win (the same figures; also those no candidate uses).
        df.update({term: int(count) for term, count in (r.query_df or {}).items()})
    return rows, docs, df, stored


def _all_of_language(
    state: ChatsState,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
) -> tuple[list[_Row], list[Document]]:
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
    rows = [_Row(r.id, r.question, r.answer, r.language) for r in found]
    docs = [Document(r.id, phrasings[r.id], (r.answer_stems or "").split()) for r in found]
    return rows, docs


def _score(
    state: ChatsState,
    text: str,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int] = (),
) -> list[tuple[_Row, float]]:
    return _scored(state, text, language, statuses, source_id, exclude)[0]


def _scored(
    state: ChatsState,
    text: str,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int] = (),
) -> tuple[list[tuple[_Row, float]], _Stored]:
    """Entries with their lexical scores, best first, and the stored settings when the
    candidates' statement read them."""
    terms = list(dict.fromkeys(stems(text, language)))
    if not terms:
        return [], _NOT_READ
    total = index.entry_count(state, language)
    if not total:
        return [], _NOT_READ
    stored = _NOT_READ
    if index.is_postgresql(state):
        rows, docs, df, stored = _candidates(
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
    found: list[tuple[_Row, float]] = []
    stored: _Stored = _NOT_READ
    for lang in _languages(state, text or "", language):
        scored, read = _scored(state, text or "", lang, (EntryStatus.PUBLISHED,), source_id)
        found.extend(scored)
        stored = stored if read is _NOT_READ else read
    if not found:
        return []
    # PostgreSQL read the settings with the candidates; SQLite reads them here.
    settings = (
        kb_settings.from_stored(stored) if stored is not _NOT_READ else kb_settings.load(state)
    )
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
