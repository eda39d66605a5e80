"""Answer suggestions in the widget while the visitor types (a per-source switch, off by
default). Same checks as the rest of the widget API: the Origin, then the bearer token; CORS
without credentials; a per-IP rate limit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .. import rate_limit
from ..babel import _
from ..knowledge.language import detect
from ..services.knowledge import retrieval
from ..services.knowledge.settings import widget_enabled
from ..state import ChatsState, get_state
from . import visitor_auth
from .common import api_errors, client_ip, json_error
from .widget import visitor_locale

MIN_QUERY = 8
MAX_QUERY = 500
PATH = "/widget/api/kb/suggestions"


def _answer() -> Any:
    state = get_state()
    conv, _origin = visitor_auth.visitor_conversation(state)
    if not widget_enabled(conv.source):
        return jsonify(enabled=False, matches=[])
    text = (request.args.get("q") or "").strip()[:MAX_QUERY]
    if len(text) < MIN_QUERY:
        return jsonify(enabled=True, matches=[])
    with visitor_locale(conv.language):
        too_fast = _("You are sending messages too fast. Please wait a moment.")
    rate_limit.hit(
        state, "kb", client_ip(state) or "-", state.config.rate_limit_suggestions, too_fast
    )
    matches = retrieval.search(
        state,
        text=text,
        language=detect(text, conv.language),
        source_id=conv.source_id,
        limit=3,
    )
    return jsonify(
        enabled=True,
        matches=[
            {"entry_id": m.entry_id, "question": m.question, "answer": m.answer}
            for m in matches
            if m.grounded
        ],
    )


def suggestions() -> Any:
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        if not origin:
            return json_error(400, "Origin required.")
        return visitor_auth.preflight_response(origin, "GET, OPTIONS")
    response = current_app.make_response(api_errors(_answer)())
    if origin:
        visitor_auth.with_cors(response, origin)
    return response


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_knowledge_widget", __name__)
    bp.add_url_rule(PATH, view_func=suggestions, methods=["GET", "OPTIONS"])
    return bp
