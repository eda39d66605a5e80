"""What every blueprint needs: the current manager, JSON errors, CSRF, origin checks."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from ..identity import Manager, describe
from ..models import Message
from ..origins import parse_origin
from ..permissions import PermissionDenied
from ..rate_limit import RateLimited
from ..services.contacts.customers import ContactError
from ..services.conversations.lifecycle import NotFound
from ..services.conversations.message_events import message_wire, message_wire_text
from ..services.conversations.messages import MessageError
from ..services.sources import SourceError
from ..state import ChatsState, get_state
from .json_request import read_object

F = TypeVar("F", bound=Callable[..., Any])

_CSRF_KEY = "_gincore_chats_csrf"

#: Service errors that mean "your input was wrong": a 400 with the service's message.
INPUT_ERRORS = (MessageError, ContactError, SourceError, ValueError)


def json_error(status: int, message: str, **extra: Any) -> Any:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def message_answer(message: Message, created: bool) -> Any:
    """``{"message": ..., "created": ...}``, 201 or 200. Made before commit (afterwards the
    expired row would be loaded again); where the send made the message's JSON, that text."""
    status = 201 if created else 200
    text = message_wire_text(message)
    if text is None:
        response = jsonify(message=message_wire(message), created=created)
        response.status_code = status
        return response
    body = f'{{"message":{text},"created":{"true" if created else "false"}}}\n'
    return current_app.response_class(body, status=status, mimetype="application/json")


def current_manager(state: ChatsState | None = None) -> Manager | None:
    if not current_user or not current_user.is_authenticated:
        return None
    return describe(current_user._get_current_object(), (state or get_state()).hooks)


def login_required_response() -> Any:
    """Send a logged-out browser to the host's login view (Flask-Login's), else a plain 401."""
    login_manager = getattr(current_app, "login_manager", None)
    login_view = getattr(login_manager, "login_view", None)
    if login_view:
        return redirect(url_for(login_view, next=request.full_path))
    return current_app.make_response(("Log in to use the chats.", 401))


def csrf_token() -> str:
    token = session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return str(token)


def csrf_valid() -> bool:
    expected = session.get(_CSRF_KEY)
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    return bool(expected and given and secrets.compare_digest(str(expected), str(given)))


def same_origin(state: ChatsState, origin: str | None) -> bool:
    """Is this Origin the app itself (or a configured console origin)?"""
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    if str(parsed) in {str(parse_origin(o)) for o in state.config.console_origins}:
        return True
    # Host and port: the scheme Flask sees behind a TLS proxy may differ from the page's.
    return parsed.netloc == request.host.lower()


def api_errors(view: F) -> F:
    """Turn service exceptions into JSON answers with a clear message."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except PermissionDenied as exc:
            return json_error(403, str(exc), permission=exc.permission)
        except NotFound as exc:
            return json_error(404, str(exc))
        except RateLimited as exc:
            response = json_error(429, str(exc), retry_after=exc.retry_after)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except INPUT_ERRORS as exc:
            # An input error may carry its own status (413 too large, 415 type, 507 quota)
            # and code (the JSON reader's "too_deep" ...).
            code = getattr(exc, "code", None) or type(exc).__name__
            return json_error(getattr(exc, "status", 400), str(exc), code=code)

    return wrapper  # type: ignore[return-value]


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, read by :mod:`.json_request` (errors are 400/413/415).
    ``optional``: an empty body is ``{}``."""
    return read_object(get_state().config.json_max_body, optional=optional)


def client_ip(state: ChatsState) -> str | None:
    hops = state.config.trusted_proxies
    if hops:
        forwarded = [
            p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()
        ]
        # Only an address: a proxy that passes on what the client wrote must not put
        # arbitrary text into the visitor's context (or the rate limiter's keys).
        if len(forwarded) >= hops and _is_ip(forwarded[-hops]):
            return forwarded[-hops]
    return request.remote_addr


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return len(value) <= 45  # the column; an IPv6 zone id could make it longer


#: One route of a blueprint's table: the rule, the view (its name is the endpoint), the methods.
Route = tuple[str, Callable[..., Any], list[str]]


def add_routes(bp: Blueprint, routes: list[Route], prefix: str = "") -> None:
    """Wire a module's route table; each view keeps its own name as the endpoint."""
    for rule, view, methods in routes:
        bp.add_url_rule(prefix + rule, view_func=view, methods=methods)
