"""Knowledge-base entries and their phrasings: create, edit, publish, archive, merge, split.

Every write goes through here so that the search columns and term statistics
(:mod:`.index`) stay current, and an entry's embedding is recomputed after commit when a
provider is configured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from ...identity import Manager
from ...knowledge.sanitize import MAX_ANSWER, MAX_QUESTION, one_line, plain_text
from ...knowledge.text import normalize, primary
from ...models import (
    EntryOrigin,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntrySource,
    KnowledgePhrasing,
    KnowledgeSighting,
    SightingKind,
    Source,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...queue import enqueue
from ...state import ChatsState
from ..errors import NotFound
from ..row_ids import row_id
from ..sources import visible_source_ids
from ..unit_of_work import after_commit
from . import index

EMBED_JOB = "gincore_chats.jobs.knowledge.embed_entry"
MAX_PHRASINGS = 200
#: Knowledge-base languages are primary subtags: "en", "uk", "pt".
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"


class KnowledgeError(ValueError):
    pass


def clean_language(value: str | None) -> str:
    language = primary(value)
    if not language or not language.isalpha() or not 2 <= len(language) <= 3:
        raise KnowledgeError(f"{value!r} is not a language code (examples: en, uk, ru).")
    return language


def clean_question(value: str | None) -> str:
    question = one_line(value or "", MAX_QUESTION)
    if len(question) < 3:
        raise KnowledgeError("Write the question (at least 3 characters).")
    return question


def clean_answer(value: str | None, *, required: bool) -> str:
    too_long = f"The answer is too long (at most {MAX_ANSWER} characters)."
    if value is not None and len(value) > MAX_ANSWER * 4:
        raise KnowledgeError(too_long)
    answer = plain_text(value or "", MAX_ANSWER * 4)
    if len(answer) > MAX_ANSWER:
        raise KnowledgeError(too_long)
    if required and not answer:
        raise KnowledgeError("Write the answer before publishing.")
    return answer


def embedding_key(entry: KnowledgeEntry, model: str) -> str:
    return hashlib.sha256(f"{model}\x00{entry.question}".encode()).hexdigest()


def _schedule_embedding(state: ChatsState, entry: KnowledgeEntry) -> None:
    provider = state.config.ai
    if provider is None or not provider.can_embed:
        return
    if entry.embedding is not None and entry.embedding_key == embedding_key(
        entry, str(provider.embedding_model)
    ):
        return
    entry_id = entry.id
    after_commit(state.session, lambda: enqueue(state, EMBED_JOB, entry_id))


def _touch(entry: KnowledgeEntry, manager_id: str | None) -> None:
    entry.updated_at = utcnow()
    entry.updated_by = manager_id


def new_phrasing(
    text: str, *, canonical: bool = False, conversation_id: int | None = None, asked: int = 0
) -> KnowledgePhrasing:
    return KnowledgePhrasing(
        text=text,
        normalized=normalize(text)[:500],
        canonical=canonical,
        conversation_id=conversation_id,
        asked_count=asked,
        created_at=utcnow(),
    )


def _set_scope(
    state: ChatsState, entry: KnowledgeEntry, all_sources: bool, source_ids: Iterable[int]
) -> None:
    wanted = sorted({int(s) for s in source_ids})
    if not all_sources:
        if not wanted:
            raise KnowledgeError("Choose at least one source, or all sources.")
        known = set(state.session.scalars(select(Source.id).where(Source.id.in_(wanted))))
        missing = [s for s in wanted if s not in known]
        if missing:
            raise KnowledgeError(f"There is no source {missing[0]}.")
    entry.all_sources = bool(all_sources)
    keep = set(wanted) if not all_sources else set()
    entry.scope = [s for s in entry.scope if s.source_id in keep] + [
        KnowledgeEntrySource(source_id=sid)
        for sid in sorted(keep - {s.source_id for s in entry.scope})
    ]


def _set_phrasings(entry: KnowledgeEntry, question: str, alternatives: Sequence[str]) -> None:
    """The canonical question first, then the alternatives; existing rows (and their counts)
    are kept when their text is unchanged."""
    wanted: list[str] = []
    seen: set[str] = set()
    for raw in [question, *alternatives]:
        text = one_line(raw, MAX_QUESTION)
        key = normalize(text)[:500]
        if len(text) < 3 or key in seen:
            continue
        seen.add(key)
        wanted.append(text)
    if len(wanted) > MAX_PHRASINGS:
        raise KnowledgeError(f"An entry has at most {MAX_PHRASINGS} phrasings.")
    existing = {p.normalized: p for p in entry.phrasings}
    rows = []
    for i, text in enumerate(wanted):
        row = existing.pop(normalize(text)[:500], None) or new_phrasing(text)
        row.text = text
        row.canonical = i == 0
        rows.append(row)
    entry.phrasings = rows


def do_create(
    state: ChatsState,
    manager_id: str | None,
    *,
    language: str,
    question: str,
    answer: str,
    alternatives: Sequence[str] = (),
    status: str = EntryStatus.CANDIDATE,
    origin: str = EntryOrigin.MANUAL,
    method: str | None = None,
    all_sources: bool = True,
    source_ids: Iterable[int] = (),
    asked_count: int = 0,
    last_asked_at: datetime | None = None,
    conversation_id: int | None = None,
) -> KnowledgeEntry:
    if status not in EntryStatus.ALL:
        raise KnowledgeError(f"status must be one of {', '.join(EntryStatus.ALL)}.")
    if origin not in EntryOrigin.ALL:
        raise KnowledgeError(f"origin must be one of {', '.join(EntryOrigin.ALL)}.")
    now = utcnow()
    entry = KnowledgeEntry(
        language=clean_language(language),
        question=clean_question(question),
        answer=clean_answer(answer, required=status == EntryStatus.PUBLISHED),
        status=status,
        origin=origin,
        method=method,
        asked_count=max(0, int(asked_count)),
        last_asked_at=last_asked_at,
        created_at=now,
        updated_at=now,
        published_at=now if status == EntryStatus.PUBLISHED else None,
        created_by=manager_id,
        updated_by=manager_id,
        terms="",
        answer_stems="",
        all_sources=True,
    )
    entry.scope = []
    _set_phrasings(entry, entry.question, alternatives)
    if conversation_id is not None:
        entry.phrasings[0].conversation_id = conversation_id
        entry.phrasings[0].asked_count = 1
    _set_scope(state, entry, all_sources, source_ids)
    state.session.add(entry)
    index.refresh(state, entry)
    state.session.flush()
    _schedule_embedding(state, entry)
    return entry


def do_update(
    state: ChatsState,
    manager_id: str | None,
    entry: KnowledgeEntry,
    *,
    question: str | None = None,
    answer: str | None = None,
    language: str | None = None,
    alternatives: Sequence[str] | None = None,
    all_sources: bool | None = None,
    source_ids: Iterable[int] | None = None,
) -> KnowledgeEntry:
    old_language = entry.language
    if language is not None:
        entry.language = clean_language(language)
    if question is not None:
        entry.question = clean_question(question)
    if answer is not None:
        entry.answer = clean_answer(answer, required=entry.status == EntryStatus.PUBLISHED)
    if question is not None or alternatives is not None:
        current = [p.text for p in entry.phrasings if not p.canonical]
        _set_phrasings(
            entry, entry.question, current if alternatives is None else list(alternatives)
        )
    if all_sources is not None or source_ids is not None:
        _set_scope(
            state,
            entry,
            entry.all_sources if all_sources is None else all_sources,
            entry.source_ids if source_ids is None else source_ids,
        )
    _touch(entry, manager_id)
    index.refresh(state, entry, old_language)
    state.session.flush()
    _schedule_embedding(state, entry)
    return entry


def do_set_status(
    state: ChatsState, manager_id: str | None, entry: KnowledgeEntry, status: str
) -> KnowledgeEntry:
    if status not in EntryStatus.ALL:
        raise KnowledgeError(f"status must be one of {', '.join(EntryStatus.ALL)}.")
    if status == EntryStatus.PUBLISHED:
        clean_answer(entry.answer, required=True)
        if entry.status != EntryStatus.PUBLISHED:
            entry.published_at = utcnow()
    entry.status = status
    _touch(entry, manager_id)
    return entry


def do_add_phrasing(
    state: ChatsState, manager_id: str | None, entry: KnowledgeEntry, text: str
) -> KnowledgePhrasing:
    value = clean_question(text)
    key = normalize(value)[:500]
    for existing in entry.phrasings:
        if existing.normalized == key:
            raise KnowledgeError("The entry already has this phrasing.")
    if len(entry.phrasings) >= MAX_PHRASINGS:
        raise KnowledgeError(f"An entry has at most {MAX_PHRASINGS} phrasings.")
    row = new_phrasing(value)
    entry.phrasings.append(row)
    _touch(entry, manager_id)
    index.refresh(state, entry)
    state.session.flush()
    return row


def phrasing_of(entry: KnowledgeEntry, phrasing_id: int) -> KnowledgePhrasing:
    for p in entry.phrasings:
        if p.id == phrasing_id:
            return p
    raise NotFound("The entry has no such phrasing.")


def do_remove_phrasing(
    state: ChatsState, manager_id: str | None, entry: KnowledgeEntry, phrasing: KnowledgePhrasing
) -> None:
    if phrasing.canonical:
        raise KnowledgeError("The question itself cannot be removed; edit it instead.")
    entry.phrasings = [p for p in entry.phrasings if p.id != phrasing.id]
    _touch(entry, manager_id)
    index.refresh(state, entry)


def do_split(
    state: ChatsState, manager_id: str | None, entry: KnowledgeEntry, phrasing: KnowledgePhrasing
) -> KnowledgeEntry:
    """A phrasing that asks something else becomes an entry of its own (a candidate with a
    copy of the answer to edit); the times it was asked go with it."""
    if phrasing.canonical:
        raise KnowledgeError("The question itself cannot be split off.")
    moved = max(0, phrasing.asked_count)
    entry.phrasings = [p for p in entry.phrasings if p.id != phrasing.id]
    entry.asked_count = max(0, entry.asked_count - moved)
    _touch(entry, manager_id)
    index.refresh(state, entry)
    new = do_create(
        state,
        manager_id,
        language=entry.language,
        question=phrasing.text,
        answer=entry.answer,
        status=EntryStatus.CANDIDATE,
        origin=entry.origin,
        method=entry.method,
        all_sources=entry.all_sources,
        source_ids=entry.source_ids,
        asked_count=moved,
    )
    new.phrasings[0].asked_count = moved
    new.phrasings[0].conversation_id = phrasing.conversation_id
    if phrasing.conversation_id is not None:
        for sighting in state.session.scalars(
            select(KnowledgeSighting).where(
                KnowledgeSighting.entry_id == entry.id,
                KnowledgeSighting.conversation_id == phrasing.conversation_id,
            )
        ):
            sighting.entry_id = new.id
    return new


def do_merge(
    state: ChatsState, manager_id: str | None, entry: KnowledgeEntry, into: KnowledgeEntry
) -> KnowledgeEntry:
    """``entry`` becomes phrasings of ``into``: its questions, counts and conversations move,
    ``into`` keeps its answer, status and scope, and ``entry`` is deleted."""
    if entry.id == into.id:
        raise KnowledgeError("An entry cannot be merged into itself.")
    if entry.language != into.language:
        raise KnowledgeError("Only entries of the same language can be merged.")
    known = {p.normalized: p for p in into.phrasings}
    for p in list(entry.phrasings):
        if p.normalized in known:
            known[p.normalized].asked_count += p.asked_count
            continue
        into.phrasings.append(
            new_phrasing(p.text, conversation_id=p.conversation_id, asked=p.asked_count)
        )
        known[p.normalized] = into.phrasings[-1]
    theirs = set(
        state.session.scalars(
            select(KnowledgeSighting.conversation_id).where(KnowledgeSighting.entry_id == into.id)
        )
    )
    duplicates = 0
    for sighting in state.session.scalars(
        select(KnowledgeSighting).where(KnowledgeSighting.entry_id == entry.id)
    ):
        if sighting.conversation_id in theirs:
            duplicates += 1
            state.session.delete(sighting)
        else:
            sighting.entry_id = into.id
    into.asked_count = into.asked_count + max(0, entry.asked_count - duplicates)
    if entry.last_asked_at and (not into.last_asked_at or entry.last_asked_at > into.last_asked_at):
        into.last_asked_at = entry.last_asked_at
    _touch(into, manager_id)
    index.forget(state, entry)
    state.session.delete(entry)
    state.session.flush()
    index.refresh(state, into)
    return into


def do_delete(state: ChatsState, entry: KnowledgeEntry) -> None:
    index.forget(state, entry)
    state.session.delete(entry)


def do_record_sighting(
    state: ChatsState,
    entry: KnowledgeEntry,
    conversation_id: int,
    *,
    message_id: int | None = None,
    kind: str = SightingKind.EXTRACTED,
) -> bool:
    """Count that the entry's question came up in a conversation; once per conversation."""
    exists = state.session.scalar(
        select(KnowledgeSighting.id).where(
            KnowledgeSighting.entry_id == entry.id,
            KnowledgeSighting.conversation_id == conversation_id,
        )
    )
    if exists:
        return False
    state.session.add(
        KnowledgeSighting(
            entry_id=entry.id,
            conversation_id=conversation_id,
            message_id=message_id,
            kind=kind,
            created_at=utcnow(),
        )
    )
    entry.asked_count += 1
    entry.last_asked_at = utcnow()
    return True


