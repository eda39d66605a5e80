"""``/console/replies``: every manager's page for their own saved replies (a plain form page,
so it works without the console's scripts); shared ones are listed, admins edit them in the
settings (``/settings/canned``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from ...babel import _, error_text
from ...permissions import PermissionDenied
from ...services.canned import responses, variables
from ...services.errors import NotFound
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, csrf_token
from ..guards import console_page, signed_in_manager


def render(status: int = 200, **context: Any) -> Any:
    state, manager = get_state(), signed_in_manager()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    rows = responses.list_for_manager(state, manager)
    return render_template(
        "gincore_chats/console_replies.html",
        manager=manager,
        csrf_token=csrf_token(),
        own=[r for r in rows if r.owner_id is not None],
        shared=[r for r in rows if r.owner_id is None],
        known=variables.KNOWN,
        text_max=responses.TEXT_MAX,
        **context,
    ), status


@console_page
def replies_page() -> Any:
    return render()


@console_page
def save_new_reply() -> Any:
    state, manager = get_state(), signed_in_manager()
    form = request.form.to_dict()
    try:
        with unit_of_work(state.session):
            reply = responses.do_create(state, manager, form)
            shortcut = reply.shortcut
    except responses.CannedError as exc:
        return render(400, errors={"new": error_text(exc)}, form=form)
    flash(_("Saved reply /%(shortcut)s created.", shortcut=shortcut))
    return redirect(url_for(".replies_page"))


def _own(reply_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    try:
        reply = responses.get_reply(state, manager, reply_id)
    except NotFound:
        abort(404)
    if not responses.may_edit(manager, reply) or reply.owner_id is None:
        abort(403, "Shared replies are edited in the settings, by admins.")
    return reply


@console_page
def save_reply(reply_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    try:
        with unit_of_work(state.session):
            reply = responses.do_update(state, manager, _own(reply_id), request.form.to_dict())
            shortcut = reply.shortcut
    except responses.CannedError as exc:
        return render(400, errors={reply_id: error_text(exc)})
    except PermissionDenied:
        abort(403)
    flash(_("Saved reply /%(shortcut)s saved.", shortcut=shortcut))
    return redirect(url_for(".replies_page"))


@console_page
def remove_reply(reply_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        responses.do_delete(state, manager, _own(reply_id))
    flash(_("Saved reply deleted."))
    return redirect(url_for(".replies_page"))


ROUTES: list[Route] = [
    ("/console/replies", replies_page, ["GET"]),
    ("/console/replies", save_new_reply, ["POST"]),
    ("/console/replies/<int:reply_id>", save_reply, ["POST"]),
    ("/console/replies/<int:reply_id>/delete", remove_reply, ["POST"]),
]
