"""What every knowledge-base settings page shares: labels, the list filters, loading an entry,
and drawing a page with the sources and the provider."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from ...babel import lazy_gettext
from ...models import EntryOrigin, EntryStatus, KnowledgeEntry, Source
from ...services import sources
from ...services.conversations.lifecycle import NotFound
from ...services.knowledge import entries
from ...state import get_state
from ..common import csrf_token, current_manager

PER_PAGE = 50
# Lazy: each page shows them in the manager's language (staff_language).
STATUS_LABELS = {
    EntryStatus.CANDIDATE: lazy_gettext("Candidate"),
    EntryStatus.PUBLISHED: lazy_gettext("Published"),
    EntryStatus.ARCHIVED: lazy_gettext("Archived"),
}
ORIGIN_LABELS = {
    EntryOrigin.MANUAL: lazy_gettext("Written by hand"),
    EntryOrigin.EXTRACTED: lazy_gettext("Extracted from conversations"),
    EntryOrigin.IMPORTED: lazy_gettext("Imported"),
}


def manager_id() -> str | None:
    manager = current_manager()
    return manager.id if manager else None


def render(template: str, status: int = 200, **context: Any) -> Any:
    state = get_state()
    html = render_template(
        f"gincore_chats/{template}",
        csrf_token=csrf_token(),
        status_labels=STATUS_LABELS,
        origin_labels=ORIGIN_LABELS,
        all_sources=sources.list_sources(state),
        provider=state.config.ai,
        **context,
    )
    return html, status


def list_filters() -> entries.Filters:
    source = request.args.get("source", type=int)
    return entries.Filters(
        q=request.args.get("q", "")[:200],
        language=request.args.get("language", "")[:16],
        status=request.args.get("status", ""),
        origin=request.args.get("origin", ""),
        source_id=source,
        sort=request.args.get("sort", "asked"),
    )


def load(entry_id: int) -> KnowledgeEntry:
    try:
        return entries.get(get_state(), entry_id)
    except NotFound:
        abort(404)


def source_name(source_id: int) -> str:
    source = get_state().session.get(Source, source_id)
    return source.name if source else f"source {source_id}"