# -- reads ----------------------------------------------------------------------------------------


def get(state: ChatsState, entry_id: int) -> KnowledgeEntry:
    found = row_id(entry_id)  # an id beyond BIGINT is not found (not a database error)
    entry = state.session.get(KnowledgeEntry, found) if found is not None else None
    if entry is None:
        raise NotFound("No such knowledge-base entry.")
    return entry


def in_scope(source_id: int | None) -> object:
    """Entries that apply to a source (every entry when ``source_id`` is None)."""
    if source_id is None:
        return True
    return or_(
        KnowledgeEntry.all_sources.is_(True),
        select(KnowledgeEntrySource.entry_id)
        .where(
            KnowledgeEntrySource.entry_id == KnowledgeEntry.id,
            KnowledgeEntrySource.source_id == source_id,
        )
        .exists(),
    )


def access_published(state: ChatsState, manager: Manager, entry_id: int) -> KnowledgeEntry:
    """A published entry a manager may read: in scope of a source they see."""
    if not (manager.can(Permission.VIEW) or manager.is_admin):
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)
    found = row_id(entry_id)
    entry = state.session.get(KnowledgeEntry, found) if found is not None else None
    if entry is None or entry.status != EntryStatus.PUBLISHED:
        raise NotFound("No such knowledge-base entry.")
    visible = visible_source_ids(state, manager)
    if visible is not None and not entry.all_sources and not set(entry.source_ids) & visible:
        raise NotFound("No such knowledge-base entry.")
    return entry


