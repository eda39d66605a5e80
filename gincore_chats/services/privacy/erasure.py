"""Erasing a person (GDPR art. 17): what they wrote becomes a tombstone, what identifies them
goes, in every table.

The conversation stays for the team (their replies, notes and system lines), but each message
the customer wrote is emptied and marked deleted (consoles watching see the tombstone), their
files are deleted and freed from the quota, the visitor context and every row hanging off the
contact (notes, identities, consent ...) are deleted, and every other row that belongs to the
person (found by walking the metadata, :mod:`.holdings`) is scrubbed of their identifiers
(:mod:`.scrub`). A last pass looks for the strong identifiers (email, phone, platform id, IP) in
every text, JSON and binary column of every table, wherever the row hangs. The audit entry
holds counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    LargeBinary,
    String,
    Table,
    Text,
    cast,
    delete,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import TextClause

from ...identity import Manager
from ...models import (
    Attachment,
    Contact,
    Conversation,
    Message,
    MessageKind,
    MessageRevision,
    Visibility,
    metadata,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...serialize import message_dict
from ...state import ChatsState
from .. import audit_log
from ..contacts.fields import access_contact
from ..conversations.events import append_event, publish_inbox_update
from ..conversations.message_events import publish_message_update
from ..errors import NotFound
from ..files import attachments as files
from . import holdings as walk
from .scrub import MIN_STRONG, Identifiers, scrub_value

#: Contact columns that are kept: keys, times, and what identifies nobody.
_CONTACT_KEEP = {"id", "source_id", "created_at"}
#: Columns of the visitor context that say where someone was (exact values are scrubbed).
_CONTEXT_TEXTS = ("current_page", "page_title", "referrer", "user_agent")


@dataclass(frozen=True)
class ErasureReport:
    contact_id: int
    conversations: int
    messages: int
    files: int
    bytes_freed: int
    rows_deleted: int
    rows_scrubbed: int

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "contact_id"}


def access_for_privacy(state: ChatsState, manager: Manager, contact_id: int) -> Contact:
    """Export and erase need customers.edit and chats.admin (and the source, as always)."""
    contact = access_contact(state, manager, contact_id, Permission.CUSTOMERS_EDIT)
    if not manager.can(Permission.ADMIN):
        raise PermissionDenied("You need the chats.admin permission.", Permission.ADMIN)
    return contact


def identifiers_of(held: walk.Holdings) -> Identifiers:
    ids = Identifiers()
    for row in held.of(walk.CONTACTS):
        ids.add_strong(
            row.get(k) for k in ("name", "email", "phone", "external_id", "username", "avatar_url")
        )
        ids.add_texts([row.get("notes")])
        custom = row.get("custom_fields") or {}
        ids.add_texts(v for v in custom.values() if isinstance(v, str))
    ids.add_strong(name_terms(held))
    for row in held.of("chats_visitor_contexts"):
        ids.add_strong([row.get("ip")])
        ids.add_texts(row.get(k) for k in _CONTEXT_TEXTS)
        for page in row.get("pages") or []:
            if isinstance(page, dict):
                ids.add_texts([page.get("url"), page.get("title")])
    customer = {r["id"] for r in held.of("chats_messages") if r["kind"] == MessageKind.CUSTOMER}
    ids.add_texts(r["body"] for r in held.of("chats_messages") if r["id"] in customer)
    ids.add_texts(
        r["body"] for r in held.of("chats_message_revisions") if r["message_id"] in customer
    )
    ids.add_texts(
        r["filename"] for r in held.of("chats_attachments") if _customers_file(r, customer)
    )
    return ids


def name_terms(held: walk.Holdings) -> set[str]:
    """The contact's names and each word of them (platforms send first and last apart)."""
    terms: set[str] = set()
    for row in held.of(walk.CONTACTS):
        for value in (row.get("name"), row.get("username")):
            if isinstance(value, str) and value.strip():
                terms.add(value.strip())
                terms.update(w for w in value.split() if len(w) >= MIN_STRONG)
    return terms


def _customers_file(row: dict[str, Any], customer_messages: set[int]) -> bool:
    if row.get("message_id") is not None:
        return row["message_id"] in customer_messages
    return row.get("uploaded_by") in ("visitor", "channel")


def _children(table: Table) -> list[tuple[Table, str, str]]:
    return [
        (child, col.name, parent_col)
        for child in metadata.sorted_tables
        if child is not table
        for col, parent, parent_col in walk.links(child)
        if parent == table.name
    ]


