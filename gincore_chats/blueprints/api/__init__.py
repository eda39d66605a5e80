"""The public REST API (Pro), version 1, under ``CHATS_URL_PREFIX + "/api/v1"``.

One module per resource; each lists its ``ROUTES``. Requests run: plan check, bearer token,
rate limit, JSON body, ``Idempotency-Key`` (POST), validation by the operation's models, the
view (services in one unit of work), response validation. Every error is problem details
(:mod:`.errors`). The OpenAPI document is generated from the same models (:mod:`.spec`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ...state import ChatsState, get_state
from . import (
    contacts,
    conversations,
    errors,
    idempotency,
    knowledge,
    me,
    messages,
    sources,
    webhooks,
)
from .guard import guard
from .spec import document

BASE = "/api/v1"
RESOURCES = (me, sources, conversations, messages, contacts, knowledge, webhooks)


def openapi() -> Any:
    """The OpenAPI 3.1 document of this installation's API."""
    return jsonify(document(get_state()))


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_api", __name__)
    bp.before_request(guard)
    bp.before_request(idempotency.before)
    bp.after_request(idempotency.after)
    bp.teardown_request(idempotency.release)
    bp.add_url_rule(f"{BASE}/openapi.json", view_func=openapi, provide_automatic_options=False)
    for module in RESOURCES:
        for rule, view, methods in module.ROUTES:
            bp.add_url_rule(
                BASE + rule,
                endpoint=view.__name__,
                view_func=view,
                methods=methods,
                provide_automatic_options=False,
            )
    errors.register(bp, BASE)
    return bp
