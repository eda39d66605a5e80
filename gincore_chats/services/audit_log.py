"""The audit log's only writer: one row per admin action on something sensitive.

Details never hold a secret's value (only which secret, and e.g. whether the platform took
it), so the log itself can be shown to every admin. Issue 18's viewer reads these rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..identity import Manager
from ..models import AuditEntry, utcnow
from ..state import ChatsState


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
