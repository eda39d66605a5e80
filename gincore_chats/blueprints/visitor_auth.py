"""How every visitor-facing request is authorised: the Origin, then the bearer token.

Shared by the widget API and the widget's file routes, so both refuse the same things with
the same words.
"""

from __future__ import annotations

from flask import Response, request

from ..models import Conversation, Source
from ..permissions import PermissionDenied
from ..services import conversations
from ..services.sources import origin_allowed
from ..state import ChatsState


def check_origin(source: Source) -> str:
    origin = request.headers.get("Origin")
    if not source.active:
        raise PermissionDenied("This chat is switched off.")
    if not origin_allowed(source, origin):
        raise PermissionDenied(
            f"The chat is not enabled on {origin or 'this page'}: add the domain to the "
            "source's allowed domains in the chat settings."
        )
    return str(origin)


def visitor_conversation(state: ChatsState) -> tuple[Conversation, str]:
    """The conversation the bearer token opens, after the Origin check."""
    auth = request.headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else None
    conv = conversations.access_by_visitor_token(state, token)
    return conv, check_origin(conv.source)


def with_cors(response: Response, origin: str) -> Response:
    # No Allow-Credentials: visitors have no cookies, only the bearer token.
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


def preflight_response(origin: str, methods: str) -> Response:
    from flask import current_app

    response = current_app.make_response(("", 204))
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return with_cors(response, origin)