def delete_where(state: ChatsState, table: Table, where: ColumnElement[bool]) -> int:
    """Delete matching rows and, first, every row under them (SQLite may not cascade)."""
    removed = 0
    for child, column, parent_col in _children(table):
        under = child.c[column].in_(select(table.c[parent_col]).where(where))
        removed += delete_where(state, child, under)
    result = state.session.execute(delete(table).where(where))
    return removed + int(result.rowcount or 0)  # type: ignore[attr-defined]


def _tombstone(state: ChatsState, messages: list[Message]) -> tuple[int, int]:
    freed = count = 0
    for message in messages:
        freed += files.do_free_for_message(state, message)
        message.body = ""
        message.author_name = message.author_avatar_url = None
        message.system_data = None
        message.delivery_error = None
        if message.deleted_at is None:
            message.deleted_at = utcnow()
    if messages:
        ids = [m.id for m in messages]
        rows = state.session.scalars(
            select(Attachment).where(
                Attachment.message_id.in_(ids), Attachment.deleted_at.isnot(None)
            )
        )
        count = len(list(rows))
        state.session.execute(delete(MessageRevision).where(MessageRevision.message_id.in_(ids)))
    return freed, count


def _free_loose_uploads(state: ChatsState, conversation_ids: list[int]) -> tuple[int, int]:
    """Uploads the customer made that never reached a message."""
    rows = list(
        state.session.scalars(
            select(Attachment).where(
                Attachment.conversation_id.in_(conversation_ids),
                Attachment.message_id.is_(None),
                Attachment.uploaded_by.in_(("visitor", "channel")),
                Attachment.deleted_at.is_(None),
            )
        )
    )
    return files.do_free_attachments(state, rows), len(rows)


def _tombstone_json(value: Any, wires: dict[int, dict[str, Any]]) -> Any:
    """Copies of the customer's messages inside JSON (event payloads, webhook bodies) become
    the tombstone, whatever short word the message held."""
    if isinstance(value, list):
        return [_tombstone_json(v, wires) for v in value]
    if isinstance(value, dict):
        if value.get("kind") == MessageKind.CUSTOMER and value.get("id") in wires:
            return wires[value["id"]]
        return {k: _tombstone_json(v, wires) for k, v in value.items()}
    return value


def _scrub_rows(
    state: ChatsState,
    table: Table,
    rows: list[dict[str, Any]],
    ids: Identifiers,
    wires: dict[int, dict[str, Any]] | None = None,
) -> int:
    searchable = {c.name for c in _searchable(state, table)}
    keys = {c.name for c in table.primary_key.columns} | {
        c.name for c in table.columns if c.foreign_keys
    }
    free_text = {c.name for c in table.columns if _free_text(state, c)}
    changed = 0
    for row in rows:
        values = {}
        for name, value in row.items():
            if name in keys or name not in searchable or value is None:
                continue
            new = (
                _tombstone_json(value, wires) if wires and isinstance(value, dict | list) else value
            )
            new = scrub_value(new, ids, texts_too=name in free_text)
            if new != value:
                values[name] = new
        if values:
            state.session.execute(update(table).where(walk.row_key(table, row)).values(**values))
            changed += 1
    return changed


def _type(state: ChatsState, column: Any) -> Any:
    """The column's type on this database (a variant: PostgreSQL's JSONB, TSVECTOR ...)."""
    dialect = state.session.get_bind().dialect.name
    return column.type._variant_mapping.get(dialect, column.type)


def _free_text(state: ChatsState, column: Any) -> bool:
    """Columns where people's words are kept (not codes such as a kind or a status)."""
    kind = _type(state, column)
    if isinstance(kind, JSON | LargeBinary):
        return True
    if isinstance(kind, String):
        return kind.length is None or kind.length >= 100
    return False


def _searchable(state: ChatsState, table: Table) -> list[Any]:
    """Columns that can hold an identifier: text, JSON, bytes (not search vectors, numbers)."""
    return [c for c in table.columns if isinstance(_type(state, c), String | JSON | LargeBinary)]


