"""The candidate pool on PostgreSQL: the entries worth scoring, in one statement.

:func:`candidates` picks the full-text query from the term statistics (:func:`_plan`), finds
the matching phrasings and answers through the GIN indexes, and returns at most POOL entries
with everything :mod:`gincore_chats.knowledge.scoring` needs (phrasings, answer stems, the
statistics of their words) and the knowledge-base settings. On a busy server a round trip
costs more than the work in it, so nothing is fetched entry by entry
(bench/kb_retrieval.py; docs/knowledge_base.rst has the figures). SQLite (the demo) does not
come here: :mod:`.retrieval` scores every entry of the language there.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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

from ...knowledge.scoring import Document
from ...models import KnowledgeEntry, KnowledgePhrasing, KnowledgeTerm, Setting
from ...state import ChatsState
from . import index
from . import settings as kb_settings
from .entries import in_scope

#: How many entries the database hands the scorer.
POOL = 60
#: ts_rank's normalisation for the pool: 2 divides by the length, so among entries that match
#: only a common word the short phrasings come first, as the scorer's Dice would rank them
#: (measured: recall@3 at 10,000 entries 0.871 -> 0.877; no change to the labelled set).
RANK_NORMALIZATION = 2
#: Shortest prefix used for typo-tolerant full-text matching.
PREFIX = 4


#: The stored settings value read with the candidates; NOT_READ when no statement ran.
Stored = dict[str, Any] | None
NOT_READ: Stored = None


@dataclass(frozen=True)
class Row:
    id: int
    question: str
    answer: str
    language: str


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


def _pool_filter(query: Select, scoped: bool, excluding: bool) -> Select:
    """:func:`.retrieval._base_filter` with bound parameters, for a statement built once."""
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


def candidates(
    state: ChatsState,
    terms: Sequence[str],
    total: int,
    language: str,
    statuses: Sequence[str],
    source_id: int | None,
    exclude: Iterable[int],
) -> tuple[list[Row], list[Document], dict[str, int], Stored]:
    """PostgreSQL: the entries worth scoring (at most POOL, by full-text rank on phrasings,
    answers at half weight) with their phrasings' and answer's stems and the statistics of
    every word they and the question use, in one statement. The GIN indexes find the
    matches; nothing outside the pool leaves the database. The knowledge-base settings ride
    along (grounding thresholds), which saves :func:`search` its own round trip."""
    # Stems are letters and digits (text.words); anything else could not be a tsquery lexeme.
    words = [t for t in terms if t.isalnum()]
    if not words:
        return [], [], {}, NOT_READ
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
    stored: Stored = NOT_READ
    for r in state.session.execute(query, params):
        stored = r[-1] or {}
        rows.append(Row(r.id, r.question, r.answer, r.language))
        docs.append(
            Document(r.id, [p.split() for p in r.phrasings or ()], (r.answer_stems or "").split())
        )
        df.update({term: int(count) for term, count in (r.words_df or {}).items()})
        # The question's own stems win (the same figures; also those no candidate uses).
        df.update({term: int(count) for term, count in (r.query_df or {}).items()})
    return rows, docs, df, stored
