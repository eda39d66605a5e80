"""Every row the library holds about one contact, found by walking the models' metadata.

Nothing here names a table: a row belongs to the contact when a foreign key (or a column named
``contact_id`` / ``conversation_id`` without one, such as webhook events) leads from it to a row
that belongs to the contact, starting at the contact itself. So a table added later (ratings,
identities, labels ...) is exported and erased with the rest without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, LargeBinary, Table, or_, select
from sqlalchemy.sql import ColumnElement

from ...models import metadata
from ...state import ChatsState

CONTACTS = "chats_contacts"
CONVERSATIONS = "chats_conversations"
#: Columns that point at a parent by name where no foreign key is declared.
_BY_NAME = {"contact_id": (CONTACTS, "id"), "conversation_id": (CONVERSATIONS, "id")}


@dataclass
class Holdings:
    """Rows per table (mappings of column name to value), in dependency order."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, table: str) -> list[dict[str, Any]]:
        return self.rows.get(table, [])

    def values(self, table: str, column: str) -> set[Any]:
        return {r[column] for r in self.of(table) if r.get(column) is not None}


def links(table: Table) -> list[tuple[Column[Any], str, str]]:
    """(column of ``table``, parent table, parent column) for each way up to a parent."""
    found: list[tuple[Column[Any], str, str]] = []
    for fk in table.foreign_keys:
        if fk.column.table is not table:
            found.append((fk.parent, fk.column.table.name, fk.column.name))  # type: ignore[arg-type]
    declared = {col.name for col, _, _ in found}
    for name, (parent, parent_col) in _BY_NAME.items():
        if name in table.c and name not in declared and table.name != parent:
            found.append((table.c[name], parent, parent_col))
    return found


def is_binary(column: Column[Any]) -> bool:
    return isinstance(column.type, LargeBinary)


def _primary_key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def collect(state: ChatsState, contact_ids: Iterable[int]) -> Holdings:
    holdings = Holdings()
    ids = list(contact_ids)
    contacts = metadata.tables[CONTACTS]
    holdings.rows[CONTACTS] = [
        dict(r._mapping)
        for r in state.session.execute(select(contacts).where(contacts.c.id.in_(ids)))
    ]
    # sorted_tables lists parents before children, so one pass reaches every descendant.
    for table in metadata.sorted_tables:
        if table.name == CONTACTS:
            continue
        conditions: list[ColumnElement[bool]] = []
        for column, parent, parent_col in links(table):
            keys = holdings.values(parent, parent_col)
            if keys:
                conditions.append(column.in_(keys))
        if not conditions:
            continue
        order = [table.c[name] for name in _primary_key(table)]
        rows = state.session.execute(select(table).where(or_(*conditions)).order_by(*order))
        found = [dict(r._mapping) for r in rows]
        if found:
            holdings.rows[table.name] = found
    return holdings


def row_key(table: Table, row: dict[str, Any]) -> ColumnElement[bool]:
    """SQL matching one row by its primary key."""
    from sqlalchemy import and_

    return and_(*(table.c[name] == row[name] for name in _primary_key(table)))
