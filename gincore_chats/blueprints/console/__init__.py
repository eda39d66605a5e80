"""The operator console: a page, a JSON API for reads and writes, and a WebSocket for live events.

Every route checks login, the permission it needs, and that the manager is assigned to the
conversation's source (admins see all). Writes need the session's CSRF token in
``X-CSRF-Token``; the WebSocket accepts only the app's own Origin (no cross-site hijacking).
One module per resource, each listing its ``ROUTES`` under ``/console/api``.
"""

from __future__ import annotations

from flask import Blueprint
from flask_sock import Sock

from ...state import ChatsState
from ..common import add_routes
from ..guards import reject_bad_csrf
from . import (
    ai,
    canned,
    contacts,
    conversations,
    customers,
    labels,
    messages,
    pages,
    replies_page,
    reports,
)
from .socket import console_socket

API = "/console/api"
RESOURCES = (pages, conversations, messages, customers, contacts, ai, labels, canned, reports)


class ConsoleBlueprint(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        # The console's ES modules import each other by plain URL: always revalidate them
        # (ETag, 304) even if the host sets SEND_FILE_MAX_AGE_DEFAULT, so a browser never runs
        # cached modules of two releases together.
        if filename and filename.startswith("console") and filename.endswith(".js"):
            return None
        return super().get_send_file_max_age(filename)


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = ConsoleBlueprint(
        "gincore_chats_console",
        __name__,
        template_folder="../../templates",
        static_folder="../../static/gincore_chats",
        static_url_path="/static",
    )
    bp.before_request(reject_bad_csrf)
    bp.add_url_rule("/console", view_func=pages.page)
    add_routes(bp, replies_page.ROUTES)
    bp.add_url_rule("/console/reports", "reports_page", view_func=reports.page)
    for module in RESOURCES:
        add_routes(bp, module.ROUTES, API)
    Sock().route("/console/ws", bp=bp)(console_socket)
    return bp
