"""``/conversations``: list with filters, get, close, reopen, join and leave (as the token's
manager; the same services and checks as the console)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, Field

from ...identity import Manager
from ...models import Conversation as ConversationRow
from ...models import ConversationStatus
from ...permissions import Permission
from ...serialize import unreachable_dict
from ...services.api import lists as api_lists
from ...services.conversations import lifecycle as conversations
from ...services.conversations import participants, read_state
from ...services.labels.tagging import labels_for
from ...services.managers import profiles as managers
from ...services.row_ids import MAX_ID
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from . import pagination
from .guard import current_manager
from .problems import ApiProblem
from .schemas import Contact, Cursor, Limit, ManagerRef, Maybe, Order, QueryText, contact_out
from .spec import QueryModel, operation


class ConversationState(StrEnum):
    OPEN = ConversationStatus.OPEN
    CLOSED = ConversationStatus.CLOSED


class Unreachable(BaseModel):
    since: datetime | None
    reason: str | None


class LabelRef(BaseModel):
    id: int
    name: str
    color: str = Field(description="#rrggbb")


class Conversation(BaseModel):
    id: int
    source_id: int
    source_name: str
    source_kind: str
    status: ConversationState
    contact: Contact
    unreachable: Unreachable | None = Field(
        description="Set while replies cannot reach the customer (they blocked the bot ...)."
    )
    last_activity_at: datetime
    last_message_preview: str | None
    last_seq: int = Field(description="The conversation's latest event sequence number.")
    managers: list[ManagerRef] = Field(description="Managers in the conversation now.")
    unread: int = Field(description="Customer messages the token's manager has not read.")
    labels: list[LabelRef] = Field(description="The conversation's labels, by name.")
    created_at: datetime


class ConversationPage(BaseModel):
    items: list[Conversation]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: end.")


def out(manager: Manager, rows: list[ConversationRow]) -> list[Conversation]:
    """Rows as the token's manager may see them (contacts redacted without customers.view)."""
    state = get_state()
    unread = read_state.unread_counts(state, manager.id, [c.id for c in rows])
    people = managers.profiles(state, {m for c in rows for m in c.active_manager_ids})
    sees = api_lists.sees_customers(manager)
    labels = labels_for(state, [c.id for c in rows])
    result = []
    for conv in rows:
        result.append(
            Conversation(
                id=conv.id,
                source_id=conv.source_id,
                source_name=conv.source.name,
                source_kind=conv.source.kind,
                status=ConversationState(conv.status),
                contact=contact_out(conv.contact, sees),
                unreachable=unreachable_dict(conv.contact),  # type: ignore[arg-type]
                last_activity_at=conv.last_activity_at,
                last_message_preview=conv.last_message_preview,
                last_seq=conv.last_seq,
                managers=[
                    ManagerRef(
                        id=mid, name=people[mid].display_name, avatar_url=people[mid].avatar_url
                    )
                    for mid in conv.active_manager_ids
                    if mid in people
                ],
                unread=unread[conv.id],
                labels=[LabelRef(**label) for label in labels[conv.id]],
                created_at=conv.created_at,
            )
        )
    return result


def one(manager: Manager, conv: ConversationRow) -> Conversation:
    return out(manager, [conv])[0]


class ListConversations(QueryModel):
    status: ConversationState | Maybe = None
    source_id: Annotated[int, Field(ge=1)] | Maybe = None
    assigned_to: QueryText | Maybe = Field(
        None, max_length=64, description="A manager id in the conversation now, or 'none'."
    )
    unread: bool | Maybe = Field(None, description="Unread (or read) by the token's manager.")
    updated_since: datetime | Maybe = Field(
        None, description="Last activity at or after this time (ISO 8601 with offset)."
    )
    visits: bool = Field(
        False,
        description="true: only visits (the chat was opened, the customer wrote nothing), "
        "which the list leaves out otherwise, as the console does.",
    )
    order: Order = Field(
        Order.DESC,
        description="desc: newest activity first; asc: oldest first (to sync with "
        "updated_since: a conversation that changes while you page comes again, never lost).",
    )
    label_id: Annotated[int, Field(ge=1, le=MAX_ID)] | Maybe = Field(
        None, description="Only conversations carrying this label."
    )
    limit: Limit | Maybe = None
    cursor: Cursor | Maybe = None


