"""A manager's own notification settings, browser push subscriptions, and the service worker.

Mounted next to the console (``<prefix>/console/...``): the service worker must be served from
the console's path to control its scope, and the API shares the console's login and CSRF rules.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, send_from_directory

from ..identity import Manager
from ..models import ManagerProfile
from ..permissions import Permission
from ..services import managers, web_push
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState
from .common import api_errors, csrf_valid, current_manager, json_body, json_error

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "gincore_chats")


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_notifications", __name__)
    console_path = f"{state.config.url_prefix}/console"

    @bp.before_request
    def check_csrf() -> Any:
        if request.method in ("POST", "PATCH", "PUT", "DELETE") and not csrf_valid():
            return json_error(400, "Missing or wrong CSRF token; reload the page.")
        return None

    def manager_or_abort() -> Manager:
        manager = current_manager(state)
        if manager is None:
            abort(json_error(401, "Log in to use the console."))
        if not (manager.can(Permission.VIEW) or manager.is_admin):
            abort(json_error(403, "You need the chats.view permission.", permission="chats.view"))
        return manager

    @bp.get("/console/sw.js")
    def service_worker() -> Any:
        response = send_from_directory(STATIC, "console-sw.js", max_age=0)
        response.headers["Content-Type"] = "application/javascript; charset=utf-8"
        # The script lives under /console/ but controls /console itself (and ?c=...).
        response.headers["Service-Worker-Allowed"] = console_path
        response.headers["Cache-Control"] = "no-cache"
        return response

    def settings_for(manager: Manager) -> dict[str, Any]:
        profile = state.session.get(ManagerProfile, manager.id)
        keys = web_push.load_keys(state)
        return {
            "email_notifications": profile.email_notifications if profile else True,
            "email": manager.email,
            "push": {
                "public_key": keys.public_key if keys else None,
                "devices": web_push.device_count(state, manager.id),
                "service_worker": f"{console_path}/sw.js",
                "scope": console_path,
            },
        }

    @bp.get("/console/api/notifications")
    @api_errors
    def get_settings() -> Any:
        manager = manager_or_abort()
        return jsonify(settings_for(manager))

    @bp.patch("/console/api/notifications")
    @api_errors
    def update_settings() -> Any:
        manager = manager_or_abort()
        value = json_body().get("email_notifications")
        if not isinstance(value, bool):
            return json_error(400, "email_notifications must be true or false.")
        with unit_of_work(state.session):
            managers.do_set_email_notifications(state, manager, value)
        return jsonify(settings_for(manager))

    @bp.post("/console/api/push-subscriptions")
    @api_errors
    def subscribe() -> Any:
        manager = manager_or_abort()
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

    @bp.delete("/console/api/push-subscriptions")
    @api_errors
    def unsubscribe() -> Any:
        manager = manager_or_abort()
        with unit_of_work(state.session):
            removed = web_push.do_unsubscribe(state, manager.id, json_body().get("endpoint"))
        return jsonify(removed=removed, devices=web_push.device_count(state, manager.id))

    return bp
