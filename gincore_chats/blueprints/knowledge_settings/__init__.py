"""Admin pages (``chats.admin``) of the knowledge base: list, edit, publish, archive, merge,
split, import and export, and the thresholds and switches."""

from __future__ import annotations

from flask import Blueprint

from ...state import ChatsState
from ..common import add_routes
from ..guards import guard_admin_pages
from . import entries, library
from .page import source_name

BASE = "/settings/knowledge"


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_knowledge", __name__, template_folder="../../templates")
    guard_admin_pages(bp, state)
    add_routes(bp, library.ROUTES, BASE)
    add_routes(bp, entries.ROUTES, BASE)
    bp.add_app_template_global(source_name, "gincore_chats_source_name")
    return bp
