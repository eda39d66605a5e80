"""How well a question matches a knowledge-base entry, on stems, in [0, 1].

Each stem weighs its inverse document frequency (rare words say more than common ones), and a
question stem matches an entry stem exactly, by a shared prefix ("deliver" / "delivery"), or
within a small edit distance (typos: "delivry"), at a discount. The score blends

* the best *phrasing*: a weighted Dice overlap between the question and one of the entry's
  phrasings (the canonical question or an alternative), symmetric, so an entry whose phrasing
  says much more than the question scores lower;
* the *coverage* of the question by everything the entry says, phrasings and answer (answer
  words count less), so words that only the answer uses still help.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

#: Weight of the best phrasing against the coverage of the question.
PHRASING_WEIGHT = 0.6
#: An answer word is worth this much of a question word.
ANSWER_DISCOUNT = 0.55
PREFIX_MATCH = 0.85
FUZZY_CUTOFF = 80.0
FUZZY_DISCOUNT = 0.8


@dataclass(frozen=True)
class Document:
    """An entry as the scorer sees it: the stems of each phrasing and of the answer."""

    key: int
    phrasings: Sequence[Sequence[str]]
    answer: Sequence[str]


def idf(df: int, total: int) -> float:
    """Inverse document frequency, smoothed so that in a small base a word every entry shares
    still counts (half as much as an unseen one with two entries), and unseen words weigh most."""
    return math.log(1 + (total + 1) / (df + 1))


def weights(terms: Sequence[str], df: Mapping[str, int], total: int) -> dict[str, float]:
    return {t: idf(df.get(t, 0), total) for t in set(terms)}


def term_match(term: str, candidates: Sequence[str]) -> float:
    """1 exact, less for a shared prefix or a near spelling, 0 for nothing close."""
    if not candidates:
        return 0.0
    if term in candidates:
        return 1.0
    best = 0.0
    if len(term) >= 4:
        for other in candidates:
            if len(other) < 4:
                continue
            shorter = min(len(term), len(other))
            common = 0
            for a, b in zip(term, other, strict=False):
                if a != b:
                    break
                common += 1
            if common >= 4 and common >= 0.75 * shorter:
                best = max(best, PREFIX_MATCH)
        found = process.extractOne(term, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found is not None:
            best = max(best, FUZZY_DISCOUNT * found[1] / 100.0)
    return best


def score(query: Sequence[str], doc: Document, weight: Callable[[str], float]) -> float:
    """The match of the question's stems ``query`` with ``doc``; ``weight`` gives a stem's IDF."""
    terms = list(dict.fromkeys(query))
    if not terms:
        return 0.0
    q_weight = {t: weight(t) for t in terms}
    q_total = sum(q_weight.values())

    best_phrasing = 0.0
    seen: set[str] = set()
    for phrasing in doc.phrasings:
        p_terms = list(dict.fromkeys(phrasing))
        if not p_terms:
            continue
        seen.update(p_terms)
        matched = sum(q_weight[t] * term_match(t, p_terms) for t in terms)
        p_total = sum(weight(t) for t in p_terms)
        best_phrasing = max(best_phrasing, 2 * matched / (q_total + p_total))

    phrase_terms = list(seen)
    answer_terms = [t for t in dict.fromkeys(doc.answer) if t not in seen]
    covered = 0.0
    for t in terms:
        m = term_match(t, phrase_terms)
        if m < 1.0 and answer_terms:
            m = max(m, ANSWER_DISCOUNT * term_match(t, answer_terms))
        covered += q_weight[t] * m
    coverage = covered / q_total
    return PHRASING_WEIGHT * best_phrasing + (1 - PHRASING_WEIGHT) * coverage


def rank(
    query: Sequence[str],
    docs: Sequence[Document],
    df: Mapping[str, int],
    total: int,
) -> list[tuple[Document, float]]:
    """``docs`` with their scores, best first."""
    cache: dict[str, float] = {}

    def weight(term: str) -> float:
        if term not in cache:
            cache[term] = idf(df.get(term, 0), total)
        return cache[term]

    scored = [(doc, score(query, doc, weight)) for doc in docs]
    scored.sort(key=lambda pair: (-pair[1], pair[0].key))
    return scored
