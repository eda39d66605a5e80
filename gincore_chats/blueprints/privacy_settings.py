"""Admin settings (``chats.admin``) for privacy: each source's retention policy (a card on the
source page) and the audit log viewer (who did what, when, to what)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from ..babel import error_text
from ..babel import gettext as _
from ..models import Source, SourceKind
from ..services import audit_log
from ..services.privacy import retention
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from . import channel_settings, settings
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages

PAGE_SIZE = 50


@dataclass(frozen=True)
class RetentionForm:
    """What the retention card shows: the saved policy, or what was typed and refused."""

    conversation_days: str
    conversation_action: str
    context_days: str
    truncate_ips: bool
    error_field: str | None = None
    error: str | None = None


def retention_form(source: Source) -> RetentionForm:
    # For the source page's retention card (settings_source_retention.html).
    refused: RetentionForm | None = g.get("gincore_chats_retention_refused")
    if refused is not None:
        return refused
    rules = retention.policy(source)
    return RetentionForm(
        conversation_days=str(rules.conversation_days or ""),
        conversation_action=rules.conversation_action,
        context_days=str(rules.context_days or ""),
        truncate_ips=rules.truncate_ips,
    )


def save_retention(source_id: int) -> Any:
    state = get_state()
    source = state.session.get(Source, source_id)
    if source is None:
        abort(404)
    form = request.form.to_dict()
    try:
        rules = retention.clean_policy(form)
    except retention.RetentionError as exc:
        # The page again, with what was typed and the field to fix: nothing typed is lost.
        g.gincore_chats_retention_refused = RetentionForm(
            conversation_days=form.get("conversation_days", "")[:20],
            conversation_action=form.get("conversation_action", ""),
            context_days=form.get("context_days", "")[:20],
            truncate_ips="truncate_ips" in form,
            error_field=exc.field,
            error=error_text(exc),
        )
        if source.kind == SourceKind.WIDGET:
            return settings.source_page(source, {}), 400
        return channel_settings.render(source.kind, source, {}, 400)
    with unit_of_work(state.session):
        retention.do_save_policy(state, current_manager(state), source, rules)
    flash(_("Retention saved."))
    page = (
        "gincore_chats_settings.edit_source"
        if source.kind == SourceKind.WIDGET
        else "gincore_chats_channels.edit"
    )
    return redirect(url_for(page, source_id=source_id) + "#retention-title")


def _date(value: str | None, label: str, errors: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        errors.append(_("%(label)s: a date as YYYY-MM-DD.", label=label))
        return None


def audit_page() -> Any:
    state = get_state()
    args = request.args
    errors: list[str] = []
    action = (args.get("action") or "").strip()[:60] or None
    since = _date(args.get("from"), _("From"), errors)
    until = _date(args.get("to"), _("To"), errors)
    try:
        page = max(1, min(int(args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    filters = audit_log.Filters(
        action=action, since=since, until=until + timedelta(days=1) if until else None
    )
    rows, more = audit_log.page(state, filters, page, PAGE_SIZE)
    return render_template(
        "gincore_chats/settings_audit.html",
        csrf_token=csrf_token(),
        entries=rows,
        names=audit_log.manager_names(state, rows),
        actions=audit_log.actions(state),
        action=action or "",
        since=args.get("from", ""),
        until=args.get("to", ""),
        page=page,
        more=more,
        errors=errors,
    ), (400 if errors else 200)


ROUTES: list[Route] = [
    ("/settings/sources/<int:source_id>/retention", save_retention, ["POST"]),
    ("/settings/audit", audit_page, ["GET"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_privacy_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    bp.add_app_template_global(retention_form, "gincore_chats_retention_form")
    add_routes(bp, ROUTES)
    return bp
