"""Knowledge-base jobs: mine a closed conversation, embed an entry."""

from __future__ import annotations

import logging

from ..ai import ProviderError, client_for
from ..models import KnowledgeEntry
from ..services.knowledge import extraction
from ..services.knowledge.entries import embedding_key
from ..services.knowledge.retrieval import to_blob
from ..services.unit_of_work import unit_of_work
from . import job_state

log = logging.getLogger(__name__)


def extract_conversation(conversation_id: int) -> None:
    with job_state() as state:
        extraction.extract_conversation(state, conversation_id)


def embed_entry(entry_id: int) -> None:
    """Embed an entry's question: read, commit, call, then store if the question is unchanged."""
    with job_state() as state:
        provider = state.config.ai
        if provider is None or not provider.can_embed:
            return
        model = str(provider.embedding_model)
        with unit_of_work(state.session):
            entry = state.session.get(KnowledgeEntry, entry_id)
            if entry is None:
                return
            question, key = entry.question, embedding_key(entry, model)
            if entry.embedding is not None and entry.embedding_key == key:
                return
        try:
            vector = client_for(provider).embed([question]).vectors[0]
        except ProviderError as exc:
            log.warning("gincore_chats: embedding entry %s failed: %s", entry_id, exc)
            raise
        with unit_of_work(state.session):
            entry = state.session.get(KnowledgeEntry, entry_id)
            if entry is None or embedding_key(entry, model) != key:
                return  # deleted or edited meanwhile: that edit queued its own job
            entry.embedding = to_blob(vector)
            entry.embedding_model = model
            entry.embedding_key = key
