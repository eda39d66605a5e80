"""RFC 9457 problem details: the only shape an API error has (``application/problem+json``).

``type`` is a tag URI naming the problem (``tag:gincore-chats,2026:problem/not-found``); the
list with their meanings is in ``docs/api.rst``. Validation problems carry ``errors``: one entry
per field, with its location (``["body", "name"]``, ``["query", "limit"]``) and message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

TYPE_BASE = "tag:gincore-chats,2026:problem/"
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, header or path, then names.")
    msg: str
    type: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI naming the problem type (see the API docs).")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    permission: str | None = Field(None, description="The permission that was missing.")
    retry_after: int | None = Field(None, description="Seconds until a retry may succeed.")
    code: str | None = Field(None, description="A finer reason, where one helps a client.")


class ApiProblem(Exception):
    """Raised anywhere in an API view; answered as problem details."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def response_for(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update({k: v for k, v in problem.extra.items() if v is not None})
    response = Response(json.dumps(body), status=problem.status, mimetype=MEDIA_TYPE)
    response.headers.update(problem.headers)
    return response


#: Names pydantic gives the members of a union in an error's location.
_UNION_TAGS = {"none", "int", "str", "bool", "float", "datetime", "dict", "list", "is-instance"}


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or "[" in part or "-" in part)


def field_errors(errors: list[Any], where: str) -> list[dict[str, Any]]:
    """Pydantic's errors without the offending input (it may be huge, or not JSON at all).

    A union (``str | None``) fails once per member; the client gets one error per field, its
    location free of the members' names.
    """
    result: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for e in errors:
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        while loc and _is_union_tag(loc[-1]):
            loc.pop()
        if tuple(loc) in seen:
            continue
        seen.add(tuple(loc))
        result.append(
            {"loc": [where, *loc], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        )
    return result


# -- the problems the API answers with -----------------------------------------------------------


def not_found(detail: str = "No such resource.") -> ApiProblem:
    return ApiProblem(404, "not-found", "Not found", detail)


def forbidden(detail: str, permission: str | None = None) -> ApiProblem:
    return ApiProblem(403, "forbidden", "Forbidden", detail, permission=permission)


def invalid(detail: str, status: int = 422, code: str | None = None) -> ApiProblem:
    """A business rule refused the input (pydantic checked its shape already)."""
    return ApiProblem(
        status, "invalid-request", "The request cannot be processed", detail, code=code
    )


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="gincore-chats"'},
    )
