"""The knowledge base as a whole: the list with its filters, the options, import and export."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from sqlalchemy import select

from ...models import KnowledgeEntry, KnowledgeRun, SourceKind
from ...services import sources
from ...services.knowledge import entries, transfer
from ...services.knowledge import settings as kb_settings
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route
from .page import PER_PAGE, list_filters, manager_id, render


def index() -> Any:
    state = get_state()
    filters = list_filters()
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = entries.list_entries(state, filters, page=page, per_page=PER_PAGE)
    runs = list(
        state.session.scalars(select(KnowledgeRun).order_by(KnowledgeRun.id.desc()).limit(5))
    )
    widgets = [s for s in sources.list_sources(state) if s.kind == SourceKind.WIDGET]
    return render(
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
            report = transfer.do_import(state, manager_id(), rows)
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
    query = entries.filtered(list_filters()).order_by(KnowledgeEntry.id)
    rows = list(state.session.scalars(query))
    if fmt == "json":
        body, mime = transfer.export_json(rows), "application/json"
    else:
        body, mime = transfer.export_csv(rows), "text/csv"
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="knowledge-base.{fmt}"'
    return response


ROUTES: list[Route] = [
    ("", index, ["GET"]),
    ("/options", save_options, ["POST"]),
    ("/import", import_entries, ["POST"]),
    ("/export.<any(csv, json):fmt>", export_entries, ["GET"]),
]
