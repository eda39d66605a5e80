"""What runs before every API view: the plan, the bearer token, the rate limit, the JSON body.

The API never looks at the session cookie: a request is authenticated by its token alone, so
a browser holding a console session cannot be made to call it (no CSRF surface).
"""

from __future__ import annotations

from flask import current_app, g, request

from ...host import user_loader
from ...identity import Manager
from ...json_input import JsonInputError
from ...models import ApiToken
from ...rate_limit import RateLimited, hit
from ...services.api import tokens as api_tokens
from ...services.unit_of_work import unit_of_work
from ...state import ChatsState, get_state
from ..json_request import read_object
from .problems import ApiProblem, unauthorized

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
#: Views anyone may call on the Pro plan (the document a client is generated from).
PUBLIC_ENDPOINTS = {"gincore_chats_api.openapi"}


def pro_required() -> ApiProblem:
    return ApiProblem(
        403,
        "pro-plan-required",
        "The API needs the Pro plan",
        "The REST API and webhooks are part of the Pro plan; this installation runs the free "
        'plan (CHATS_PLAN = "free"). Ask its administrator to switch to CHATS_PLAN = "pro".',
    )


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(state: ChatsState) -> tuple[ApiToken, Manager]:
    raw = _bearer()
    if raw is None:
        raise unauthorized("Send an API token: Authorization: Bearer <token>.")
    token = api_tokens.find_valid(state, raw)
    if token is None:
        raise unauthorized("The token is unknown, expired or revoked.")
    manager = api_tokens.acting_manager(state, token, user_loader(current_app))
    if manager is None:
        raise unauthorized("The token's user no longer exists; create a new token.")
    return token, manager


def limit(state: ChatsState, token: ApiToken) -> None:
    try:
        hit(state, "api", str(token.id), state.config.api_rate_limit, "Too many requests")
    except RateLimited as exc:
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many requests",
            f"This token may make {state.config.api_rate_limit.count} requests per "
            f"{state.config.api_rate_limit.seconds} seconds; retry in {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
            retry_after=exc.retry_after,
        ) from None


def read_json_body(state: ChatsState) -> None:
    """Read a JSON body with the library's one reader (clear 400/413/415, storable strings)
    and hand it to the validation as Flask's cached JSON."""
    if request.method not in ("POST", "PATCH", "PUT") or request.mimetype in FORM_TYPES:
        return
    try:
        data = read_object(state.config.json_max_body, optional=True)
    except JsonInputError as exc:
        raise ApiProblem(
            exc.status, "malformed-body", "Malformed request body", str(exc), code=exc.code
        ) from None
    # The validation reads request.get_json(); the stream is consumed, so give it our result.
    request._cached_json = (data, data)


def guard() -> None:
    state = get_state()
    if not state.config.is_pro:
        raise pro_required()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    token, manager = authenticate(state)
    g.gincore_api_token_id = token.id
    g.gincore_api_manager = manager
    limit(state, token)
    with unit_of_work(state.session):
        api_tokens.do_touch(state, token)
    read_json_body(state)


def current_manager() -> Manager:
    manager: Manager = g.gincore_api_manager
    return manager


def current_token_id() -> int:
    return int(g.gincore_api_token_id)
