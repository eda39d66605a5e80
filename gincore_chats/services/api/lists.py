"""Keyset-paged reads for the REST API: conversations, messages, contacts, knowledge entries.

Every list is ordered by a unique key and continued from the last row's key (never an offset),
so a page costs the same at any depth and rows inserted meanwhile neither repeat nor shift a
page. Each query applies the same visibility rules the console uses (assigned sources, admins
see all) through :func:`.sources.visible_source_ids`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, not_, or_, select

from ...identity import Manager
from ...models import (
    Contact,
    Conversation,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntrySource,
    Message,
    Participant,
)
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..conversations.read_state import unread_clause
from ..labels.grouping import has_label
from ..row_ids import MAX_ID
from ..sources import visible_source_ids


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sees_customers(manager: Manager) -> bool:
    return manager.can(Permission.CUSTOMERS_VIEW) or manager.is_admin


def require_view(manager: Manager) -> None:
    if not (manager.can(Permission.VIEW) or manager.is_admin):
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)


def _in_visible_sources(state: ChatsState, manager: Manager, column: object) -> object | None:
    """A condition limiting ``column`` (a source id) to the manager's sources; ``False`` when
    they have none; ``None`` for admins (no limit)."""
    visible = visible_source_ids(state, manager)
    if visible is None:
        return None
    return column.in_(sorted(visible)) if visible else False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ConversationFilters:
    status: str | None = None  # open, closed; None: both
    source_id: int | None = None
    assigned_to: str | None = None  # a manager id in the conversation now
    unassigned: bool = False
    unread: bool | None = None  # unread for the token's manager
    updated_since: datetime | None = None  # last activity at or after
    ascending: bool = False
    # Visits (the widget opened, the customer wrote nothing) are left out, as in the console's
    # default list; True lists only them.
    visits: bool = False
    label_id: int | None = None  # carries this label


def conversations(
    state: ChatsState,
    manager: Manager,
    filters: ConversationFilters,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Conversation]:
    """Up to ``limit + 1`` conversations by (last activity, id), newest first unless
    ``ascending`` (the order to sync in: a row that changes while you page moves past the
    cursor, so it comes again instead of being skipped)."""
    require_view(manager)
    query = select(Conversation)
    visible = _in_visible_sources(state, manager, Conversation.source_id)
    if visible is False:
        return []
    if visible is not None:
        query = query.where(visible)  # type: ignore[arg-type]
    if filters.status is not None:
        query = query.where(Conversation.status == filters.status)
    # The same condition as the partial indexes, so the walk uses them.
    if filters.visits:
        query = query.where(Conversation.first_customer_message_at.is_(None))
    else:
        query = query.where(Conversation.first_customer_message_at.is_not(None))
    if filters.source_id is not None:
        query = query.where(Conversation.source_id == filters.source_id)
    active = (
        select(Participant.id)
        .where(Participant.conversation_id == Conversation.id, Participant.left_at.is_(None))
        .correlate(Conversation)
    )
    if filters.assigned_to is not None:
        query = query.where(active.where(Participant.manager_id == filters.assigned_to).exists())
    if filters.unassigned:
        query = query.where(~active.exists())
    if filters.unread is not None:
        clause = unread_clause(manager.id)
        query = query.where(clause if filters.unread else not_(clause))
    if filters.updated_since is not None:
        query = query.where(Conversation.last_activity_at >= filters.updated_since)
    if filters.label_id is not None:
        query = query.where(has_label(filters.label_id))
    key = (Conversation.last_activity_at, Conversation.id)
    if after is not None:
        at, cid = after
        if filters.ascending:
            query = query.where(or_(key[0] > at, and_(key[0] == at, key[1] > cid)))
        else:
            query = query.where(or_(key[0] < at, and_(key[0] == at, key[1] < cid)))
    order = [k.asc() if filters.ascending else k.desc() for k in key]
    return list(state.session.scalars(query.order_by(*order).limit(limit + 1)).unique())


def messages(
    state: ChatsState, conv: Conversation, after_id: int | None, limit: int, *, ascending: bool
) -> list[Message]:
    """Up to ``limit + 1`` messages of a conversation by id (notes included: staff only)."""
    query = select(Message).where(Message.conversation_id == conv.id)
    if after_id is not None:
        bound = min(after_id, MAX_ID)
        query = query.where(Message.id > bound if ascending else Message.id < bound)
    order = Message.id.asc() if ascending else Message.id.desc()
    return list(state.session.scalars(query.order_by(order).limit(limit + 1)).unique())


@dataclass(frozen=True)
class ContactFilters:
    email: str | None = None  # exact, case-insensitive
    phone: str | None = None  # exact, spaces ignored
    name: str | None = None  # contains, case-insensitive
    q: str | None = None  # contains, in name, email or phone
    source_id: int | None = None


def contacts(
    state: ChatsState,
    manager: Manager,
    filters: ContactFilters,
    after_id: int | None,
    limit: int,
) -> list[Contact]:
    """Up to ``limit + 1`` contacts of the manager's sources, by id; needs ``customers.view``
    (searching by address would otherwise confirm details the manager cannot read)."""
    require_view(manager)
    if not sees_customers(manager):
        raise PermissionDenied(
            "Contacts need the customers.view permission.", Permission.CUSTOMERS_VIEW
        )
    # A contact merged into another is no customer of its own any more.
    query: Select[tuple[Contact]] = select(Contact)
    query = query.where(Contact.merged_into_id.is_(None))
    visible = _in_visible_sources(state, manager, Contact.source_id)
    if visible is False:
        return []
    if visible is not None:
        query = query.where(visible)  # type: ignore[arg-type]
    if filters.source_id is not None:
        query = query.where(Contact.source_id == filters.source_id)
    if filters.email:
        query = query.where(func.lower(Contact.email) == filters.email.strip().lower())
    if filters.phone:
        query = query.where(
            func.replace(Contact.phone, " ", "") == filters.phone.replace(" ", "").strip()
        )
    if filters.name and filters.name.strip():
        pattern = f"%{_escape_like(filters.name.strip()[:200])}%"
        query = query.where(Contact.name.ilike(pattern, escape="\\"))
    if filters.q and filters.q.strip():
        pattern = f"%{_escape_like(filters.q.strip()[:200])}%"
        query = query.where(
            or_(
                *(
                    c.ilike(pattern, escape="\\")
                    for c in (Contact.name, Contact.email, Contact.phone)
                )
            )
        )
    if after_id is not None:
        query = query.where(Contact.id > min(after_id, MAX_ID))
    return list(state.session.scalars(query.order_by(Contact.id).limit(limit + 1)))


def knowledge_entries(
    state: ChatsState,
    manager: Manager,
    *,
    status: str | None,
    language: str | None,
    after_id: int | None,
    limit: int,
) -> list[KnowledgeEntry]:
    """Up to ``limit + 1`` entries by id. Readers (``chats.view``) get published entries in
    scope of their sources; admins any status (``status``: one of them, None: published)."""
    require_view(manager)
    wanted = status or EntryStatus.PUBLISHED
    if wanted != EntryStatus.PUBLISHED and not manager.is_admin:
        raise PermissionDenied(
            "Only admins (chats.admin) see candidate and archived entries.", Permission.ADMIN
        )
    query = select(KnowledgeEntry).where(KnowledgeEntry.status == wanted)
    visible = visible_source_ids(state, manager)
    if visible is not None:
        scoped = (
            select(KnowledgeEntrySource.entry_id)
            .where(
                KnowledgeEntrySource.entry_id == KnowledgeEntry.id,
                KnowledgeEntrySource.source_id.in_(sorted(visible)),
            )
            .exists()
        )
        query = query.where(or_(KnowledgeEntry.all_sources.is_(True), scoped))
    if language:
        query = query.where(KnowledgeEntry.language == language)
    if after_id is not None:
        query = query.where(KnowledgeEntry.id > min(after_id, MAX_ID))
    return list(state.session.scalars(query.order_by(KnowledgeEntry.id).limit(limit + 1)))
