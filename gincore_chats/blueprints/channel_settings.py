"""Admin settings for messenger channel sources (``chats.admin``): credentials, employees,
the webhook URL, and the Connect button that registers the webhook with the platform."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..channels.registry import can_connect, channel_kinds, label
from ..models import Source, SourceKind
from ..services import channel_sources, inbound_failures, managers, source_connection, sources
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState
from .common import csrf_token, current_manager, guard_admin_pages


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_channels", __name__, template_folder="../templates")
    # The sources list links to a "new channel" page per kind.
    bp.add_app_template_global(
        lambda: [(kind, label(kind)) for kind in channel_kinds()], "gincore_chats_channel_kinds"
    )

    guard_admin_pages(bp, state)

    def kind_or_404(kind: str) -> str:
        if kind not in channel_kinds():
            abort(404)
        return kind

    def load(source_id: int) -> Source:
        source = state.session.get(Source, source_id)
        if source is None or source.kind == SourceKind.WIDGET:
            abort(404)
        return source

    def base_url() -> str:
        return request.url_root.rstrip("/")

    def submitted(kind: str) -> dict[str, str]:
        names = channel_sources.adapter_for(kind).credential_fields
        return {name: request.form.get(f"credential_{name}", "") for name in names}

    def render(kind: str, source: Source | None, errors: dict[str, str], status: int = 200) -> Any:
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
        html = render_template("gincore_chats/settings_channel.html", **context)
        return html, status

    @bp.get("/settings/channels/new/<kind>")
    def new(kind: str) -> Any:
        return render(kind_or_404(kind), None, {})

    @bp.post("/settings/channels/new/<kind>")
    def create(kind: str) -> Any:
        kind = kind_or_404(kind)
        try:
            with unit_of_work(state.session):
                source = channel_sources.do_create_channel_source(
                    state, kind, request.form.get("name", ""), submitted(kind)
                )
        except sources.SourceError as exc:
            return render(kind, None, {"form": str(exc)}, 400)
        flash(f"Source “{source.name}” created. Connect it below.")
        return redirect(url_for(".edit", source_id=source.id))

    @bp.get("/settings/channels/<int:source_id>")
    def edit(source_id: int) -> Any:
        source = load(source_id)
        return render(source.kind, source, {})

    @bp.post("/settings/channels/<int:source_id>")
    def update(source_id: int) -> Any:
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
            source = load(source_id)
            return render(source.kind, source, {"form": str(exc)}, 400)
        flash("Saved.")
        return redirect(url_for(".edit", source_id=source.id))

    @bp.post("/settings/channels/<int:source_id>/connect")
    def connect(source_id: int) -> Any:
        load(source_id)
        try:
            # Outside a transaction: the platform is called between two units of work.
            message = source_connection.register_webhook(
                state, current_manager(state), source_id, base_url()
            )
        except sources.SourceError as exc:
            source = load(source_id)
            return render(source.kind, source, {"connect": str(exc)}, 400)
        flash(message)
        return redirect(url_for(".edit", source_id=source_id))

    @bp.post("/settings/channels/<int:source_id>/inbound/process-again")
    def process_failed_again(source_id: int) -> Any:
        source = load(source_id)
        with unit_of_work(state.session):
            queued = inbound_failures.do_queue_failed(state, source.id)
        flash(
            f"{queued} failed deliveries are being processed again; reload to see the result."
            if queued
            else "No failed deliveries to process."
        )
        return redirect(url_for(".edit", source_id=source_id, _anchor="inbound-failures"))

    return bp
