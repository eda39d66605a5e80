"""The audit log's only writer: one row per admin action on something sensitive.

Details never hold a secret's value (only which secret, and e.g. whether the platform took
it), so the log itself can be shown to every admin. Issue 18's viewer reads these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..identity import Manager
from ..models import AuditEntry, ManagerProfile, utcnow
from ..state import ChatsState
from .managers.profiles import candidates


def do_record(
    state: ChatsState,
    manager: Manager | None,
    action: str,
    target_type: str,
    target_id: object,
    **details: Any,
) -> AuditEntry:
    """Add an entry in the caller's unit of work: it commits (or rolls back) with the action."""
    entry = AuditEntry(
        manager_id=manager.id if manager is not None else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details,
        created_at=utcnow(),
    )
    state.session.add(entry)
    state.session.flush()
    return entry


def entries_for(
    state: ChatsState, target_type: str, target_id: object, limit: int = 50
) -> list[AuditEntry]:
    """The newest entries about one row, newest first."""
    return list(
        state.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Filters:
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def page(
    state: ChatsState, filters: Filters, number: int, size: int
) -> tuple[list[AuditEntry], bool]:
    """One page of entries, newest first, and whether there is a next page."""
    query = select(AuditEntry)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.since:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.created_at < filters.until)
    query = query.order_by(AuditEntry.id.desc()).offset((number - 1) * size).limit(size + 1)
    rows = list(state.session.scalars(query))
    return rows[:size], len(rows) > size


def actions(state: ChatsState) -> list[str]:
    """Every action written so far, for the filter."""
    return list(
        state.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


def manager_names(state: ChatsState, rows: list[AuditEntry]) -> dict[str, str]:
    """Display names of the people in ``rows``: the library's profiles, else the host's."""
    ids = {r.manager_id for r in rows if r.manager_id}
    if not ids:
        return {}
    found = state.session.scalars(select(ManagerProfile).where(ManagerProfile.manager_id.in_(ids)))
    names = {m.manager_id: m.display_name for m in found}
    if ids - names.keys():
        names.update((i, n) for i, n in candidates(state) if i in ids and i not in names)
    return names
