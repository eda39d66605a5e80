"""Admin settings (``chats.admin``): inquiry sources, their domains, employees and snippet."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _
from ..channels.registry import LABELS
from ..models import Source, SourceKind
from ..services import sources
from ..services.audit_log import do_record
from ..services.channels import inbound_failures
from ..services.contacts import host_identity
from ..services.files import attachments
from ..services.managers import profiles as managers
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from . import settings_ui
from .common import Route, add_routes, csrf_token
from .guards import current_manager, guard_admin_pages


def snippet(source: Source) -> str:
    src = url_for("gincore_chats_widget.loader", _external=True)
    return f'<script src="{src}" data-key="{source.public_key}" async></script>'


def render(template: str, **context: Any) -> str:
    return render_template(f"gincore_chats/{template}", csrf_token=csrf_token(), **context)


def index_page(errors: dict[str, str], form: dict[str, str]) -> str:
    state = get_state()
    return render(
        "settings_index.html",
        sources=sources.list_sources(state),
        kind_labels={SourceKind.WIDGET: "Website widget", **LABELS},
        errors=errors,
        form=form,
        storage=attachments.usage(state),
        failures=inbound_failures.failures_by_source(state),
    )


def source_page(source: Source, errors: dict[str, str]) -> str:
    return render(
        "settings_source.html",
        source=source,
        snippet=snippet(source),
        errors=errors,
        candidates=managers.candidates(get_state()),
        is_widget=source.kind == SourceKind.WIDGET,
        identity_secret=host_identity.identity_secret(get_state(), source),
    )


def load(source_id: int) -> Source:
    source = get_state().session.get(Source, source_id)
    if source is None:
        abort(404)
    return source


def index() -> Any:
    return index_page({}, {})


def create_source() -> Any:
    state = get_state()
    form = {"name": request.form.get("name", ""), "domains": request.form.get("domains", "")}
    try:
        with unit_of_work(state.session):
            source = sources.do_create_widget_source(state, form["name"], form["domains"])
    except sources.SourceError as exc:
        return index_page({"form": str(exc)}, form), 400
    flash(_("Source “%(name)s” created. Paste the snippet below into your site.", name=source.name))
    return redirect(url_for(".edit_source", source_id=source.id))


def edit_source(source_id: int) -> Any:
    source = load(source_id)
    if source.kind != SourceKind.WIDGET:
        # Messenger channels have their own page (credentials, webhook, connect).
        return redirect(url_for("gincore_chats_channels.edit", source_id=source.id))
    return source_page(source, {})


def update_source(source_id: int) -> Any:
    state = get_state()
    source = load(source_id)
    try:
        with unit_of_work(state.session):
            sources.do_update_source(
                state,
                source,
                name=request.form.get("name", source.name),
                domains=request.form.get("domains") if source.kind == SourceKind.WIDGET else None,
                active=request.form.get("active") == "on",
            )
            sources.do_set_employees(state, source, request.form.getlist("employees"))
    except sources.SourceError as exc:
        state.session.rollback()
        return source_page(load(source_id), {"form": str(exc)}), 400
    flash(_("Saved."))
    return redirect(url_for(".edit_source", source_id=source.id))


def rotate_identity_secret(source_id: int) -> Any:
    """Create (or replace) the secret the host signs visitor identities with."""
    state = get_state()
    source = load(source_id)
    if source.kind != SourceKind.WIDGET:
        abort(404)
    with unit_of_work(state.session):
        had = host_identity.identity_secret(state, source) is not None
        host_identity.do_rotate_identity_secret(state, source)
        do_record(
            state, current_manager(), "source.identity_secret", "source", source.id, replaced=had
        )
    flash(
        _("New identity secret made: identities signed with the old one are no longer verified.")
        if had
        else _("Identity secret made: sign your users' identities with it on your server.")
    )
    return redirect(url_for(".edit_source", source_id=source.id) + "#identity-title")


ROUTES: list[Route] = [
    ("/settings", index, ["GET"]),
    ("/settings/sources", create_source, ["POST"]),
    ("/settings/sources/<int:source_id>", edit_source, ["GET"]),
    ("/settings/sources/<int:source_id>", update_source, ["POST"]),
    ("/settings/sources/<int:source_id>/identity-secret", rotate_identity_secret, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    settings_ui.register(bp, state)
    add_routes(bp, ROUTES)
    return bp
