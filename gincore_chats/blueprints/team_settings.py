"""Admin settings (``chats.admin``) for how a source's team works: auto-assignment and
business hours (any source kind)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _
from ..models import Source, SourceKind
from ..services.assignment import settings as assignment_settings
from ..services.assignment import sweep
from ..services.hours import settings as hours_settings
from ..services.hours import status as hours_status
from ..services.hours.schedule import DAYS
from ..services.unit_of_work import after_commit, unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token
from .guards import guard_admin_pages

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_FIELDS = (
    "timezone", "holidays", "exceptions", "auto_reply", *(f"day_{d}" for d in DAYS),
)  # fmt: skip
HOURS_SWITCHES = ("enabled", "offline_outside", "alerts_business_time", "auto_reply_enabled")


def load(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None:
        abort(404)
    return source


def page(
    source: Source,
    *,
    errors: dict[str, str] | None = None,
    assignment: dict[str, Any] | None = None,
    hours: dict[str, Any] | None = None,
) -> str:
    status = hours_status.status_of(source)
    return render_template(
        "gincore_chats/settings_team.html",
        csrf_token=csrf_token(),
        source=source,
        errors=errors or {},
        assignment=assignment or assignment_settings.of(source).as_dict(),
        hours=hours or hours_settings.form_values(source),
        status=status,
        days=list(zip(DAYS, DAY_NAMES, strict=True)),
        is_messenger=source.kind != SourceKind.WIDGET,
        max_capacity=assignment_settings.MAX_CAPACITY,
    )


def index(source_id: int) -> Any:
    return page(load(source_id))


def save_assignment(source_id: int) -> Any:
    state = get_state()
    form = {k: request.form.get(k, "") for k in ("mode", "capacity", "return_after_minutes")}
    try:
        with unit_of_work(state.session):
            chosen = assignment_settings.do_set(load(source_id), form)
            if chosen.automatic:
                # Returns of away managers and missed hand-outs run in the worker's sweep.
                after_commit(state.session, lambda: sweep.schedule(state))
    except assignment_settings.AssignmentSettingsError as exc:
        state.session.rollback()
        return page(load(source_id), errors={"assignment": str(exc)}, assignment=form), 400
    flash(_("Assignment settings saved."))
    return redirect(url_for(".index", source_id=source_id))


def save_hours(source_id: int) -> Any:
    state = get_state()
    form: dict[str, Any] = {k: request.form.get(k, "")[:20_000] for k in HOURS_FIELDS}
    form.update({k: request.form.get(k, "") for k in HOURS_SWITCHES})
    try:
        with unit_of_work(state.session):
            hours_settings.do_set(load(source_id), form)
    except hours_settings.HoursSettingsError as exc:
        state.session.rollback()
        shown = {**form, **{k: form[k] == "on" for k in HOURS_SWITCHES}}
        return page(load(source_id), errors={exc.field: str(exc)}, hours=shown), 400
    flash(_("Business hours saved."))
    return redirect(url_for(".index", source_id=source_id))


BASE = "/settings/sources/<int:source_id>/team"
ROUTES: list[Route] = [
    (BASE, index, ["GET"]),
    (f"{BASE}/assignment", save_assignment, ["POST"]),
    (f"{BASE}/hours", save_hours, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_team_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    add_routes(bp, ROUTES)
    return bp
