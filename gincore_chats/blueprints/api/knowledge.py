"""The knowledge base (docs/knowledge_base.rst): readers (``chats.view``) list, search and read
published entries in scope of their sources; admins (``chats.admin``) also create, edit,
publish and archive, as on the settings pages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field, Strict

from ...identity import Manager
from ...knowledge.language import detect
from ...models import EntryStatus, KnowledgeEntry
from ...permissions import Permission, PermissionDenied
from ...services.api import lists as api_lists
from ...services.conversations import lifecycle as conversations
from ...services.knowledge import entries, retrieval
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from . import pagination
from .guard import current_manager
from .schemas import BodyId, Cursor, Limit, Maybe, QueryText
from .spec import BodyModel, QueryModel, operation


class EntryState(StrEnum):
    CANDIDATE = EntryStatus.CANDIDATE
    PUBLISHED = EntryStatus.PUBLISHED
    ARCHIVED = EntryStatus.ARCHIVED


Language = Annotated[
    str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
]


class Entry(BaseModel):
    id: int
    language: str
    question: str
    phrasings: list[str] = Field(description="Other ways the question is asked.")
    answer: str
    status: EntryState
    all_sources: bool
    source_ids: list[int] = Field(description="The sources it applies to when not all.")
    asked_count: int
    last_asked_at: datetime | None
    updated_at: datetime


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None


class ListEntries(QueryModel):
    status: EntryState | Maybe = Field(
        None, description="Admins only: candidate or archived (default: published)."
    )
    language: Language | Maybe = None
    limit: Limit | Maybe = None
    cursor: Cursor | Maybe = None


class SearchEntries(QueryModel):
    q: Annotated[QueryText, Field(min_length=1, max_length=1000)]
    language: Language | Maybe = Field(None, description="Default: detected from q.")
    conversation_id: Annotated[int, Field(ge=1)] | Maybe = Field(
        None, description="Search in scope of this conversation's source."
    )
    limit: Annotated[int, Field(ge=1, le=20)] = 5


class Match(BaseModel):
    entry_id: int
    question: str
    answer: str
    language: str
    score: float = Field(ge=0, le=1)
    grounded: bool = Field(description="Passes the threshold: the entry answers the question.")


class MatchList(BaseModel):
    items: list[Match]


class CreateEntry(BodyModel):
    language: Language
    question: Annotated[str, Field(min_length=1, max_length=500)]
    answer: Annotated[str, Field(max_length=20_000)] = ""
    phrasings: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=100
    )
    all_sources: bool = True
    source_ids: list[BodyId] = Field(default_factory=list, max_length=1000)
    # Enums come from JSON as strings (strict mode would want EntryState objects).
    status: Annotated[EntryState, Strict(False)] = Field(
        EntryState.CANDIDATE, description="published needs an answer."
    )


class UpdateEntry(BodyModel):
    language: Language | None = None
    question: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    answer: Annotated[str, Field(max_length=20_000)] | None = None
    phrasings: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        None, max_length=100
    )
    all_sources: bool | None = None
    source_ids: list[BodyId] | None = Field(None, max_length=1000)


def _out(entry: KnowledgeEntry) -> Entry:
    return Entry(
        id=entry.id,
        language=entry.language,
        question=entry.question,
        phrasings=[p.text for p in entry.phrasings if not p.canonical],
        answer=entry.answer,
        status=EntryState(entry.status),
        all_sources=entry.all_sources,
        source_ids=entry.source_ids,
        asked_count=entry.asked_count,
        last_asked_at=entry.last_asked_at,
        updated_at=entry.updated_at,
    )


def _admin() -> Manager:
    manager = current_manager()
    if not manager.is_admin:
        raise PermissionDenied("Editing the knowledge base needs chats.admin.", Permission.ADMIN)
    return manager


@operation(tag="knowledge", ok=EntryPage, query=ListEntries)
def list_entries() -> EntryPage:
    """Published entries in scope of the manager's sources, by id (admins: any status)."""
    state = get_state()
    args: ListEntries = request.context.query  # type: ignore[attr-defined]
    limit = args.limit or state.config.page_size
    after = pagination.decode("entries", args.cursor, int)
    rows = api_lists.knowledge_entries(
        state,
        current_manager(),
        status=args.status.value if args.status else None,
        language=args.language.lower() if args.language else None,
        after_id=after[0] if after else None,
        limit=limit,
    )
    rows, cursor = pagination.page(rows, limit, lambda e: (e.id,), "entries")
    return EntryPage(items=[_out(e) for e in rows], next_cursor=cursor)