def _contains(state: ChatsState, column: Any, needle: str) -> ColumnElement[bool] | TextClause:
    if isinstance(_type(state, column), LargeBinary):
        name = f"n_{abs(hash((column.table.name, column.name, needle)))}"
        fn = (
            "position(:{n} in {c}) > 0"
            if state.session.get_bind().dialect.name == "postgresql"
            else "instr({c}, :{n}) > 0"
        )  # type: ignore[union-attr]
        sql = fn.format(n=name, c=f"{column.table.name}.{column.name}")
        return text(sql).bindparams(**{name: needle.encode()})
    if isinstance(_type(state, column), JSON):
        return cast(column, Text).contains(needle, autoescape=True)
    return column.contains(needle, autoescape=True)


def _global_pass(state: ChatsState, ids: Identifiers, needles: set[str]) -> int:
    """Rows anywhere that still hold a strong identifier: scrubbed of every identifier."""
    changed = 0
    if not needles:
        return 0
    for table in metadata.sorted_tables:
        columns = _searchable(state, table)
        if not columns:
            continue
        where = or_(*(_contains(state, c, n) for c in columns for n in needles))
        rows = [dict(r._mapping) for r in state.session.execute(select(table).where(where))]
        changed += _scrub_rows(state, table, rows, ids)
    return changed


def _clear_contact(contact: Contact) -> None:
    for column in Contact.__table__.columns:
        if column.name in _CONTACT_KEEP:
            continue
        if column.name == "custom_fields":
            contact.custom_fields = {}
        elif column.nullable:
            setattr(contact, column.name, None)


def do_erase(
    state: ChatsState,
    manager: Manager | None,
    contact_id: int,
    *,
    thorough: bool = True,
    audit: bool = True,
) -> ErasureReport:
    """Erase one contact in the caller's unit of work (bytes leave storage after commit).

    ``thorough``: also search every table for their strong identifiers (a request to be
    forgotten); the retention run anonymises many old contacts at once and skips that scan.
    ``audit``: one entry per contact (the retention run writes one per run instead)."""
    session = state.session
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("No such contact.")
    held = walk.collect(state, [contact.id])
    ids = identifiers_of(held)
    conversation_ids = sorted(held.values(walk.CONVERSATIONS, "id"))
    messages = list(
        session.scalars(
            select(Message)
            .where(
                Message.conversation_id.in_(conversation_ids), Message.kind == MessageKind.CUSTOMER
            )
            .order_by(Message.id)
        )
    )
    freed, file_count = _tombstone(state, messages)
    loose_freed, loose_count = _free_loose_uploads(state, conversation_ids)
    session.flush()
    deleted = 0
    contacts_table = metadata.tables[walk.CONTACTS]
    for child, column, _parent in _children(contacts_table):
        if child.name != walk.CONVERSATIONS:
            deleted += delete_where(state, child, child.c[column] == contact.id)
    contexts = metadata.tables["chats_visitor_contexts"]
    deleted += delete_where(state, contexts, contexts.c.conversation_id.in_(conversation_ids))
    wires = {m.id: message_dict(m) for m in messages}
    scrubbed = 0
    for table_name, rows in walk.collect(state, [contact.id]).rows.items():
        if table_name != walk.CONTACTS:
            scrubbed += _scrub_rows(state, metadata.tables[table_name], rows, ids, wires)
    # Names are cut out of the person's own rows only: another customer, or a manager, may
    # be called Anna too.
    if thorough:
        scrubbed += _global_pass(state, ids, ids.strong - name_terms(held))
    session.expire_all()
    contact = session.get(Contact, contact_id)
    assert contact is not None
    _clear_contact(contact)
    session.flush()
    _announce(state, conversation_ids, [m.id for m in messages])
    report = ErasureReport(
        contact_id=contact_id,
        conversations=len(conversation_ids),
        messages=len(messages),
        files=file_count + loose_count,
        bytes_freed=freed + loose_freed,
        rows_deleted=deleted,
        rows_scrubbed=scrubbed,
    )
    if audit:
        audit_log.do_record(
            state, manager, "contact.erased", "contact", contact_id, **report.as_dict()
        )
    return report


def _announce(state: ChatsState, conversation_ids: list[int], message_ids: list[int]) -> None:
    """Consoles watching a conversation replace each message with its tombstone."""
    session = state.session
    for conv_id in conversation_ids:
        conv = session.get(Conversation, conv_id)
        if conv is None:
            continue
        for message in session.scalars(
            select(Message).where(Message.conversation_id == conv_id, Message.id.in_(message_ids))
        ):
            publish_message_update(state, conv, message)
        append_event(
            state,
            conv,
            "contact.updated",
            {"contact": {"name": None, "email": None, "phone": None}},
            Visibility.PII,
        )
        publish_inbox_update(state, conv)
