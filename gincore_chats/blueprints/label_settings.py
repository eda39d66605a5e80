"""Admin settings (``chats.admin``): the labels managers put on conversations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..babel import _, error_text
from ..services.labels import catalog
from ..services.labels.catalog import LabelError
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, csrf_token, current_manager
from .guards import guard_admin_pages


def page(status: int = 200, **context: Any) -> Any:
    state = get_state()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_template(
        "gincore_chats/settings_labels.html",
        csrf_token=csrf_token(),
        labels=catalog.list_labels(state),
        usage=catalog.usage(state),
        name_max=catalog.NAME_MAX,
        default_color=catalog.DEFAULT_COLOR,
        **context,
    ), status


def index() -> Any:
    return page()


def _admin() -> Any:
    manager = current_manager()
    if manager is None:  # the blueprint's guard let only admins in
        abort(403)
    return manager


def create() -> Any:
    state = get_state()
    form = request.form.to_dict()
    try:
        with unit_of_work(state.session):
            label = catalog.do_create_label(state, _admin(), form.get("name"), form.get("color"))
            name = label.name
    except LabelError as exc:
        return page(400, errors={"new": error_text(exc)}, form=form)
    flash(_("Label “%(name)s” created.", name=name))
    return redirect(url_for(".index"))


def _load(label_id: int) -> Any:
    try:
        return catalog.get_label(get_state(), label_id)
    except LookupError:
        abort(404)


def update(label_id: int) -> Any:
    state = get_state()
    form = request.form.to_dict()
    try:
        with unit_of_work(state.session):
            label = catalog.do_update_label(
                state, _admin(), _load(label_id), form.get("name"), form.get("color")
            )
            name = label.name
    except LabelError as exc:
        return page(400, errors={label_id: error_text(exc)})
    flash(_("Label “%(name)s” saved.", name=name))
    return redirect(url_for(".index"))


def delete(label_id: int) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        label = _load(label_id)
        name = label.name
        catalog.do_delete_label(state, _admin(), label)
    flash(_("Label “%(name)s” deleted.", name=name))
    return redirect(url_for(".index"))


ROUTES: list[Route] = [
    ("/settings/labels", index, ["GET"]),
    ("/settings/labels", create, ["POST"]),
    ("/settings/labels/<int:label_id>", update, ["POST"]),
    ("/settings/labels/<int:label_id>/delete", delete, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_label_settings", __name__, template_folder="../templates")
    guard_admin_pages(bp, state)
    add_routes(bp, ROUTES)
    return bp
