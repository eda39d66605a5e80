"""The knowledge base's entry pages: write, edit, publish or archive, merge, split and remove
phrasings, delete."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy import select

from ...models import Conversation, EntryOrigin, EntryStatus, KnowledgeEntry
from ...services.conversations.lifecycle import NotFound
from ...services.knowledge import entries, retrieval
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route
from .page import STATUS_LABELS, load, manager_id, render


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
    return render("settings_knowledge_entry.html", entry=None, form={}, errors={})


def create_entry() -> Any:
    state = get_state()
    form = _entry_form()
    publish = request.form.get("publish") == "1"
    try:
        with unit_of_work(state.session):
            entry = entries.do_create(
                state,
                manager_id(),
                status=EntryStatus.PUBLISHED if publish else EntryStatus.CANDIDATE,
                origin=EntryOrigin.MANUAL,
                **form,
            )
    except entries.KnowledgeError as exc:
        return render(
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
    return render("settings_knowledge_entry.html", status, **context)


def edit_entry(entry_id: int) -> Any:
    return _entry_page(load(entry_id))


def update_entry(entry_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    form = _entry_form()
    try:
        with unit_of_work(state.session):
            entries.do_update(state, manager_id(), entry, **form)
            if request.form.get("publish") == "1":
                entries.do_set_status(state, manager_id(), entry, EntryStatus.PUBLISHED)
    except entries.KnowledgeError as exc:
        return _entry_page(load(entry_id), 400, form=form, errors={"form": str(exc)})
    flash("Saved and published." if request.form.get("publish") == "1" else "Saved.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def set_status(entry_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    status = request.form.get("status", "")
    try:
        with unit_of_work(state.session):
            entries.do_set_status(state, manager_id(), entry, status)
    except entries.KnowledgeError as exc:
        return _entry_page(load(entry_id), 400, errors={"status": str(exc)})
    flash(f"{STATUS_LABELS.get(status, status)}.")
    return redirect(request.form.get("next") or url_for(".edit_entry", entry_id=entry_id))


def merge_entry(entry_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    into_id = request.form.get("into_id", type=int) or request.form.get("into", type=int)
    try:
        with unit_of_work(state.session):
            if into_id is None:
                raise entries.KnowledgeError("Choose the entry to merge into.")
            into = entries.get(state, into_id)
            entries.do_merge(state, manager_id(), entry, into)
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(load(entry_id), 400, errors={"merge": str(exc)})
    flash(f"Merged into entry {into_id}; its phrasings and counts moved there.")
    return redirect(url_for(".edit_entry", entry_id=into_id))


def add_phrasing(entry_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    try:
        with unit_of_work(state.session):
            entries.do_add_phrasing(state, manager_id(), entry, request.form.get("text", ""))
    except entries.KnowledgeError as exc:
        return _entry_page(load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Phrasing added.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def split_phrasing(entry_id: int, phrasing_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    try:
        with unit_of_work(state.session):
            new = entries.do_split(
                state, manager_id(), entry, entries.phrasing_of(entry, phrasing_id)
            )
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Split off as a new candidate; edit its answer before publishing.")
    return redirect(url_for(".edit_entry", entry_id=new.id))


def remove_phrasing(entry_id: int, phrasing_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    try:
        with unit_of_work(state.session):
            entries.do_remove_phrasing(
                state, manager_id(), entry, entries.phrasing_of(entry, phrasing_id)
            )
    except (entries.KnowledgeError, NotFound) as exc:
        return _entry_page(load(entry_id), 400, errors={"phrasing": str(exc)})
    flash("Phrasing removed.")
    return redirect(url_for(".edit_entry", entry_id=entry_id))


def delete_entry(entry_id: int) -> Any:
    state = get_state()
    entry = load(entry_id)
    with unit_of_work(state.session):
        entries.do_delete(state, entry)
    flash(f"Entry {entry_id} deleted.")
    return redirect(url_for(".index"))


ROUTES: list[Route] = [
    ("/new", new_entry, ["GET"]),
    ("/new", create_entry, ["POST"]),
    ("/<int:entry_id>", edit_entry, ["GET"]),
    ("/<int:entry_id>", update_entry, ["POST"]),
    ("/<int:entry_id>/status", set_status, ["POST"]),
    ("/<int:entry_id>/merge", merge_entry, ["POST"]),
    ("/<int:entry_id>/delete", delete_entry, ["POST"]),
    ("/<int:entry_id>/phrasings", add_phrasing, ["POST"]),
    ("/<int:entry_id>/phrasings/<int:phrasing_id>/split", split_phrasing, ["POST"]),
    ("/<int:entry_id>/phrasings/<int:phrasing_id>/delete", remove_phrasing, ["POST"]),
]
