"""Every failure under ``/api/v1`` becomes problem details: service errors, HTTP errors, unknown
paths and methods, and (logged) crashes. No HTML error page ever leaves the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import PathConverter

from ...json_input import JsonInputError
from ...permissions import PermissionDenied
from ...services.conversations.lifecycle import NotFound as ServiceNotFound
from ...services.files.attachments import UploadError
from ..common import INPUT_ERRORS
from .problems import ApiProblem, forbidden, invalid, not_found, response_for

log = logging.getLogger(__name__)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
CATCH_ALL = "gincore_chats_api.unknown"


def on_problem(exc: ApiProblem) -> Response:
    return response_for(exc)


def on_denied(exc: PermissionDenied) -> Response:
    return response_for(forbidden(str(exc), exc.permission))


def on_not_found(exc: ServiceNotFound) -> Response:
    return response_for(not_found(str(exc)))


def on_input(exc: ValueError) -> Response:
    if isinstance(exc, JsonInputError):
        problem = ApiProblem(
            exc.status, "malformed-body", "Malformed request body", str(exc), code=exc.code
        )
    else:
        # Sizes and types of uploads keep their own status (413, 415, 507).
        problem = invalid(str(exc), getattr(exc, "status", 422), type(exc).__name__)
    return response_for(problem)


def on_http(exc: HTTPException) -> Response:
    code = exc.code or 500
    slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(code, "http")
    problem = ApiProblem(code, slug, exc.name, exc.description or exc.name)
    response = response_for(problem)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def on_crash(exc: Exception) -> Response:
    log.exception("gincore_chats API: unhandled error in %s %s", request.method, request.path)
    return response_for(
        ApiProblem(
            500,
            "internal",
            "Internal error",
            "The server failed to answer this request; it has been logged.",
        )
    )


def unknown(rest: str = "") -> Any:
    """Paths under /api/v1 no operation has, and methods a path does not take."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != CATCH_ALL:
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound(f"No API operation at {request.path}; see the OpenAPI document.")


class AnyRest(PathConverter):
    """Any rest of a path, newlines included (Werkzeug's ``path`` stops at one, and the host
    app's HTML 404 would answer)."""

    regex = r"[\s\S]*"
    part_isolating = False


CONVERTER = "gincore_chats_rest"


def _add_converter(setup: BlueprintSetupState) -> None:
    setup.app.url_map.converters.setdefault(CONVERTER, AnyRest)


def register(bp: Blueprint, base: str) -> None:
    bp.record_once(_add_converter)
    bp.register_error_handler(ApiProblem, on_problem)
    bp.register_error_handler(PermissionDenied, on_denied)
    bp.register_error_handler(ServiceNotFound, on_not_found)
    for error in (*INPUT_ERRORS, UploadError):
        bp.register_error_handler(error, on_input)
    bp.register_error_handler(HTTPException, on_http)
    bp.register_error_handler(Exception, on_crash)
    for rule in (base, f"{base}/<{CONVERTER}:rest>"):
        bp.add_url_rule(
            rule,
            endpoint="unknown",
            view_func=unknown,
            methods=list(METHODS),
            provide_automatic_options=False,
        )
