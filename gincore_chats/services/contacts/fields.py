"""Editing a contact as a whole (the REST API): name, email, phone and custom fields.

Custom fields are a flat JSON object of short keys and scalar values, merged like a JSON merge
patch (RFC 7386): a key set to null is removed. The change is recorded as a ``contact.updated``
event on the contact's latest conversation, so consoles watching it and webhooks see it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ...identity import Manager
from ...models import Contact, Conversation, Visibility
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..conversations.events import append_event, publish_inbox_update
from ..errors import NotFound
from ..row_ids import row_id
from ..sources import visible_source_ids
from .customers import clean_contact_fields
from .errors import ContactError

MAX_FIELDS = 50
MAX_VALUE = 1000
KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def access_contact(
    state: ChatsState, manager: Manager, contact_id: int, permission: str
) -> Contact:
    """A contact of a source the manager works on; ``permission`` is customers.view or .edit."""
    found = row_id(contact_id)
    contact = state.session.get(Contact, found) if found is not None else None
    if contact is None:
        raise NotFound("No such contact.")
    require_contact_access(state, manager, contact)
    admin_reads = permission == Permission.CUSTOMERS_VIEW and manager.is_admin
    if not (manager.can(permission) or admin_reads):
        raise PermissionDenied(f"You need the {permission} permission.", permission)
    return contact


def contact_source_ids(state: ChatsState, contact: Contact) -> set[int]:
    """Every source the contact was seen on: its first one and those of its conversations."""
    found = set(
        state.session.scalars(
            select(Conversation.source_id).where(Conversation.contact_id == contact.id).distinct()
        )
    )
    if contact.source_id is not None:
        found.add(contact.source_id)
    return found


def require_contact_access(state: ChatsState, manager: Manager, contact: Contact) -> None:
    """A manager sees a contact seen on any source they work on (admins: every contact)."""
    if not manager.can(Permission.VIEW) and not manager.is_admin:
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)
    visible = visible_source_ids(state, manager)
    if visible is None:
        return
    if not contact_source_ids(state, contact) & visible:
        raise PermissionDenied(
            "You are not assigned to a source of this contact; ask an admin to add you.",
            Permission.VIEW,
        )


def merged_custom_fields(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = dict(current or {})
    for key, value in patch.items():
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise ContactError(
                f"Custom field names are 1-64 letters, digits, '_', '.' or '-' (not {key[:70]!r})."
            )
        if value is None:
            result.pop(key, None)
            continue
        if isinstance(value, str):
            if len(value) > MAX_VALUE:
                raise ContactError(f"Custom field {key!r} is too long (at most {MAX_VALUE}).")
        elif not isinstance(value, bool | int | float):
            raise ContactError(f"Custom field {key!r} must be text, a number or true/false.")
        result[key] = value
    if len(result) > MAX_FIELDS:
        raise ContactError(f"A contact has at most {MAX_FIELDS} custom fields.")
    return result


def latest_conversation(state: ChatsState, contact: Contact) -> Conversation | None:
    return state.session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def do_update(
    state: ChatsState, contact: Contact, fields: dict[str, Any], custom: dict[str, Any] | None
) -> bool:
    """Apply the changes; returns whether anything changed."""
    changed = False
    for key, value in clean_contact_fields(fields).items():
        if getattr(contact, key) != value:
            setattr(contact, key, value)
            changed = True
    if custom:
        merged = merged_custom_fields(contact.custom_fields or {}, custom)
        if merged != (contact.custom_fields or {}):
            contact.custom_fields = merged
            changed = True
    if changed:
        conv = latest_conversation(state, contact)
        if conv is not None:
            append_event(
                state,
                conv,
                "contact.updated",
                {
                    "contact": {
                        "name": contact.name,
                        "email": contact.email,
                        "phone": contact.phone,
                        "custom_fields": contact.custom_fields,
                    }
                },
                Visibility.PII,
            )
            publish_inbox_update(state, conv)
    return changed
