"""The API's schemas become its OpenAPI 3.1 document: one SpecTree instance, one decorator.

Every API view is declared with :func:`operation`: the pydantic models it names validate the
query string, the JSON body and the response, and the same models are what SpecTree turns into
the document served at ``<prefix>/api/v1/openapi.json``. Nothing in the document is written by
hand beside the code (docs/api.rst says why SpecTree).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from spectree import Response as Responses
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from ...state import ChatsState
from .problems import MEDIA_TYPE, ApiProblem, Problem, field_errors, response_for

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

API_VERSION = "1"
#: Models by class name -> where they are read from, for a validation problem's ``loc``.
_LOCATIONS: dict[str, str] = {}


class QueryModel(BaseModel):
    """Query-string parameters (strings on the wire, so converted, not strict)."""

    model_config = ConfigDict(extra="forbid")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _LOCATIONS[cls.__name__] = "query"


class BodyModel(BaseModel):
    """A JSON request body: strict types (``"5"`` is not a number), no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _LOCATIONS[cls.__name__] = "body"


class FormModel(BaseModel):
    """A multipart form (an upload): strings, so converted like a query."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _LOCATIONS[cls.__name__] = "body"


class IdempotencyHeaders(BaseModel):
    """Every POST takes an optional ``Idempotency-Key`` (see docs/api.rst)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    idempotency_key: str | SkipJsonSchema[None] = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\t -~]+$",
        description="A client-chosen unique key (a UUID): a retry with the same key and body "
        "returns the first answer and changes nothing.",
    )


_LOCATIONS[IdempotencyHeaders.__name__] = "header"


def validation_problem(error: ValidationError, where: str) -> ApiProblem:
    return ApiProblem(
        422,
        "validation",
        "Invalid request",
        f"The request {'body' if where == 'body' else where} has invalid fields.",
        errors=field_errors(error.errors(include_url=False, include_input=False), where),
    )


def _before(req: Any, resp: Any, error: Exception | None, _view: Any, _adapter: Any) -> None:
    if isinstance(error, ValidationError):
        raise validation_problem(error, _LOCATIONS.get(error.title, "body"))


def _after(req: Any, resp: Response, error: Exception | None, _view: Any, _adapter: Any) -> None:
    if error is not None:
        # Our own answer broke its schema: a bug, never the client's fault. Logged with the
        # details; the client gets problem details without them.
        log.error("gincore_chats API: response of %s breaks its schema: %s", req.path, error)
        resp.set_data(
            json.dumps(
                {
                    "type": "tag:gincore-chats,2026:problem/internal",
                    "title": "Internal error",
                    "status": 500,
                    "detail": "The server could not build a valid answer; it has been logged.",
                }
            )
        )
        resp.mimetype = MEDIA_TYPE


api_spec = SpecTree(
    "flask",
    mode="strict",
    annotations=False,
    title="gincore-chats REST API",
    version=API_VERSION,
    description=(
        "Conversations, messages, contacts, the knowledge base and outgoing webhooks of a "
        "gincore-chats installation. Authenticate with `Authorization: Bearer <token>` "
        "(Settings → API tokens). Errors are RFC 9457 problem details."
    ),
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="An API token (gcc_...)."
            ),
        )
    ],
    security={"bearer": []},
    before=_before,
    after=_after,
    validation_error_status=422,
    validation_error_model=Problem,
    # Plain model names: generated clients get ``Conversation``, not ``Conversation.7068f62``
    # (the models' names are unique across the API package).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)

#: Answers any operation may give besides its own.
COMMON_ERRORS = {
    "HTTP_400": (Problem, "Malformed request (not JSON, too deep, a bad cursor)"),
    "HTTP_401": (Problem, "Missing, unknown, expired or revoked token"),
    "HTTP_403": (Problem, "The plan, the token's scopes or its user's rights do not allow it"),
    "HTTP_404": (Problem, "No such resource (or not visible to this token)"),
    "HTTP_413": (Problem, "Request body too large"),
    "HTTP_415": (Problem, "Unsupported content type"),
    "HTTP_422": (Problem, "Invalid fields"),
    "HTTP_429": (Problem, "Rate limit reached; see Retry-After"),
}


