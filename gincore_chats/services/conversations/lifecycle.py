"""Conversations: open them, find them with a permission check, list them for the console."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import joinedload

from ...identity import Manager
from ...json_input import storable_text
from ...models import (
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    Participant,
    Source,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...signals import conversation_opened
from ...state import ChatsState
from ...tokens import issue_visitor_token, read_visitor_token
from ..errors import NotFound
from ..hooks import conversation_closed
from ..labels.grouping import has_label
from ..row_ids import MAX_ID, row_id
from ..sources import require_source_access, visible_source_ids
from ..unit_of_work import after_commit
from .events import append_event, publish_inbox_update
from .read_state import unread_clause


def do_open_conversation(
    state: ChatsState, source: Source, contact: Contact, language: str | None = None
) -> Conversation:
    now = utcnow()
    conv = Conversation(
        source=source,
        contact=contact,
        status=ConversationStatus.OPEN,
        language=language,
        created_at=now,
        last_activity_at=now,
        last_seq=0,
        visitor_nonce=secrets.token_hex(8),
    )
    state.session.add(conv)
    state.session.flush()
    append_event(state, conv, "conversation.opened", {"status": conv.status})
    publish_inbox_update(state, conv)
    app = state.app
    conv_id, source_id = conv.id, conv.source_id
    after_commit(
        state.session,
        lambda: conversation_opened.send(app, conversation_id=conv_id, source_id=source_id),
    )
    return conv


def touch(conv: Conversation, preview: str | None) -> None:
    conv.last_activity_at = utcnow()
    if preview is not None:
        conv.last_message_preview = preview[:200]


#: A conversation one request works on: its participants in the same statement as the row,
#: its source and contact (a separate ``selectin`` query otherwise).
_WHOLE = [joinedload(Conversation.participants)]


def visitor_token(state: ChatsState, conv: Conversation) -> str:
    return issue_visitor_token(
        state.secret_key, state.config.token_salt, conv.id, conv.visitor_nonce
    )


def access_by_visitor_token(state: ChatsState, token: str | None) -> Conversation:
    claims = read_visitor_token(state.secret_key, state.config.token_salt, token or "")
    if claims is None:
        raise PermissionDenied("Invalid or missing visitor token.")
    conv = state.session.get(Conversation, claims.conversation_id, options=_WHOLE)
    if conv is None or not secrets.compare_digest(conv.visitor_nonce, claims.nonce):
        raise PermissionDenied("This chat is no longer available.")
    return conv


def access_for_manager(
    state: ChatsState, manager: Manager, conversation_id: int, permission: str = Permission.VIEW
) -> Conversation:
    found = row_id(conversation_id)
    conv = state.session.get(Conversation, found, options=_WHOLE) if found is not None else None
    if conv is None:
        raise NotFound("No such conversation.")
    require_source_access(state, manager, conv.source_id)
    if permission != Permission.VIEW and not manager.can(permission):
        raise PermissionDenied(f"You need the {permission} permission.", permission)
    return conv


@dataclass(frozen=True)
class Page:
    items: list[Conversation]
    next_cursor: str | None


def _encode_cursor(conv: Conversation) -> str:
    raw = json.dumps([conv.last_activity_at.isoformat(), conv.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, cid = json.loads(raw)
        found = row_id(cid)
        if found is None:
            raise ValueError(cid)
        return datetime.fromisoformat(at), found
    except (ValueError, TypeError) as exc:
        raise ValueError("Invalid cursor.") from exc


FILTERS = ("all", "unread", "mine", "unassigned", "closed", "visits")


def is_listed() -> ColumnElement[bool]:
    """The customer has written: the conversation is work, shown in the default list."""
    return Conversation.first_customer_message_at.is_not(None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_for_manager(
    state: ChatsState,
    manager: Manager,
    *,
    filter_: str = "all",
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    label: int | None = None,
) -> Page:
    """Newest activity first, paged by keyset (last_activity_at, id): fast at any depth.

    Filters: ``all`` open conversations, ``unread`` by this manager, ``mine`` (the manager is
    in them), ``unassigned`` (no manager in them), ``closed``: each only those the customer
    wrote in, except ``mine`` (a manager who joined a visit sees it there); ``visits`` the open
    ones the customer has not written in yet (the widget opened, nothing sent). ``q`` searches
    the customer's name, and their email and phone only for managers who may see them
    (``customers.view``): otherwise a hit would confirm an address the manager cannot read.
    ``label`` keeps the conversations that carry that label (an id).
    """
    if not (manager.can(Permission.VIEW) or manager.is_admin):
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)
    if filter_ not in FILTERS:
        raise ValueError(f"filter must be one of {', '.join(FILTERS)}.")
    limit = max(1, min(limit or state.config.page_size, 200))
    query = select(Conversation)
    visible = visible_source_ids(state, manager)
    if visible is not None:
        if not visible:
            return Page([], None)
        query = query.where(Conversation.source_id.in_(visible))
    status = ConversationStatus.CLOSED if filter_ == "closed" else ConversationStatus.OPEN
    query = query.where(Conversation.status == status)
    if filter_ == "visits":
        query = query.where(~is_listed())
    elif filter_ != "mine":
        query = query.where(is_listed())
    active = (
        select(Participant.id)
        .where(Participant.conversation_id == Conversation.id, Participant.left_at.is_(None))
        .correlate(Conversation)
    )
    if filter_ == "mine":
        query = query.where(active.where(Participant.manager_id == manager.id).exists())
    elif filter_ == "unassigned":
        query = query.where(~active.exists())
    elif filter_ == "unread":
        query = query.where(unread_clause(manager.id))
    if label is not None:
        query = query.where(has_label(label))
    q = storable_text(q) if q else q  # a NUL in the query string would fail the query
    if q and q.strip():
        pattern = f"%{_escape_like(q.strip()[:100])}%"
        fields = [Contact.name]
        if manager.can(Permission.CUSTOMERS_VIEW) or manager.is_admin:
            fields += [Contact.email, Contact.phone]
        query = query.join(Contact, Contact.id == Conversation.contact_id).where(
            or_(*(field.ilike(pattern, escape="\\") for field in fields))
        )
    if cursor:
        at, cid = _decode_cursor(cursor)
        query = query.where(
            or_(
                Conversation.last_activity_at < at,
                and_(Conversation.last_activity_at == at, Conversation.id < cid),
            )
        )
    query = query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    rows = list(state.session.scalars(query.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode_cursor(rows[-1]) if more and rows else None)


#: The console's tab title counts unread conversations up to this many ("99+").
UNREAD_COUNT_CAP = 100


def count_unread(state: ChatsState, manager: Manager, cap: int = UNREAD_COUNT_CAP) -> int:
    """Open conversations the manager can see and has unread, counted up to ``cap``.

    Visits (no customer message) never count, even one a manager marked as unread.

    The cap keeps the count cheap at any inbox size: the scan stops at the ``cap``-th hit.
    """
    visible = visible_source_ids(state, manager)
    if visible is not None and not visible:
        return 0
    query = select(Conversation.id).where(
        Conversation.status == ConversationStatus.OPEN, is_listed(), unread_clause(manager.id)
    )
    if visible is not None:
        query = query.where(Conversation.source_id.in_(visible))
    return int(
        state.session.scalar(select(func.count()).select_from(query.limit(cap).subquery())) or 0
    )


def visible_ids(state: ChatsState, manager: Manager, conversation_ids: list[int]) -> list[int]:
    """The ids among ``conversation_ids`` that the manager may see (unknown ids dropped)."""
    if not conversation_ids:
        return []
    query = select(Conversation.id).where(Conversation.id.in_(conversation_ids))
    visible = visible_source_ids(state, manager)
    if visible is not None:
        if not visible:
            return []
        query = query.where(Conversation.source_id.in_(visible))
    return sorted(state.session.scalars(query))


def history(
    state: ChatsState,
    conv: Conversation,
    *,
    staff: bool,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Message]:
    """The latest messages (oldest first), optionally before a message id; notes for staff only."""
    query = select(Message).where(Message.conversation_id == conv.id)
    if not staff:
        query = query.where(Message.kind != MessageKind.NOTE)
    if before_id:
        query = query.where(Message.id < min(before_id, MAX_ID))
    rows = list(state.session.scalars(query.order_by(Message.id.desc()).limit(limit)).unique())
    rows.reverse()
    return rows


#: ``closed_by`` of a conversation closed after the source's inactivity time (services.ratings).
AUTO_CLOSED = "auto"


def do_close(state: ChatsState, manager: Manager | None, conv: Conversation) -> None:
    """Close; ``manager`` None: closed automatically after inactivity (``closed_by`` "auto")."""
    if conv.status == ConversationStatus.CLOSED:
        return
    conv.status = ConversationStatus.CLOSED
    conv.closed_at = utcnow()
    conv.closed_by = manager.id if manager is not None else AUTO_CLOSED
    payload: dict[str, object] = {"status": conv.status}
    payload["by"] = manager.name if manager is not None else AUTO_CLOSED
    append_event(state, conv, "conversation.status", payload)
    publish_inbox_update(state, conv)
    # The knowledge base may queue the conversation's extraction (services.knowledge).
    conversation_closed.send(state, conversation=conv)


def do_reopen(state: ChatsState, conv: Conversation) -> None:
    if conv.status == ConversationStatus.OPEN:
        return
    conv.status = ConversationStatus.OPEN
    append_event(state, conv, "conversation.status", {"status": conv.status})
    publish_inbox_update(state, conv)
