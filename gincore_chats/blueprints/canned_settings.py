"""Admin settings (``chats.admin``): shared saved replies, for one inquiry source or all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _, error_text
from ..identity import Manager
from ..models import CannedResponse
from ..services import sources
from ..services.canned import responses, variables
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages


def page(status: int = 200, **context: Any) -> Any:
    state = get_state()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    all_sources = sources.list_sources(state)
    return render_template(
        "gincore_chats/settings_canned.html",
        csrf_token=csrf_token(),
        replies=responses.list_shared(state),
        sources=all_sources,
        source_names={s.id: s.name for s in all_sources},
        known=variables.KNOWN,
        text_max=responses.TEXT_MAX,
        **context,
    ), status


def index() -> Any:
    return page()


def _admin() -> Manager:
    manager = current_manager()
    if manager is None:  # the blueprint's guard let only admins in
        abort(403)
    return manager


def _shared(reply_id: int) -> CannedResponse:
    reply = get_state().session.get(CannedResponse, reply_id)
    if reply is None or reply.owner_id is not None:
        abort(404)
    return reply


def create() -> Any:
    state = get_state()
    form = request.form.to_dict()
    try:
        with unit_of_work(state.session):
            reply = responses.do_create(state, _admin(), form, shared=True)
            shortcut = reply.shortcut
    except responses.CannedError as exc:
        return page(400, errors={"new": error_text(exc)}, form=form)
    flash(_("Shared reply /%(shortcut)s created.", shortcut=shortcut))
    return redirect(url_for(".index"))


def update(reply_id: int) -> Any:
    state = get_state()
    try:
        with unit_of_work(state.session):
            reply = responses.do_update(state, _admin(), _shared(reply_id), request.form.to_dict())
            shortcut = reply.shortcut
    except responses.CannedError as exc:
        return page(400, errors={reply_id: error_text(exc)})
    flash(_("Shared reply /%(shortcut)s saved.", shortcut=shortcut))
    return redirect(url_for(".index"))


def delete(reply_id: int) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        responses.do_delete(state, _admin(), _shared(reply_id))
    flash(_("Shared reply deleted."))
    return redirect(url_for(".index"))


ROUTES: list[Route] = [
    ("/settings/canned", index, ["GET"]),
    ("/settings/canned", create, ["POST"]),
    ("/settings/canned/<int:reply_id>", update, ["POST"]),
    ("/settings/canned/<int:reply_id>/delete", delete, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_canned_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    add_routes(bp, ROUTES)
    return bp