@operation(tag="knowledge", ok=MatchList, query=SearchEntries)
def search_entries() -> MatchList:
    """Published entries that answer a question, best first (the console's search)."""
    state = get_state()
    manager = current_manager()
    api_lists.require_view(manager)
    args: SearchEntries = request.context.query  # type: ignore[attr-defined]
    source_id, hint = None, None
    if args.conversation_id is not None:
        conv = conversations.access_for_manager(state, manager, args.conversation_id)
        source_id, hint = conv.source_id, conv.language
    text = args.q.strip()
    if not text:
        return MatchList(items=[])
    language = args.language or detect(text, hint)
    matches = retrieval.search(
        state, text=text, language=language, source_id=source_id, limit=args.limit
    )
    items = []
    for m in matches:
        try:
            entries.access_published(state, manager, m.entry_id)
        except conversations.NotFound:
            continue  # published, but for sources this manager does not work on
        items.append(
            Match(
                entry_id=m.entry_id,
                question=m.question,
                answer=m.answer,
                language=m.language,
                score=min(1.0, max(0.0, m.score)),
                grounded=m.grounded,
            )
        )
    return MatchList(items=items)


@operation(tag="knowledge", ok=Entry)
def get_entry(entry_id: int) -> Entry:
    """One entry: published and in scope for readers; any for admins."""
    state = get_state()
    manager = current_manager()
    if manager.is_admin:
        return _out(entries.get(state, entry_id))
    return _out(entries.access_published(state, manager, entry_id))


@operation(tag="knowledge", ok=Entry, status=201, body=CreateEntry, post=True)
def create_entry() -> Any:
    """Create an entry (chats.admin); as a candidate unless status says published."""
    state = get_state()
    manager = _admin()
    data: CreateEntry = request.context.json  # type: ignore[attr-defined]
    with unit_of_work(state.session):
        entry = entries.do_create(
            state,
            manager.id,
            language=data.language,
            question=data.question,
            answer=data.answer,
            alternatives=data.phrasings,
            status=data.status.value,
            all_sources=data.all_sources,
            source_ids=data.source_ids,
        )
        answer = _out(entry)
    return answer, 201


@operation(tag="knowledge", ok=Entry, body=UpdateEntry)
def update_entry(entry_id: int) -> Entry:
    """Change an entry (chats.admin); only the fields sent change."""
    state = get_state()
    manager = _admin()
    data: UpdateEntry = request.context.json  # type: ignore[attr-defined]
    with unit_of_work(state.session):
        entry = entries.get(state, entry_id)
        entries.do_update(
            state,
            manager.id,
            entry,
            question=data.question,
            answer=data.answer,
            language=data.language,
            alternatives=data.phrasings,
            all_sources=data.all_sources,
            source_ids=data.source_ids,
        )
        answer = _out(entry)
    return answer


def _set_status(entry_id: int, status: str) -> Entry:
    state = get_state()
    manager = _admin()
    with unit_of_work(state.session):
        entry = entries.do_set_status(state, manager.id, entries.get(state, entry_id), status)
        answer = _out(entry)
    return answer


@operation(tag="knowledge", ok=Entry, post=True)
def publish_entry(entry_id: int) -> Entry:
    """Publish (chats.admin): managers, visitors and the AI see it. Needs an answer."""
    return _set_status(entry_id, EntryStatus.PUBLISHED)


@operation(tag="knowledge", ok=Entry, post=True)
def archive_entry(entry_id: int) -> Entry:
    """Archive (chats.admin): hidden, but still absorbs duplicates."""
    return _set_status(entry_id, EntryStatus.ARCHIVED)


ROUTES = [
    ("/kb/entries", list_entries, ["GET"]),
    ("/kb/entries", create_entry, ["POST"]),
    ("/kb/search", search_entries, ["GET"]),
    ("/kb/entries/<int:entry_id>", get_entry, ["GET"]),
    ("/kb/entries/<int:entry_id>", update_entry, ["PATCH"]),
    ("/kb/entries/<int:entry_id>/publish", publish_entry, ["POST"]),
    ("/kb/entries/<int:entry_id>/archive", archive_entry, ["POST"]),
]
