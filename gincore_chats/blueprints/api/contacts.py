"""``/contacts``: search by email, phone or name; get; update (custom fields included);
export everything held about one, or erase them (GDPR; customers.edit and chats.admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import request, send_file
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response as WerkzeugResponse

from ...permissions import Permission
from ...services.api import lists as api_lists
from ...services.contacts import fields as contact_fields
from ...services.privacy import erasure
from ...services.privacy import export as contact_export
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from . import pagination
from .guard import current_manager
from .schemas import Contact, Cursor, Limit, Maybe, QueryText, contact_out
from .spec import BodyModel, QueryModel, operation

Scalar = str | int | float | bool | None


class SearchContacts(QueryModel):
    email: Annotated[QueryText, Field(max_length=320)] | Maybe = Field(
        None, description="Exact address, any case."
    )
    phone: Annotated[QueryText, Field(max_length=64)] | Maybe = Field(
        None, description="Exact number, spaces ignored."
    )
    name: Annotated[QueryText, Field(max_length=200)] | Maybe = Field(
        None, description="Part of the name, any case."
    )
    q: Annotated[QueryText, Field(max_length=200)] | Maybe = Field(
        None, description="Part of the name, email or phone."
    )
    source_id: Annotated[int, Field(ge=1)] | Maybe = None
    limit: Limit | Maybe = None
    cursor: Cursor | Maybe = None


class ContactPage(BaseModel):
    items: list[Contact]
    next_cursor: str | None


class UpdateContact(BodyModel):
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    phone: Annotated[str, Field(max_length=64)] | None = None
    custom_fields: dict[str, Scalar] | None = Field(
        None,
        description="Merged into the stored fields; a field set to null is removed. Names: "
        "1-64 letters, digits, '_', '.', '-'; values: text (at most 1000), numbers, booleans.",
    )


@operation(tag="contacts", ok=ContactPage, query=SearchContacts)
def search_contacts() -> ContactPage:
    """Contacts of the manager's sources (needs customers.view), by id."""
    state = get_state()
    manager = current_manager()
    args: SearchContacts = request.context.query  # type: ignore[attr-defined]
    limit = args.limit or state.config.page_size
    after = pagination.decode("contacts", args.cursor, int)
    filters = api_lists.ContactFilters(
        email=args.email, phone=args.phone, name=args.name, q=args.q, source_id=args.source_id
    )
    rows = api_lists.contacts(state, manager, filters, after[0] if after else None, limit)
    rows, cursor = pagination.page(rows, limit, lambda c: (c.id,), "contacts")
    return ContactPage(items=[contact_out(c, True) for c in rows], next_cursor=cursor)


@operation(tag="contacts", ok=Contact)
def get_contact(contact_id: int) -> Contact:
    """One contact (needs customers.view)."""
    state = get_state()
    manager = current_manager()
    contact = contact_fields.access_contact(state, manager, contact_id, Permission.CUSTOMERS_VIEW)
    return contact_out(contact, True)


@operation(tag="contacts", ok=Contact, body=UpdateContact)
def update_contact(contact_id: int) -> Any:
    """Change name, email, phone and custom fields (needs customers.edit); only the fields
    sent change, null clears one."""
    state = get_state()
    manager = current_manager()
    data: UpdateContact = request.context.json  # type: ignore[attr-defined]
    sent = data.model_dump(exclude_unset=True)
    custom = sent.pop("custom_fields", None)
    with unit_of_work(state.session):
        contact = contact_fields.access_contact(
            state, manager, contact_id, Permission.CUSTOMERS_EDIT
        )
        contact_fields.do_update(state, contact, sent, custom)
        # customers.edit without customers.view may change fields but not read them back.
        answer = contact_out(contact, api_lists.sees_customers(manager))
    return answer


class EraseContact(BodyModel):
    confirm: Literal[True] = Field(description="Must be true: an erase cannot be undone.")


class Erasure(BaseModel):
    conversations: int
    messages: int
    files: int
    bytes_freed: int
    rows_deleted: int
    rows_scrubbed: int


class ErasureResult(BaseModel):
    erased: Erasure


@operation(tag="contacts", raw=True)
def export_contact(contact_id: int) -> Any:
    """A zip of everything held about the contact: ``data.json`` (every row that belongs to
    them, per table) and ``files/`` (needs customers.edit and chats.admin; audit-logged)."""
    spool = contact_export.export_contact(get_state(), current_manager(), contact_id)
    response = send_file(
        spool,  # type: ignore[arg-type]
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"contact-{contact_id}.zip",
        max_age=0,
    )
    # As for file downloads: SpecTree must not read (buffer) the body.
    response.__class__ = WerkzeugResponse  # type: ignore[assignment]
    return response


@operation(tag="contacts", ok=ErasureResult, body=EraseContact, post=True)
def erase_contact(contact_id: int) -> ErasureResult:
    """Erase the contact: their messages become tombstones, their details, visitor context and
    files go, in every table (needs customers.edit and chats.admin; audit-logged)."""
    state = get_state()
    manager = current_manager()
    with unit_of_work(state.session):
        erasure.access_for_privacy(state, manager, contact_id)
        report = erasure.do_erase(state, manager, contact_id)
    return ErasureResult(erased=Erasure(**report.as_dict()))


ROUTES = [
    ("/contacts", search_contacts, ["GET"]),
    ("/contacts/<int:contact_id>", get_contact, ["GET"]),
    ("/contacts/<int:contact_id>", update_contact, ["PATCH"]),
    ("/contacts/<int:contact_id>/export", export_contact, ["GET"]),
    ("/contacts/<int:contact_id>/erase", erase_contact, ["POST"]),
]
