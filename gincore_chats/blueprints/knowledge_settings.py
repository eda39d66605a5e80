"""Admin pages (``chats.admin``) of the knowledge base: list, edit, publish, archive, merge,
split, import and export, and the thresholds and switches."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..models import (
    Conversation,
    EntryOrigin,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeRun,
    Source,
    SourceKind,
)
from ..services import sources
from ..services.conversations import NotFound
from ..services.knowledge import entries, retrieval, transfer
from ..services.knowledge import settings as kb_settings
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager, guard_admin_pages

PER_PAGE = 50
STATUS_LABELS = {
    EntryStatus.CANDIDATE: "Candidate",
    EntryStatus.PUBLISHED: "Published",
    EntryStatus.ARCHIVED: "Archived",
}
ORIGIN_LABELS = {
    EntryOrigin.MANUAL: "Written by hand",
    EntryOrigin.EXTRACTED: "Extracted from conversations",
    EntryOrigin.IMPORTED: "Imported",
}


def _manager_id() -> str | None:
    manager = current_manager()
    return manager.id if manager else None


def _render(template: str, status: int = 200, **context: Any) -> Any:
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


def _filters() -> entries.Filters:
    source = request.args.get("source", type=int)
    return entries.Filters(
        q=request.args.get("q", "")[:200],
        language=request.args.get("language", "")[:16],
        status=request.args.get("status", ""),
        origin=request.args.get("origin", ""),
        source_id=source,
        sort=request.args.get("sort", "asked"),
    )


def _load(entry_id: int) -> KnowledgeEntry:
    try:
        return entries.get(get_state(), entry_id)
    except NotFound:
        abort(404)


def index() -> Any:
    state = get_state()
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = entries.list_entries(state, filters, page=page, per_page=PER_PAGE)
    runs = list(
        state.session.scalars(select(KnowledgeRun).order_by(KnowledgeRun.id.desc()).limit(5))
    )
    widgets = [s for s in sources.list_sources(state) if s.kind == SourceKind.WIDGET]
    return _render(
        "settings_knowledge.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        filters=filters,
        counts=entries.counts_by_status(state),
        languages=entries.languages(state),
        options=kb_settings.load(state),
        widgets=widgets,
        widget_enabled=kb_settings.widget_enabled,
        runs=runs,
        errors={},
    )


def _entry_form() -> dict[str, Any]:
    scope = request.form.get("scope", "all")
    return {
        "question": request.form.get("question", ""),
        "answer": request.form.get("answer", ""),
        "language": request.form.get("language", ""),
        "alternatives": [
            line for line in request.form.get("alternatives", "").splitlines() if line.strip()
        ],
        "all_sources": scope != "some",
        "source_ids": [int(s) for s in request.form.getlist("sources") if s.isdigit()],
    }


def new_entry() -> Any:
    return _render("settings_knowledge_entry.html", entry=None, form={}, errors={})


def create_entry() -> Any:
    state = get_state()
    form = _entry_form()
    publish = request.form.get("publish") == "1"
    try:
        with unit_of_work(state.session):
            entry = entries.do_create(
                state,
                _manager_id(),
                status=EntryStatus.PUBLISHED if publish else EntryStatus.CANDIDATE,
                origin=EntryOrigin.MANUAL,
                **form,
            )
    except entries.KnowledgeError as exc:
        return _render(
            "settings_knowledge_entry.html", 400, entry=None, form=form, errors={"form": str(exc)}
        )
    flash("Entry published." if publish else "Entry saved as a candidate.")
    return redirect(url_for(".edit_entry", entry_id=entry.id))


def _entry_page(entry: KnowledgeEntry, status: int = 200, **extra: Any) -> Any:
    state = get_state()
    seen = entries.sightings(state, entry)
    conversations = {
        c.id: c
        for c in state.session.scalars(
            select(Conversation).where(Conversation.id.in_([s.conversation_id for s in seen]))
        )
    }
    context: dict[str, Any] = {
        "entry": entry,
        "form": {},
        "errors": {},
        "sightings": [(s, conversations.get(s.conversation_id)) for s in seen],
        "similar": retrieval.similar_entries(state, entry, limit=8),
        **extra,
    }
    return _render("settings_knowledge_entry.html", status, **context)


def edit_entry(entry_id: int) -> Any:
    return _entry_page(_load(entry_id))


def update_entry(entry_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    form = _entry_form()
    try:
        with unit_of_work(state.session):
            entries.do_update(state, _manager_id(), entry, **form)
            if request.form.get("publish") == "1":
                entries.do_set_status(state, _manager_id(), entry, EntryStatus.PUBLISHED)
    except entries.KnowledgeError as exc:
        return _entry_page(_load(entry_id), 400, form=form, errors={"form": str(exc)})
    flash("Saved and published." if request.form.get("publish") == "1" else "Saved.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def set_status(entry_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    status = request.form.get("status", "")
    try:
        with unit_of_work(state.session):
            entries.do_set_status(state, _manager_id(), entry, status)
    except entries.KnowledgeError as exc:
        return _entry_page(_load(entry_id), 400, errors={"status": str(exc)})
    flash(f"{STATUS_LABELS.get(status, status)}.")
    return redirect(request.form.get("next") or url_for(".edit_entry", entry_id=entry_id))


def merge_entry(entry_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    into_id = request.form.get("into_id", type=int) or request.form.get("into", type=int)
    try:
        with unit_of_work(state.session):
            if into_id is None:
                raise entries.KnowledgeError("Choose the entry to merge into.")
            into = entries.get(state, into_id)
            entries.do_merge(state, _manager_id(), entry, into)
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(_load(entry_id), 400, errors={"merge": str(exc)})
    flash(f"Merged into entry {into_id}; its phrasings and counts moved there.")
    return redirect(url_for(".edit_entry", entry_id=into_id))


def add_phrasing(entry_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    try:
        with unit_of_work(state.session):
            entries.do_add_phrasing(state, _manager_id(), entry, request.form.get("text", ""))
    except entries.KnowledgeError as exc:
        return _entry_page(_load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Phrasing added.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def split_phrasing(entry_id: int, phrasing_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    try:
        with unit_of_work(state.session):
            new = entries.do_split(
                state, _manager_id(), entry, entries.phrasing_of(entry, phrasing_id)
            )
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(_load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Split off as a new candidate; edit its answer before publishing.")
    return redirect(url_for(".edit_entry", entry_id=new.id))


def remove_phrasing(entry_id: int, phrasing_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    try:
        with unit_of_work(state.session):
            entries.do_remove_phrasing(
                state, _manager_id(), entry, entries.phrasing_of(entry, phrasing_id)
            )
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(_load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Phrasing removed.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def delete_entry(entry_id: int) -> Any:
    state = get_state()
    entry = _load(entry_id)
    with unit_of_work(state.session):
        entries.do_delete(state, entry)
    flash(f"Entry {entry_id} deleted.")
    return redirect(url_for(".index"))


def save_options() -> Any:
    state = get_state()
    form = request.form
    try:
        with unit_of_work(state.session):
            kb_settings.do_save(
                state,
                **{name: form.get(name, "") for name in kb_settings.THRESHOLDS},
                extract_on_close=form.get("extract_on_close") == "on",
                rewrite_with_provider=form.get("rewrite_with_provider") == "on",
            )
            wanted = {int(s) for s in form.getlist("widget_sources") if s.isdigit()}
            for source in sources.list_sources(state):
                if source.kind == SourceKind.WIDGET:
                    kb_settings.do_set_widget_suggestions(state, source, source.id in wanted)
    except kb_settings.SettingsError as exc:
        flash(f"Not saved: {exc}")
        return redirect(url_for(".index", _anchor="options"))
    flash("Knowledge-base options saved.")
    return redirect(url_for(".index", _anchor="options"))


def import_entries() -> Any:
    state = get_state()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV or JSON file to import.")
        return redirect(url_for(".index", _anchor="import"))
    try:
        rows = transfer.parse(upload.read(transfer.MAX_BYTES + 1), upload.filename)
    except transfer.ImportError_ as exc:
        flash(f"Nothing imported: {exc}")
        return redirect(url_for(".index", _anchor="import"))
    try:
        with unit_of_work(state.session):
            report = transfer.do_import(state, _manager_id(), rows)
            if report.errors:
                raise entries.KnowledgeError("; ".join(report.errors[:20]))
    except entries.KnowledgeError as exc:
        more = f" (and {len(report.errors) - 20} more)" if len(report.errors) > 20 else ""
        flash(f"Nothing imported: {exc}{more}")
        return redirect(url_for(".index", _anchor="import"))
    flash(f"Imported: {report.created} new entries, {report.updated} updated.")
    return redirect(url_for(".index"))


def export_entries(fmt: str) -> Any:
    state = get_state()
    query = entries.filtered(_filters()).order_by(KnowledgeEntry.id)
    rows = list(state.session.scalars(query))
    if fmt == "json":
        body, mime = transfer.export_json(rows), "application/json"
    else:
        body, mime = transfer.export_csv(rows), "text/csv"
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="knowledge-base.{fmt}"'
    return response


def source_name(source_id: int) -> str:
    source = get_state().session.get(Source, source_id)
    return source.name if source else f"source {source_id}"


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_knowledge", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    base = "/settings/knowledge"
    routes: list[Route] = [
        ("", index, ["GET"]),
        ("/new", new_entry, ["GET"]),
        ("/new", create_entry, ["POST"]),
        ("/options", save_options, ["POST"]),
        ("/import", import_entries, ["POST"]),
        ("/export.<any(csv, json):fmt>", export_entries, ["GET"]),
        ("/<int:entry_id>", edit_entry, ["GET"]),
        ("/<int:entry_id>", update_entry, ["POST"]),
        ("/<int:entry_id>/status", set_status, ["POST"]),
        ("/<int:entry_id>/merge", merge_entry, ["POST"]),
        ("/<int:entry_id>/delete", delete_entry, ["POST"]),
        ("/<int:entry_id>/phrasings", add_phrasing, ["POST"]),
        ("/<int:entry_id>/phrasings/<int:phrasing_id>/split", split_phrasing, ["POST"]),
        ("/<int:entry_id>/phrasings/<int:phrasing_id>/delete", remove_phrasing, ["POST"]),
    ]
    add_routes(bp, routes, base)
    bp.add_app_template_global(source_name, "gincore_chats_source_name")
    return bp