@operation(tag="conversations", ok=ConversationPage, query=ListConversations)
def list_conversations() -> ConversationPage:
    """Conversations of the sources the manager works on, by last activity."""
    state = get_state()
    manager = current_manager()
    args: ListConversations = request.context.query  # type: ignore[attr-defined]
    if args.updated_since is not None and args.updated_since.tzinfo is None:
        raise ApiProblem(
            422,
            "validation",
            "Invalid request",
            "updated_since needs a UTC offset (2026-01-31T12:00:00Z).",
            errors=[{"loc": ["query", "updated_since"], "msg": "no offset", "type": "value_error"}],
        )
    limit = args.limit or state.config.page_size
    after = pagination.decode("conversations", args.cursor, datetime, int)
    filters = api_lists.ConversationFilters(
        status=args.status.value if args.status else None,
        source_id=args.source_id,
        assigned_to=None if args.assigned_to in (None, "none") else args.assigned_to,
        unassigned=args.assigned_to == "none",
        unread=args.unread,
        updated_since=args.updated_since,
        ascending=args.order == Order.ASC,
        visits=args.visits,
        label_id=args.label_id,
    )
    rows = api_lists.conversations(state, manager, filters, after, limit)  # type: ignore[arg-type]
    rows, cursor = pagination.page(
        rows, limit, lambda c: (c.last_activity_at, c.id), "conversations"
    )
    return ConversationPage(items=out(manager, rows), next_cursor=cursor)


@operation(tag="conversations", ok=Conversation)
def get_conversation(conversation_id: int) -> Conversation:
    """One conversation."""
    state = get_state()
    manager = current_manager()
    return one(manager, conversations.access_for_manager(state, manager, conversation_id))


def _change(conversation_id: int, permission: str, change: Any) -> Conversation:
    state = get_state()
    manager = current_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, permission)
        change(state, manager, conv)
        # Read back before commit: afterwards the expired row would be loaded again.
        answer = one(manager, conv)
    return answer


@operation(tag="conversations", ok=Conversation, post=True)
def close_conversation(conversation_id: int) -> Conversation:
    """Close (needs chats.reply); closing a closed conversation changes nothing."""
    return _change(conversation_id, Permission.REPLY, conversations.do_close)


@operation(tag="conversations", ok=Conversation, post=True)
def reopen_conversation(conversation_id: int) -> Conversation:
    """Reopen (needs chats.reply)."""
    return _change(
        conversation_id,
        Permission.REPLY,
        lambda state, _m, conv: conversations.do_reopen(state, conv),
    )


@operation(tag="conversations", ok=Conversation, post=True)
def join_conversation(conversation_id: int) -> Conversation:
    """Join as the token's manager (needs chats.reply): then replies may be sent."""

    def join(state: Any, manager: Manager, conv: ConversationRow) -> None:
        managers.do_sync_profile(state, manager)
        participants.do_join(state, manager, conv)

    return _change(conversation_id, Permission.REPLY, join)


@operation(tag="conversations", ok=Conversation, post=True)
def leave_conversation(conversation_id: int) -> Conversation:
    """Leave the conversation."""
    return _change(
        conversation_id,
        Permission.VIEW,
        lambda state, manager, conv: participants.do_leave(state, manager, conv),
    )


ROUTES = [
    ("/conversations", list_conversations, ["GET"]),
    ("/conversations/<int:conversation_id>", get_conversation, ["GET"]),
    ("/conversations/<int:conversation_id>/close", close_conversation, ["POST"]),
    ("/conversations/<int:conversation_id>/reopen", reopen_conversation, ["POST"]),
    ("/conversations/<int:conversation_id>/join", join_conversation, ["POST"]),
    ("/conversations/<int:conversation_id>/leave", leave_conversation, ["POST"]),
]