@dataclass(frozen=True)
class Filters:
    q: str = ""
    language: str = ""
    status: str = ""
    origin: str = ""
    source_id: int | None = None
    sort: str = "asked"


SORTS: dict[str, tuple[Any, ...]] = {
    "asked": (KnowledgeEntry.asked_count.desc(), KnowledgeEntry.id.desc()),
    "recent": (KnowledgeEntry.last_asked_at.desc().nulls_last(), KnowledgeEntry.id.desc()),
    "updated": (KnowledgeEntry.updated_at.desc(), KnowledgeEntry.id.desc()),
    "question": (KnowledgeEntry.question, KnowledgeEntry.id),
}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(filters: Filters) -> Select[Any]:
    query = select(KnowledgeEntry)
    if filters.language:
        query = query.where(KnowledgeEntry.language == filters.language)
    if filters.status in EntryStatus.ALL:
        query = query.where(KnowledgeEntry.status == filters.status)
    if filters.origin in EntryOrigin.ALL:
        query = query.where(KnowledgeEntry.origin == filters.origin)
    if filters.source_id is not None:
        query = query.where(in_scope(filters.source_id))  # type: ignore[arg-type]
    if filters.q.strip():
        pattern = f"%{_escape_like(normalize(filters.q)[:200])}%"
        raw = f"%{_escape_like(filters.q.strip()[:200])}%"
        query = query.where(
            or_(
                select(KnowledgePhrasing.id)
                .where(
                    KnowledgePhrasing.entry_id == KnowledgeEntry.id,
                    KnowledgePhrasing.normalized.like(pattern, escape="\\"),
                )
                .exists(),
                KnowledgeEntry.answer.ilike(raw, escape="\\"),
                KnowledgeEntry.question.ilike(raw, escape="\\"),
            )
        )
    return query


def list_entries(
    state: ChatsState, filters: Filters, *, page: int = 1, per_page: int = 50
) -> tuple[list[KnowledgeEntry], int]:
    query = filtered(filters)
    total = int(state.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = SORTS.get(filters.sort, SORTS["asked"])
    rows = list(
        state.session.scalars(
            query.order_by(*order).offset((max(1, page) - 1) * per_page).limit(per_page)
        )
    )
    return rows, total


def counts_by_status(state: ChatsState) -> dict[str, int]:
    rows = state.session.execute(
        select(KnowledgeEntry.status, func.count()).group_by(KnowledgeEntry.status)
    )
    return {status: int(n) for status, n in rows}


def languages(state: ChatsState) -> list[str]:
    return sorted(state.session.scalars(select(KnowledgeEntry.language).distinct()), key=str)


def sightings(state: ChatsState, entry: KnowledgeEntry, limit: int = 50) -> list[KnowledgeSighting]:
    return list(
        state.session.scalars(
            select(KnowledgeSighting)
            .where(KnowledgeSighting.entry_id == entry.id)
            .order_by(KnowledgeSighting.created_at.desc(), KnowledgeSighting.id.desc())
            .limit(limit)
        )
    )
