"""Customers: created with a conversation, edited by managers and by the visitor's own form."""

from __future__ import annotations

import re
from typing import Any

from ..models import Contact, Conversation, Source
from ..state import ChatsState
from .events import append_event, publish_inbox_update

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


class ContactError(ValueError):
    pass


def do_create_visitor_contact(state: ChatsState, source: Source) -> Contact:
    contact = Contact(source_id=source.id, custom_fields={})
    state.session.add(contact)
    return contact


def clean_contact_fields(data: dict[str, Any]) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for key, limit in (("name", 200), ("email", 320), ("phone", 64)):
        if key not in data:
            continue
        value = data[key]
        if value is None:
            result[key] = None
            continue
        if not isinstance(value, str):
            raise ContactError(f"{key} must be text.")
        value = value.strip()
        if len(value) > limit:
            raise ContactError(f"{key} is too long (at most {limit} characters).")
        if key == "email" and value and not _EMAIL_RE.match(value):
            raise ContactError("That email address does not look valid.")
        result[key] = value or None
    return result


def do_update_contact(state: ChatsState, conv: Conversation, data: dict[str, Any]) -> Contact:
    """Apply name/email/phone changes and tell everyone watching the conversation."""
    contact = conv.contact
    changed = False
    for key, value in clean_contact_fields(data).items():
        if getattr(contact, key) != value:
            setattr(contact, key, value)
            changed = True
    if changed:
        append_event(
            state,
            conv,
            "contact.updated",
            {"contact": {"name": contact.name, "email": contact.email, "phone": contact.phone}},
        )
        publish_inbox_update(state, conv)
    return contact
