"""Merging two contacts that are one person, undoing it within a day, and "same person?"
suggestions for managers.

A merge moves the merged contact's conversations and notes to the survivor and fills the
survivor's empty fields from it; the merged row stays, with ``merged_into_id`` set, so its
platform id (source, external_id) still leads to the survivor. What moved is recorded in a
``ContactMerge`` row, which is what the undo puts back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ...identity import Manager
from ...models import (
    Contact,
    ContactMerge,
    ContactMergeSuggestion,
    ContactNote,
    Conversation,
    Visibility,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...signals import contact_merged
from ...state import ChatsState
from ..audit_log import do_record
from ..conversations.events import append_event, publish_inbox_update
from ..errors import NotFound
from ..unit_of_work import after_commit
from .errors import ContactError

UNDO_WINDOW = timedelta(days=1)
#: Fields copied to the survivor when it has none; the survivor's own values always win.
FILLED = (
    "name",
    "email",
    "phone",
    "username",
    "avatar_url",
    "language",
    "consent_at",
    "consent_text",
)
#: Conversations told live about a merge (their list rows change); older ones show it on open.
LIVE_LIMIT = 50


def _require_edit(manager: Manager) -> None:
    if not manager.can(Permission.CUSTOMERS_EDIT):
        raise PermissionDenied("You need the customers.edit permission.", Permission.CUSTOMERS_EDIT)


def _conversation_ids(state: ChatsState, contact_id: int) -> list[int]:
    return list(
        state.session.scalars(
            select(Conversation.id)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.id)
        )
    )


def _tell(state: ChatsState, conv_ids: list[int], kind: str, data: dict[str, Any]) -> None:
    for conv_id in conv_ids[-LIVE_LIMIT:]:
        conv = state.session.get(Conversation, conv_id)
        if conv is None:
            continue
        append_event(state, conv, kind, data, Visibility.PII)
        publish_inbox_update(state, conv)


def _fill_fields(survivor: Contact, merged: Contact) -> dict[str, Any]:
    """Fill the survivor's gaps; returns the survivor's values before (for the undo)."""
    before: dict[str, Any] = {}
    for key in FILLED:
        theirs = getattr(merged, key)
        if theirs is not None and getattr(survivor, key) in (None, ""):
            before[key] = None
            setattr(survivor, key, theirs)
    custom = dict(survivor.custom_fields or {})
    added = [k for k in (merged.custom_fields or {}) if k not in custom]
    if added:
        before["custom_fields"] = dict(custom)
        custom.update({k: merged.custom_fields[k] for k in added})
        survivor.custom_fields = custom
    return before


def do_merge(
    state: ChatsState, manager: Manager, survivor: Contact, merged: Contact
) -> ContactMerge:
    """Move everything of ``merged`` to ``survivor``."""
    _require_edit(manager)
    if survivor.id == merged.id:
        raise ContactError("A contact cannot be merged with itself.")
    if survivor.merged_into_id is not None or merged.merged_into_id is not None:
        raise ContactError("One of these contacts was already merged into another.")
    if survivor.host_user_id and merged.host_user_id:
        raise ContactError(
            "Both contacts belong to different users of your site; they cannot be merged."
        )
    conv_ids = _conversation_ids(state, merged.id)
    note_ids = list(
        state.session.scalars(select(ContactNote.id).where(ContactNote.contact_id == merged.id))
    )
    before = _fill_fields(survivor, merged)
    moved_host_user = None
    if merged.host_user_id and not survivor.host_user_id:
        # Unique column: free it on the merged row before the survivor takes it.
        moved_host_user = merged.host_user_id
        merged.host_user_id = None
        state.session.flush()
        survivor.host_user_id = moved_host_user
        before["verified_at"] = survivor.verified_at
        survivor.verified_at = merged.verified_at
    state.session.execute(
        update(Conversation).where(Conversation.id.in_(conv_ids)).values(contact_id=survivor.id)
    )
    state.session.execute(
        update(ContactNote).where(ContactNote.id.in_(note_ids)).values(contact_id=survivor.id)
    )
    merged.merged_into_id = survivor.id
    now = utcnow()
    state.session.execute(
        update(ContactMergeSuggestion)
        .where(
            or_(
                ContactMergeSuggestion.contact_id.in_([survivor.id, merged.id]),
                ContactMergeSuggestion.candidate_id.in_([survivor.id, merged.id]),
            ),
            ContactMergeSuggestion.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )
    record = ContactMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        manager_id=manager.id,
        moved={
            "conversation_ids": conv_ids,
            "note_ids": note_ids,
            "survivor_before": {k: _jsonable(v) for k, v in before.items()},
            "host_user_id": moved_host_user,
        },
        created_at=now,
    )
    state.session.add(record)
    state.session.flush()
    # Expire what the bulk updates changed behind the ORM's back.
    state.session.expire_all()
    do_record(state, manager, "contact.merged", "contact", survivor.id, merged_id=merged.id)
    all_ids = _conversation_ids(state, record.survivor_id)
    _tell(
        state,
        all_ids,
        "contact.merged",
        {"survivor_id": record.survivor_id, "merged_id": record.merged_id, "merge_id": record.id},
    )
    _signal(state, record, undone=False)
    return record


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _signal(state: ChatsState, record: ContactMerge, undone: bool) -> None:
    app = state.app
    survivor_id, merged_id, merge_id = record.survivor_id, record.merged_id, record.id
    after_commit(
        state.session,
        lambda: contact_merged.send(
            app, survivor_id=survivor_id, merged_id=merged_id, merge_id=merge_id, undone=undone
        ),
    )


def undo_deadline(record: ContactMerge) -> Any:
    return record.created_at + UNDO_WINDOW


def can_undo(record: ContactMerge) -> bool:
    return record.undone_at is None and utcnow() < undo_deadline(record)


def do_undo_merge(state: ChatsState, manager: Manager, record: ContactMerge) -> ContactMerge:
    """Put back what the merge moved; fields a manager changed since keep their new value."""
    _require_edit(manager)
    if record.undone_at is not None:
        raise ContactError("This merge was already undone.")
    if not can_undo(record):
        raise ContactError("A merge can be undone for one day only.")
    survivor = state.session.get(Contact, record.survivor_id)
    merged = state.session.get(Contact, record.merged_id)
    if survivor is None or merged is None:
        raise NotFound("One of the merged contacts no longer exists.")
    moved = record.moved or {}
    conv_ids = [int(x) for x in moved.get("conversation_ids", [])]
    note_ids = [int(x) for x in moved.get("note_ids", [])]
    for key, value in (moved.get("survivor_before") or {}).items():
        if key in ("consent_at", "verified_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        setattr(survivor, key, value)
    host_user = moved.get("host_user_id")
    if host_user and survivor.host_user_id == host_user:
        survivor.host_user_id = None
        state.session.flush()
        merged.host_user_id = host_user
    merged.merged_into_id = None
    state.session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conv_ids), Conversation.contact_id == survivor.id)
        .values(contact_id=merged.id)
    )
    state.session.execute(
        update(ContactNote)
        .where(ContactNote.id.in_(note_ids), ContactNote.contact_id == survivor.id)
        .values(contact_id=merged.id)
    )
    record.undone_at = utcnow()
    state.session.flush()
    state.session.expire_all()
    do_record(
        state,
        manager,
        "contact.merge_undone",
        "contact",
        record.survivor_id,
        merged_id=record.merged_id,
    )
    data = {"survivor_id": record.survivor_id, "merged_id": record.merged_id, "merge_id": record.id}
    _tell(state, _conversation_ids(state, record.merged_id), "contact.unmerged", data)
    _tell(state, _conversation_ids(state, record.survivor_id), "contact.unmerged", data)
    _signal(state, record, undone=True)
    return record


def get_merge(state: ChatsState, merge_id: int) -> ContactMerge:
    record = state.session.get(ContactMerge, merge_id)
    if record is None:
        raise NotFound("No such merge.")
    return record


def merges_of(state: ChatsState, contact: Contact) -> list[ContactMerge]:
    return list(
        state.session.scalars(
            select(ContactMerge)
            .where(ContactMerge.survivor_id == contact.id)
            .order_by(ContactMerge.id.desc())
            .limit(20)
        )
    )


def merge_dict(record: ContactMerge) -> dict[str, Any]:
    return {
        "id": record.id,
        "survivor_id": record.survivor_id,
        "merged_id": record.merged_id,
        "manager_id": record.manager_id,
        "created_at": record.created_at.isoformat(),
        "undone_at": record.undone_at.isoformat() if record.undone_at else None,
        "conversations_moved": len((record.moved or {}).get("conversation_ids", [])),
        "can_undo": can_undo(record),
        "undo_until": undo_deadline(record).isoformat(),
    }


# -- "same person?" -------------------------------------------------------------------------


def do_suggest(state: ChatsState, contact: Contact, candidate: Contact, reason: str) -> bool:
    """Offer managers to merge ``contact`` into ``candidate``; False if nothing new."""
    if contact.id == candidate.id or contact.merged_into_id or candidate.merged_into_id:
        return False
    if contact.host_user_id and candidate.host_user_id:
        return False
    pair = [contact.id, candidate.id]
    existing = state.session.scalar(
        select(ContactMergeSuggestion.id).where(
            ContactMergeSuggestion.contact_id.in_(pair),
            ContactMergeSuggestion.candidate_id.in_(pair),
        )
    )
    if existing is not None:
        return False
    try:
        with state.session.begin_nested():
            state.session.add(
                ContactMergeSuggestion(
                    contact_id=contact.id, candidate_id=candidate.id, reason=reason
                )
            )
            state.session.flush()
    except IntegrityError:
        return False
    data = {"contact_id": contact.id, "candidate_id": candidate.id, "reason": reason}
    _tell(state, _conversation_ids(state, contact.id)[-1:], "contact.merge_suggested", data)
    return True


def open_suggestions(state: ChatsState, contact: Contact) -> list[ContactMergeSuggestion]:
    return list(
        state.session.scalars(
            select(ContactMergeSuggestion)
            .where(
                or_(
                    ContactMergeSuggestion.contact_id == contact.id,
                    ContactMergeSuggestion.candidate_id == contact.id,
                ),
                ContactMergeSuggestion.resolved_at.is_(None),
            )
            .order_by(ContactMergeSuggestion.id)
            .limit(20)
        )
    )


def do_dismiss(state: ChatsState, manager: Manager, suggestion_id: int) -> None:
    _require_edit(manager)
    found = state.session.get(ContactMergeSuggestion, suggestion_id)
    if found is None:
        raise NotFound("No such suggestion.")
    found.resolved_at = utcnow()


def get_suggestion(state: ChatsState, suggestion_id: int) -> ContactMergeSuggestion:
    found = state.session.get(ContactMergeSuggestion, suggestion_id)
    if found is None:
        raise NotFound("No such suggestion.")
    return found


def suggest_for_email(state: ChatsState, contact: Contact) -> None:
    """A visitor typed an email that a verified contact has: "same person?"."""
    if not contact.email or contact.verified_at is not None:
        return
    verified = state.session.scalars(
        select(Contact)
        .where(
            Contact.email == contact.email,
            Contact.verified_at.is_not(None),
            Contact.merged_into_id.is_(None),
            Contact.id != contact.id,
        )
        .limit(3)
    )
    for other in verified:
        do_suggest(state, contact, other, "same_email")


def suggest_for_phone(state: ChatsState, contact: Contact) -> None:
    """Messenger contacts with the same phone number are probably one person."""
    if not contact.phone:
        return
    others = state.session.scalars(
        select(Contact)
        .where(
            Contact.phone == contact.phone,
            Contact.merged_into_id.is_(None),
            Contact.id != contact.id,
        )
        .order_by(Contact.id)
        .limit(3)
    )
    for other in others:
        do_suggest(state, contact, other, "same_phone")
