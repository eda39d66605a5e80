"""A manager's own notification settings, browser push subscriptions, and the service worker.

Mounted next to the console (``<prefix>/console/...``): the service worker must be served from
the console's path to control its scope, and the API shares the console's login and CSRF rules.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_from_directory

from ..identity import Manager
from ..models import ManagerProfile
from ..services.managers import profiles as managers
from ..services.notifications import web_push
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, api_errors, json_body, json_error
from .guards import json_object, manager_required, reject_bad_csrf, signed_in_manager

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "gincore_chats")


def console_path() -> str:
    return f"{get_state().config.url_prefix}/console"


def service_worker() -> Any:
    response = send_from_directory(STATIC, "console-sw.js", max_age=0)
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    # The script lives under /console/ but controls /console itself (and ?c=...).
    response.headers["Service-Worker-Allowed"] = console_path()
    response.headers["Cache-Control"] = "no-cache"
    return response


def settings_for(manager: Manager) -> dict[str, Any]:
    state = get_state()
    profile = state.session.get(ManagerProfile, manager.id)
    keys = web_push.load_keys(state)
    return {
        "email_notifications": profile.email_notifications if profile else True,
        "email": manager.email,
        "push": {
            "public_key": keys.public_key if keys else None,
            "devices": web_push.device_count(state, manager.id),
            "service_worker": f"{console_path()}/sw.js",
            "scope": console_path(),
        },
    }


@api_errors
@manager_required
def get_settings() -> Any:
    return jsonify(settings_for(signed_in_manager()))


@api_errors
@manager_required
@json_object
def update_settings(data: dict[str, Any]) -> Any:
    state, manager = get_state(), signed_in_manager()
    value = data.get("email_notifications")
    if not isinstance(value, bool):
        return json_error(400, "email_notifications must be true or false.")
    with unit_of_work(state.session):
        managers.do_set_email_notifications(state, manager, value)
    return jsonify(settings_for(manager))


@api_errors
@manager_required
def subscribe() -> Any:
    state, manager = get_state(), signed_in_manager()
    if web_push.load_keys(state) is None:
        return json_error(409, "Browser notifications are not set up: ask an admin.")
    data = json_body()
    try:
        with unit_of_work(state.session):
            web_push.do_subscribe(
                state,
                manager.id,
                data,
                request.headers.get("User-Agent"),
                allow_http=current_app.testing,
            )
    except web_push.PushError as exc:
        return json_error(400, str(exc))
    return jsonify(subscribed=True, devices=web_push.device_count(state, manager.id)), 201


@api_errors
@manager_required
@json_object
def unsubscribe(data: dict[str, Any]) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        removed = web_push.do_unsubscribe(state, manager.id, data.get("endpoint"))
    return jsonify(removed=removed, devices=web_push.device_count(state, manager.id))


ROUTES: list[Route] = [
    ("/console/sw.js", service_worker, ["GET"]),
    ("/console/api/notifications", get_settings, ["GET"]),
    ("/console/api/notifications", update_settings, ["PATCH"]),
    ("/console/api/push-subscriptions", subscribe, ["POST"]),
    ("/console/api/push-subscriptions", unsubscribe, ["DELETE"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_notifications", __name__)
    bp.before_request(reject_bad_csrf)
    add_routes(bp, ROUTES)
    return bp
