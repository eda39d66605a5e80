"""Finding contacts (console search) and a contact's conversations across every source."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import exists, or_, select

from ...identity import Manager
from ...models import Contact, Conversation, Message, MessageKind, Source
from ...serialize import contact_dict
from ...state import ChatsState
from ..sources import visible_source_ids
from .merges import merge_dict, merges_of, open_suggestions

log = logging.getLogger(__name__)

MAX_QUERY = 200
SEARCH_LIMIT = 30
HISTORY_LIMIT = 50


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _visible(state: ChatsState, manager: Manager) -> Any:
    """A filter for contacts seen on a source the manager works on; None: every contact."""
    visible = visible_source_ids(state, manager)
    if visible is None:
        return None
    return or_(
        Contact.source_id.in_(visible),
        exists().where(Conversation.contact_id == Contact.id, Conversation.source_id.in_(visible)),
    )


def search(state: ChatsState, manager: Manager, q: str | None) -> list[Contact]:
    """Contacts whose name, email, phone, platform id or host user id contains ``q``."""
    text = (q or "").strip()[:MAX_QUERY]
    query = select(Contact).where(Contact.merged_into_id.is_(None))
    if text:
        pattern = _like(text)
        query = query.where(
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.email.ilike(pattern, escape="\\"),
                Contact.phone.ilike(pattern, escape="\\"),
                Contact.external_id.ilike(pattern, escape="\\"),
                Contact.username.ilike(pattern, escape="\\"),
                Contact.host_user_id == text,
            )
        )
    visible = _visible(state, manager)
    if visible is not None:
        query = query.where(visible)
    return list(state.session.scalars(query.order_by(Contact.id.desc()).limit(SEARCH_LIMIT)))


def conversations_of(state: ChatsState, manager: Manager, contact: Contact) -> list[dict[str, Any]]:
    """The contact's conversations on sources the manager sees, newest first, each with its
    first visitor-visible line."""
    first_line = (
        select(Message.body)
        .where(
            Message.conversation_id == Conversation.id,
            Message.kind.in_([MessageKind.CUSTOMER, MessageKind.MANAGER, MessageKind.ASSISTANT]),
            Message.body.is_not(None),
        )
        .order_by(Message.id)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Conversation, Source, first_line)
        .join(Source, Source.id == Conversation.source_id)
        .where(Conversation.contact_id == contact.id)
    )
    visible = visible_source_ids(state, manager)
    if visible is not None:
        query = query.where(Conversation.source_id.in_(visible))
    rows = state.session.execute(query.order_by(Conversation.id.desc()).limit(HISTORY_LIMIT))
    result = []
    for conv, source, body in rows:
        line = (body or "").strip().splitlines()[0][:200] if (body or "").strip() else None
        result.append(
            {
                "id": conv.id,
                "source_id": source.id,
                "source_name": source.name,
                "source_kind": source.kind,
                "status": conv.status,
                "created_at": conv.created_at.isoformat(),
                "first_line": line,
            }
        )
    return result


MAX_PROFILE_ROWS = 30


def host_profile(state: ChatsState, contact: Contact) -> list[dict[str, str]]:
    """What the host's ``customer_loader`` says of this customer, as label/value text pairs
    (the console shows them as text, never as HTML). A failing hook shows nothing."""
    loader = state.hooks.customer
    if loader is None or not contact.host_user_id:
        return []
    try:
        found = loader(contact.host_user_id)
    except Exception:
        log.exception("customer_loader failed for host user %s", contact.host_user_id)
        return []
    if not found:
        return []
    pairs = found.items() if isinstance(found, dict) else found
    rows = []
    for pair in list(pairs)[:MAX_PROFILE_ROWS]:
        try:
            label, value = pair
        except (TypeError, ValueError):
            continue
        if value is None:
            continue
        rows.append({"label": str(label)[:100], "value": str(value)[:1000]})
    return rows


def contact_page(state: ChatsState, manager: Manager, contact: Contact) -> dict[str, Any]:
    """A contact with everything the console shows of it (customers.view is checked by the
    caller)."""
    suggestions = []
    for s in open_suggestions(state, contact):
        other_id = s.candidate_id if s.contact_id == contact.id else s.contact_id
        other = state.session.get(Contact, other_id)
        if other is None:
            continue
        suggestions.append(
            {
                "id": s.id,
                "reason": s.reason,
                "contact_id": s.contact_id,
                "candidate_id": s.candidate_id,
                "other": {**contact_dict(other), "verified": other.verified_at is not None},
            }
        )
    return {
        "contact": {
            **contact_dict(contact),
            "host_user_id": contact.host_user_id,
            "verified": contact.verified_at is not None,
        },
        "conversations": conversations_of(state, manager, contact),
        "suggestions": suggestions,
        "merges": [merge_dict(m) for m in merges_of(state, contact)],
        "host_profile": host_profile(state, contact),
    }