def operation(
    *,
    tag: str,
    ok: Any = None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    errors: dict[str, Any] | None = None,
    post: bool = False,
    raw: bool = False,
) -> Callable[[F], F]:
    """Declare an API view: its inputs, its answer and the errors it documents.

    ``ok``: the model of the success answer (None: no body, e.g. 204). ``post``: a POST, which
    documents ``Idempotency-Key``. ``raw``: the view returns a response of its own (a file
    download): no response validation.
    """

    def decorate(view: F) -> F:
        codes: dict[str, Any] = {f"HTTP_{status}": ok, **COMMON_ERRORS, **(errors or {})}
        if post:
            codes["HTTP_409"] = (Problem, "A request with this Idempotency-Key is in progress")
        return api_spec.validate(  # type: ignore[no-any-return]
            query=query,
            json=body,
            form=form,
            headers=IdempotencyHeaders if post else None,
            resp=Responses(**codes),
            tags=[tag],
            operation_id=_camel(view.__name__),
            skip_validation=raw,
        )(view)

    return decorate


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def document(state: ChatsState) -> dict[str, Any]:
    """The OpenAPI document for this app (paths carry its CHATS_URL_PREFIX), built once."""
    cached = state.extras.get("openapi")
    if cached is None:
        # _generate_spec, not the cached .spec: one process may run two apps with different
        # prefixes, and each must get its own paths.
        cached = _finish(api_spec._generate_spec())
        state.extras["openapi"] = cached
    return cached  # type: ignore[no-any-return]


_CONVERSATION_OPS = [
    "getConversation",
    "listMessages",
    "sendMessage",
    "uploadAttachment",
    "closeConversation",
    "reopenConversation",
    "joinConversation",
    "leaveConversation",
]
_ENTRY_OPS = ["getEntry", "updateEntry", "publishEntry", "archiveEntry"]

#: OpenAPI links: (operation, status) -> [(target operation, {path parameter: where})].
#: Client generators and stateful testing follow them from a list to its items.
LINKS: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = {
    ("listConversations", "200"): [
        (op, {"conversation_id": "$response.body#/items/0/id"}) for op in _CONVERSATION_OPS
    ],
    ("getConversation", "200"): [
        (op, {"conversation_id": "$response.body#/id"}) for op in _CONVERSATION_OPS
    ]
    + [("getContact", {"contact_id": "$response.body#/contact/id"})],
    ("sendMessage", "201"): [
        (
            op,
            {
                "conversation_id": "$response.body#/message/conversation_id",
                "message_id": "$response.body#/message/id",
            },
        )
        for op in ("editMessage", "deleteMessage")
    ],
    ("searchContacts", "200"): [
        (op, {"contact_id": "$response.body#/items/0/id"}) for op in ("getContact", "updateContact")
    ],
    ("listEntries", "200"): [(op, {"entry_id": "$response.body#/items/0/id"}) for op in _ENTRY_OPS],
    ("createEntry", "201"): [(op, {"entry_id": "$response.body#/id"}) for op in _ENTRY_OPS],
    ("createWebhook", "201"): [
        (op, {"webhook_id": "$response.body#/id"})
        for op in ("getWebhook", "updateWebhook", "listDeliveries", "rotateWebhookSecret")
    ],
    ("listWebhooks", "200"): [
        (op, {"webhook_id": "$response.body#/items/0/id"})
        for op in ("getWebhook", "updateWebhook", "listDeliveries", "deleteWebhook")
    ],
}


def _add_links(spec: dict[str, Any]) -> None:
    operations = {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}
    for (source, status), targets in LINKS.items():
        if source not in operations:
            continue
        answer = operations[source]["responses"][status]
        answer["links"] = {
            target[0].upper() + target[1:]: {"operationId": target, "parameters": params}
            for target, params in targets
            if target in operations
        }


def _finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Problem answers are ``application/problem+json``; row ids in paths are 64-bit."""
    for path_item in spec["paths"].values():
        for op in path_item.values():
            for parameter in op.get("parameters", []):
                schema = parameter.get("schema") or {}
                if parameter["in"] == "path" and schema.get("format") == "int32":
                    schema.update(format="int64", minimum=1)
            for answer in op.get("responses", {}).values():
                content = answer.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref", "").endswith("/Problem"):
                    answer["content"] = {MEDIA_TYPE: {"schema": schema}}
    _add_links(spec)
    return spec


def is_api_request() -> bool:
    return request.blueprint == "gincore_chats_api"


__all__ = ["api_spec", "document", "operation", "response_for"]
