"""The console page itself, who the manager is, and their presence."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from ...models import Presence
from ...services.managers import presence
from ...services.managers import profiles as managers
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors, csrf_token, current_manager, json_error
from ..guards import console_page, json_object, manager_required, signed_in_manager


@console_page
def page() -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        managers.do_sync_profile(state, manager)
    return render_template(
        "gincore_chats/console.html",
        manager=manager,
        csrf_token=csrf_token(),
        config=state.config,
        permissions=sorted(manager.permissions),
    )


@api_errors
def me() -> Any:
    # Any logged-in user: the answer tells the UI (and the user) which permissions are missing.
    manager = current_manager()
    if manager is None:
        return json_error(401, "Log in to use the console.")
    return jsonify(
        id=manager.id,
        name=manager.name,
        avatar_url=manager.avatar_url,
        permissions=sorted(manager.permissions),
        csrf_token=csrf_token(),
    )


@api_errors
@manager_required
def get_presence() -> Any:
    manager = signed_in_manager()
    profile = managers.profiles(get_state(), {manager.id}).get(manager.id)
    return jsonify(status=profile.presence if profile else Presence.ONLINE)


@api_errors
@manager_required
@json_object
def set_presence(data: dict[str, Any]) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        profile = presence.do_set_status(state, manager, str(data.get("status")))
    return jsonify(status=profile.presence)


ROUTES: list[Route] = [
    ("/me", me, ["GET"]),
    ("/presence", get_presence, ["GET"]),
    ("/presence", set_presence, ["POST"]),
]
