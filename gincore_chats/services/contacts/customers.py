"""Customers: created with a conversation, edited by managers and by the visitor's own form."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...channels.base import Sender
from ...identity import Manager
from ...models import Contact, ContactNote, Conversation, Source, Visibility, utcnow
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..conversations.events import append_event, publish_inbox_update
from .errors import ContactError
from .merges import suggest_for_phone

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


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


def do_update_contact(
    state: ChatsState, conv: Conversation, data: dict[str, Any], *, unsigned: bool = False
) -> Contact:
    """Apply name/email/phone changes and tell everyone watching the conversation.

    ``unsigned``: the visitor's own claim (the widget form). On a contact the host verified it
    only fills empty fields: it never overrides what the host vouched for."""
    contact = conv.contact
    changed = False
    for key, value in clean_contact_fields(data).items():
        if unsigned and contact.verified_at is not None and getattr(contact, key):
            continue
        if getattr(contact, key) != value:
            setattr(contact, key, value)
            changed = True
    if changed:
        append_event(
            state,
            conv,
            "contact.updated",
            {"contact": {"name": contact.name, "email": contact.email, "phone": contact.phone}},
            Visibility.PII,
        )
        publish_inbox_update(state, conv)
    return contact


MAX_NOTE = 5000


def notes_for(state: ChatsState, contact: Contact) -> list[ContactNote]:
    return list(
        state.session.scalars(
            select(ContactNote).where(ContactNote.contact_id == contact.id).order_by(ContactNote.id)
        )
    )


def do_add_note(state: ChatsState, manager: Manager, conv: Conversation, body: Any) -> ContactNote:
    """An internal note in the customer panel: staff-only event, never on a visitor path."""
    if not manager.can(Permission.CUSTOMERS_EDIT):
        raise PermissionDenied("You need the customers.edit permission.", Permission.CUSTOMERS_EDIT)
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise ContactError("The note is empty.")
    if len(text) > MAX_NOTE:
        raise ContactError(f"The note is too long (at most {MAX_NOTE} characters).")
    note = ContactNote(
        contact_id=conv.contact_id,
        author_manager_id=manager.id,
        author_name=manager.name,
        body=text,
        created_at=utcnow(),
    )
    state.session.add(note)
    state.session.flush()
    append_event(state, conv, "contact.note", {"note": note_dict(note)}, Visibility.PII)
    return note


def note_dict(note: ContactNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "author_id": note.author_manager_id,
        "author_name": note.author_name,
        "body": note.body,
        "created_at": note.created_at.isoformat(),
    }


def do_record_consent(state: ChatsState, conv: Conversation, text_shown: str) -> Contact:
    """Record that the visitor agreed, with the time and the exact text they saw."""
    contact = conv.contact
    if contact.consent_at is None:
        contact.consent_at = utcnow()
        contact.consent_text = text_shown[:2000]
        append_event(
            state,
            conv,
            "contact.consent",
            {"consent_at": contact.consent_at.isoformat(), "text": contact.consent_text},
            Visibility.PII,
        )
    return contact


# -- customers on messenger platforms ------------------------------------------------------------


def find_channel_contact(state: ChatsState, source_id: int, external_id: str) -> Contact | None:
    """The contact of a platform user; after a merge, the contact it was merged into."""
    contact = state.session.scalar(
        select(Contact).where(Contact.source_id == source_id, Contact.external_id == external_id)
    )
    seen: set[int] = set()
    while contact is not None and contact.merged_into_id is not None and contact.id not in seen:
        seen.add(contact.id)
        target = state.session.get(Contact, contact.merged_into_id)
        if target is None:
            break
        contact = target
    return contact


def platform_contact(state: ChatsState, contact: Contact, source_id: int) -> Contact | None:
    """The row holding the customer's platform id on ``source_id``: the contact itself, or a
    contact merged into it (its platform id stays on its own row, see services.contacts.merges)."""
    if contact.source_id == source_id and contact.external_id:
        return contact
    frontier, seen = [contact.id], {contact.id}
    while frontier and len(seen) < 1000:
        rows = list(
            state.session.scalars(select(Contact).where(Contact.merged_into_id.in_(frontier)))
        )
        for row in rows:
            if row.source_id == source_id and row.external_id:
                return row
        frontier = [r.id for r in rows if r.id not in seen]
        seen.update(frontier)
    return None


#: The one platform value with a column limit: E.164 numbers have at most 15 digits.
PHONE_LIMIT = 64


def _enrich(contact: Contact, sender: Sender) -> bool:
    """Take what the platform says, whole (the columns are TEXT). A name a manager may have
    corrected is only filled in; username, avatar and language belong to the platform and
    follow it."""
    changed = False
    phone = sender.phone[:PHONE_LIMIT] if sender.phone else None
    fills = {"name": sender.name, "phone": phone}
    follows = {
        "username": sender.username,
        "avatar_url": sender.avatar_url,
        "language": sender.language,
    }
    for key, value in fills.items():
        if value and not getattr(contact, key):
            setattr(contact, key, value)
            changed = True
    for key, value in follows.items():
        if value and getattr(contact, key) != value:
            setattr(contact, key, value)
            changed = True
    return changed


def do_upsert_channel_contact(state: ChatsState, source: Source, sender: Sender) -> Contact:
    """The customer behind a platform user id (one per source), created once, then enriched."""
    contact = find_channel_contact(state, source.id, sender.id)
    if contact is None:
        # Whole: a shortened id would never be found again.
        contact = Contact(source_id=source.id, external_id=sender.id, custom_fields={})
        _enrich(contact, sender)
        try:
            with state.session.begin_nested():
                state.session.add(contact)
                state.session.flush()
            if contact.phone:
                suggest_for_phone(state, contact)
            return contact
        except IntegrityError:
            # Another worker created the contact in between: use theirs.
            contact = find_channel_contact(state, source.id, sender.id)
            if contact is None:
                raise
    _enrich(contact, sender)
    return contact
