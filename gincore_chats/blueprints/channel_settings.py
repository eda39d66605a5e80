"""Admin settings for messenger channel sources (``chats.admin``): credentials, employees,
the webhook URL, and the Connect button that registers the webhook with the platform."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _, ngettext
from ..channels.registry import can_connect, channel_kinds, label
from ..models import Source, SourceKind
from ..services import sources
from ..services.channels import connection as source_connection
from ..services.channels import inbound_failures
from ..services.channels import sources as channel_sources
from ..services.managers import profiles as managers
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages


def channel_kind_choices() -> list[tuple[str, str]]:
    """The sources list links to a "new channel" page per kind."""
    return [(kind, label(kind)) for kind in channel_kinds()]


def kind_or_404(kind: str) -> str:
    if kind not in channel_kinds():
        abort(404)
    return kind


def load(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None or source.kind == SourceKind.WIDGET:
        abort(404)
    return source


def base_url() -> str:
    return request.url_root.rstrip("/")


def submitted(kind: str) -> dict[str, str]:
    names = channel_sources.adapter_for(kind).credential_fields
    return {name: request.form.get(f"credential_{name}", "") for name in names}


def render(kind: str, source: Source | None, errors: dict[str, str], status: int = 200) -> Any:
    state = get_state()
    adapter = channel_sources.adapter_for(kind)
    context: dict[str, Any] = {
        "kind": kind,
        "kind_label": label(kind),
        "source": source,
        "errors": errors,
        "fields": channel_sources.credential_form(state, kind, source),
        "can_connect": can_connect(adapter),
        "supports_edit": adapter.supports_edit,
        "csrf_token": csrf_token(),
        "is_admin": True,
    }
    if source is not None:
        context.update(
            candidates=managers.candidates(state),
            generated=channel_sources.shown_generated(state, source),
            webhook_url=channel_sources.webhook_url(state, source, base_url()),
            connected=(source.settings or {}).get("connected"),
            failures=inbound_failures.failures_of(state, source.id),
        )
    return render_template("gincore_chats/settings_channel.html", **context), status


def refused(source_id: int, field: str, exc: Exception) -> Any:
    """The source's page again, its rows read afresh, with the service's reason."""
    get_state().session.rollback()
    source = load(source_id)
    return render(source.kind, source, {field: str(exc)}, 400)


def new(kind: str) -> Any:
    return render(kind_or_404(kind), None, {})


def create(kind: str) -> Any:
    state = get_state()
    kind = kind_or_404(kind)
    try:
        with unit_of_work(state.session):
            source = channel_sources.do_create_channel_source(
                state, kind, request.form.get("name", ""), submitted(kind)
            )
    except sources.SourceError as exc:
        return render(kind, None, {"form": str(exc)}, 400)
    flash(_("Source “%(name)s” created. Connect it below.", name=source.name))
    return redirect(url_for(".edit", source_id=source.id))


def edit(source_id: int) -> Any:
    source = load(source_id)
    return render(source.kind, source, {})


def update(source_id: int) -> Any:
    state = get_state()
    source = load(source_id)
    try:
        with unit_of_work(state.session):
            sources.do_update_source(
                state,
                source,
                name=request.form.get("name", source.name),
                active=request.form.get("active") == "on",
            )
            channel_sources.do_update_credentials(state, source, submitted(source.kind))
            sources.do_set_employees(state, source, request.form.getlist("employees"))
    except sources.SourceError as exc:
        return refused(source_id, "form", exc)
    flash(_("Saved."))
    return redirect(url_for(".edit", source_id=source.id))


def connect(source_id: int) -> Any:
    load(source_id)
    try:
        # Not in a unit of work: the platform is called between two units of work.
        message = source_connection.register_webhook(
            get_state(), current_manager(), source_id, base_url()
        )
    except sources.SourceError as exc:
        return refused(source_id, "connect", exc)
    flash(message)
    return redirect(url_for(".edit", source_id=source_id))


def process_failed_again(source_id: int) -> Any:
    state = get_state()
    source = load(source_id)
    with unit_of_work(state.session):
        queued = inbound_failures.do_queue_failed(state, source.id)
    flash(
        ngettext(
            "%(num)d failed delivery is being processed again; reload to see the result.",
            "%(num)d failed deliveries are being processed again; reload to see the result.",
            queued,
        )
        if queued
        else _("No failed deliveries to process.")
    )
    return redirect(url_for(".edit", source_id=source_id, _anchor="inbound-failures"))


ROUTES: list[Route] = [
    ("/settings/channels/new/<kind>", new, ["GET"]),
    ("/settings/channels/new/<kind>", create, ["POST"]),
    ("/settings/channels/<int:source_id>", edit, ["GET"]),
    ("/settings/channels/<int:source_id>", update, ["POST"]),
    ("/settings/channels/<int:source_id>/connect", connect, ["POST"]),
    ("/settings/channels/<int:source_id>/inbound/process-again", process_failed_again, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_channels", __name__, template_folder="../templates")
    bp.add_app_template_global(channel_kind_choices, "gincore_chats_channel_kinds")
    guard_admin_pages(bp, state)
    add_routes(bp, ROUTES)
    return bp
