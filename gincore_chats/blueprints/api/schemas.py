"""Response models shared by several resources; each mirrors a shape of :mod:`..serialize`.

The API answers with instances of these models, built from the serializer's dicts (the wire
shapes the console and realtime events already use), so every audience sees one shape.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field
from pydantic.functional_validators import AfterValidator, BeforeValidator
from pydantic.json_schema import SkipJsonSchema

from ...json_input import storable_text
from ...models import MessageKind
from ...serialize import attachment_dict, contact_dict, redact_contact

#: Page sizes: the default comes from CHATS_PAGE_SIZE, at most this many.
MAX_LIMIT = 200

#: A query-string text that reaches the database: NULs and lone surrogates removed.
QueryText = Annotated[str, AfterValidator(storable_text)]
#: An optional query parameter, documented without a null alternative (a query string has no
#: null; absent means "not given").
Maybe = SkipJsonSchema[None]


def _integral(value: Any) -> Any:
    # JSON does not tell 2 from 2.0, and JSON Schema calls both an integer; strings stay out.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: A row id in a JSON body: an integer (2.0 too), never a string of digits.
BodyId = Annotated[int, Field(ge=1, lt=2**63), BeforeValidator(_integral)]

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[
    str, Field(min_length=1, max_length=500, description="next_cursor of the previous page.")
]


class Kind(StrEnum):
    CUSTOMER = MessageKind.CUSTOMER
    MANAGER = MessageKind.MANAGER
    SYSTEM = MessageKind.SYSTEM
    NOTE = MessageKind.NOTE


class Order(StrEnum):
    DESC = "desc"
    ASC = "asc"


class Contact(BaseModel):
    """A customer. Without ``customers.view`` only ``id`` and ``name`` (``redacted``)."""

    id: int
    name: str | None
    redacted: bool = False
    email: str | None = None
    phone: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    username: str | None = None
    avatar_url: str | None = None
    language: str | None = None
    consent_at: datetime | None = None


def contact_out(contact: Any, sees_customers: bool) -> Contact:
    wire = contact_dict(contact)
    if sees_customers:
        return Contact.model_validate({k: v for k, v in wire.items() if k != "consent_text"})
    return Contact(**redact_contact(wire), redacted=True)


class Attachment(BaseModel):
    id: str = Field(description="Download it from /files/{id}.")
    name: str
    size: int
    type: str
    image: bool
    width: int | None
    height: int | None
    thumbnail: bool


class Quote(BaseModel):
    id: int
    author_name: str | None
    kind: Kind
    body: str
    deleted: bool


class Message(BaseModel):
    id: int
    conversation_id: int
    kind: Kind
    author_id: str | None = Field(description="The manager who wrote it (manager and note).")
    author_name: str | None
    author_avatar_url: str | None
    body: str = Field(description="Empty for a deleted message.")
    system_code: str | None
    system_data: dict[str, Any] | None
    client_id: str | None
    quoted: Quote | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    attachments: list[Attachment]
    delivery_status: str | None = Field(
        description="Replies to messenger customers: pending, sent, delivered, read, failed."
    )
    delivery_error: str | None
    delivery_updated_at: datetime | None
    can_retry: bool
    edits_reach_customer: bool | None


class ManagerRef(BaseModel):
    id: str
    name: str
    avatar_url: str | None


__all__ = [
    "MAX_LIMIT",
    "Attachment",
    "BodyId",
    "Contact",
    "Cursor",
    "Kind",
    "Limit",
    "ManagerRef",
    "Maybe",
    "Message",
    "Order",
    "QueryText",
    "attachment_dict",
    "contact_out",
]
