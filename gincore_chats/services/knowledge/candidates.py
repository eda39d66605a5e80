"""Normalisation: an extracted question either joins an entry it duplicates or becomes a
candidate.

A near-duplicate (lexical score at or above the merge threshold, or cosine similarity of the
embeddings at or above the embedding threshold) becomes a new phrasing of the existing entry
and raises its "asked" count; an exact repeat of a phrasing only raises the counts. Archived
entries absorb duplicates too, so a question the team rejected does not come back as a new
candidate every week. Nothing here publishes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sqlalchemy import select

from ...knowledge.text import normalize
from ...models import EntryOrigin, EntryStatus, KnowledgeEntry, utcnow
from ...state import ChatsState
from . import entries, index, retrieval
from .settings import load as load_settings


@dataclass(frozen=True)
class Proposal:
    question: str
    answer: str
    language: str
    source_id: int
    conversation_id: int
    message_id: int | None = None
    method: str = "extractive"
    embedding: list[float] | None = None


@dataclass(frozen=True)
class Outcome:
    action: Literal["created", "merged", "repeated"]
    entry_id: int


def _embedding_match(
    state: ChatsState, proposal: Proposal, pool: list[int], threshold: float
) -> int | None:
    if proposal.embedding is None or not pool:
        return None
    vector = np.asarray(proposal.embedding, dtype="<f4")
    best: tuple[float, int] | None = None
    for entry_id, blob in state.session.execute(
        select(KnowledgeEntry.id, KnowledgeEntry.embedding).where(
            KnowledgeEntry.id.in_(pool), KnowledgeEntry.embedding.is_not(None)
        )
    ):
        cos = retrieval.cosine(vector, retrieval.from_blob(blob))
        if cos >= threshold and (best is None or cos > best[0]):
            best = (cos, entry_id)
    return best[1] if best else None


def do_propose(state: ChatsState, proposal: Proposal) -> Outcome:
    settings = load_settings(state)
    near = retrieval.nearest(
        state,
        text=proposal.question,
        language=proposal.language,
        source_id=proposal.source_id,
        limit=10,
    )
    target_id = None
    if near and near[0][1] >= settings.merge_threshold:
        target_id = near[0][0]
    if target_id is None:
        target_id = _embedding_match(
            state, proposal, [i for i, _ in near], settings.embedding_merge_threshold
        )
    if target_id is None:
        entry = entries.do_create(
            state,
            None,
            language=proposal.language,
            question=proposal.question,
            answer=proposal.answer,
            status=EntryStatus.CANDIDATE,
            origin=EntryOrigin.EXTRACTED,
            method=proposal.method,
            all_sources=False,
            source_ids=[proposal.source_id],
            conversation_id=proposal.conversation_id,
        )
        entries.do_record_sighting(
            state, entry, proposal.conversation_id, message_id=proposal.message_id
        )
        return Outcome("created", entry.id)

    entry = entries.get(state, target_id)
    new_sighting = entries.do_record_sighting(
        state, entry, proposal.conversation_id, message_id=proposal.message_id
    )
    key = normalize(proposal.question)[:500]
    for phrasing in entry.phrasings:
        if phrasing.normalized == key:
            if new_sighting:
                phrasing.asked_count += 1
            return Outcome("repeated", entry.id)
    if len(entry.phrasings) < entries.MAX_PHRASINGS:
        phrasing = entries.new_phrasing(
            proposal.question,
            conversation_id=proposal.conversation_id,
            asked=1 if new_sighting else 0,
        )
        entry.phrasings.append(phrasing)
        entry.updated_at = utcnow()
        index.refresh(state, entry)
    return Outcome("merged", entry.id)
