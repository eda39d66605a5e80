"""The decorators views share: who may call them, the CSRF token, the JSON body, CORS.

In the style of Flask's tutorial (``login_required``) and Flask-Security-Too (``auth_required``,
``permissions_required``): a view says what it needs above its ``def``, and the checks run in
the order they are listed, top first. Put :func:`~.common.api_errors` on top so that what the
checks raise (a permission refused, a malformed body) becomes a JSON answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Blueprint, abort, current_app, g, request

from ..identity import Manager
from ..permissions import Permission, PermissionDenied
from ..state import ChatsState
from .common import (
    api_errors,
    csrf_valid,
    current_manager,
    json_body,
    json_error,
    login_required_response,
)
from .visitor_auth import cors_origin, with_cors

P = ParamSpec("P")
R = TypeVar("R")

_MANAGER = "gincore_chats_manager"
CSRF_REFUSED = "Missing or wrong CSRF token; reload the page."
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def may_use_console(manager: Manager) -> bool:
    return manager.can(Permission.VIEW) or manager.is_admin


def signed_in_manager() -> Manager:
    """The manager a ``manager_required`` (or ``console_page``) view was let in for."""
    manager: Manager = g.get(_MANAGER)
    if manager is None:
        raise RuntimeError("signed_in_manager() outside a view guarded by manager_required")
    return manager


def manager_required(view: Callable[P, R]) -> Callable[P, R]:
    """A JSON view of the console: logged in (else 401) with ``chats.view`` (else 403)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        manager = current_manager()
        if manager is None:
            abort(json_error(401, "Log in to use the console."))
        if not may_use_console(manager):
            abort(json_error(403, "You need the chats.view permission.", permission="chats.view"))
        setattr(g, _MANAGER, manager)
        return view(*args, **kwargs)

    return wrapper


def console_page(view: Callable[P, R]) -> Callable[P, R]:
    """An HTML page of the console: a logged-out browser goes to the host's login view."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        manager = current_manager()
        if manager is None:
            abort(login_required_response())
        if not may_use_console(manager):
            abort(403, "You need the chats.view permission to use the console.")
        setattr(g, _MANAGER, manager)
        return view(*args, **kwargs)

    return wrapper


def permission_required(
    permission: Permission, message: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Below :func:`manager_required`: the manager must also hold ``permission`` (else 403)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not signed_in_manager().can(permission):
                raise PermissionDenied(
                    message or f"You need the {permission.value} permission.", permission
                )
            return view(*args, **kwargs)

        return wrapper

    return decorator


def reject_bad_csrf() -> Any:
    """A ``before_request`` hook for the console's JSON blueprints: every write carries the
    session's token in ``X-CSRF-Token``."""
    if request.method in WRITE_METHODS and not csrf_valid():
        return json_error(400, CSRF_REFUSED)
    return None


def csrf_required(view: Callable[P, R]) -> Callable[P, R]:
    """The same check for one view of a blueprint that also serves cookie-less visitors."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if not csrf_valid():
            return json_error(400, CSRF_REFUSED)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def json_object(view: Callable[Concatenate[dict[str, Any], P], R]) -> Callable[P, R]:
    """Hand the view the request's JSON object as its first argument (errors are 400/413/415,
    see :mod:`.json_request`); list it below the checks that should run first."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return view(json_body(), *args, **kwargs)

    return wrapper


def optional_json_object(view: Callable[Concatenate[dict[str, Any], P], R]) -> Callable[P, R]:
    """As :func:`json_object`, but an empty body is ``{}``."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return view(json_body(optional=True), *args, **kwargs)

    return wrapper


def cors_api(view: Callable[P, Any]) -> Callable[P, Any]:
    """A visitor API view: errors as JSON, and CORS headers on every answer (errors too, so the
    widget can say why it was refused) for a well-formed Origin. No credentials: visitors
    have no cookies, only their bearer token."""
    guarded = api_errors(view)

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        response = current_app.make_response(guarded(*args, **kwargs))
        origin = cors_origin()
        return with_cors(response, origin) if origin else response

    return wrapper


def admin_pages_guard() -> None:
    """Every settings page: logged in (else the host's login view), ``chats.admin``, and the
    session's CSRF token on every POST."""
    manager = current_manager()
    if manager is None:
        abort(login_required_response())
    if not manager.is_admin:
        abort(403, "Chat settings need the chats.admin permission.")
    if request.method == "POST" and not csrf_valid():
        abort(400, "Missing or wrong CSRF token; reload the page and try again.")


def guard_admin_pages(bp: Blueprint, state: ChatsState) -> None:
    """One guard on the whole blueprint, so no settings page can forget a check."""
    bp.before_request(admin_pages_guard)
