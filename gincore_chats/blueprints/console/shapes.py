"""What the console shows of a conversation: its list row and its detail, with the customer's
details only for managers with ``customers.view``."""

from __future__ import annotations

from typing import Any

from flask import request

from ...identity import Manager
from ...local_time import customer_tz, local_iso
from ...models import Conversation, VisitorContext
from ...permissions import Permission
from ...serialize import (
    contact_dict,
    conversation_summary,
    redact_contact,
    visitor_context_dict,
)
from ...services.ai import assistant_state
from ...services.contacts import customers as contacts
from ...services.contacts import directory
from ...services.conversations import drafts, read_state, typing_status
from ...services.conversations import lifecycle as conversations
from ...services.conversations.message_events import message_wire
from ...services.labels.tagging import labels_for
from ...services.managers import profiles as managers
from ...services.ratings import scores as rating_scores
from ...state import get_state


def sees_customers(manager: Manager) -> bool:
    return manager.can(Permission.CUSTOMERS_VIEW) or manager.is_admin


def summary_for(manager: Manager, conv: Conversation) -> dict[str, Any]:
    row = conversation_summary(conv)
    row["ai"] = assistant_state.summary_fields(get_state(), [conv])[conv.id]
    row["labels"] = labels_for(get_state(), [conv.id])[conv.id]
    if not sees_customers(manager):
        row["contact"] = redact_contact(row["contact"])
    return row


def summaries(manager: Manager, rows: list[Conversation]) -> list[dict[str, Any]]:
    """List rows with this manager's unread counts and the connected managers' faces."""
    state = get_state()
    unread = read_state.unread_counts(state, manager.id, [c.id for c in rows])
    people = managers.profiles(state, {m for c in rows for m in c.active_manager_ids})
    ai = assistant_state.summary_fields(state, rows)
    labels = labels_for(state, [c.id for c in rows])
    result = []
    for conv in rows:
        row = conversation_summary(conv)
        if not sees_customers(manager):
            row["contact"] = redact_contact(row["contact"])
        row["ai"] = ai[conv.id]
        row["labels"] = labels[conv.id]
        row["unread"] = unread[conv.id]
        row["manager_profiles"] = [
            {"id": mid, "name": people[mid].display_name, "avatar_url": people[mid].avatar_url}
            for mid in conv.active_manager_ids
            if mid in people
        ]
        result.append(row)
    return result


def detail(manager: Manager, conversation_id: int) -> dict[str, Any]:
    state = get_state()
    conv = conversations.access_for_manager(state, manager, conversation_id)
    rows = conversations.history(
        state, conv, staff=True, before_id=request.args.get("before", type=int)
    )
    people = managers.profiles(state, set(conv.active_manager_ids))
    result: dict[str, Any] = {
        "conversation": summary_for(manager, conv),
        "messages": [message_wire(m) for m in rows],
        "managers": [
            {"id": p.manager_id, "name": p.display_name, "avatar_url": p.avatar_url}
            for p in people.values()
        ],
        "joined": manager.id in conv.active_manager_ids,
        "last_seq": conv.last_seq,
        "unread": read_state.unread_counts(state, manager.id, [conv.id])[conv.id],
        "preview_enabled": typing_status.preview_enabled(state, conv.source),
        # The customer's rating of the chat (asked for when it closed), for the panel.
        "rating": rating_scores.rating_dict(rating_scores.rating_of(state, conv)),
    }
    draft = drafts.get_draft(state, manager, conv)
    result["draft"] = (
        {"body": draft.body, "quoted_message_id": draft.quoted_message_id} if draft else None
    )
    if sees_customers(manager):
        ctx = state.session.get(VisitorContext, conv.id)
        result["contact"] = contact_dict(conv.contact)
        result["notes"] = [contacts.note_dict(n) for n in contacts.notes_for(state, conv.contact)]
        result["context"] = visitor_context_dict(ctx)
        page = directory.contact_page(state, manager, conv.contact)
        result["contact"].update(page["contact"])
        for key in ("conversations", "suggestions", "merges", "host_profile"):
            result[f"customer_{key}"] = page[key]
        # Each message at the customer's local time (zoneinfo: right across DST changes).
        tz = customer_tz(ctx.time_zone, ctx.tz_offset_minutes) if ctx is not None else None
        for wire, row in zip(result["messages"], rows, strict=True):
            wire["customer_local_at"] = local_iso(row.created_at, tz)
    return result
