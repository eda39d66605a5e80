"""Unsent replies, saved server-side per manager and conversation (any device restores them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from ...identity import Manager
from ...models import Conversation, Draft, utcnow
from ...state import ChatsState
from ..errors import MessageError
from ..row_ids import row_id

MAX_DRAFT_LENGTH = 20_000


def get_draft(state: ChatsState, manager: Manager, conv: Conversation) -> Draft | None:
    return state.session.scalar(
        select(Draft).where(Draft.conversation_id == conv.id, Draft.manager_id == manager.id)
    )


def do_save_draft(
    state: ChatsState,
    manager: Manager,
    conv: Conversation,
    body: Any,
    quoted_message_id: Any = None,
) -> Draft | None:
    """Save (or, when empty, drop) the draft. Drafts are never published to anyone."""
    if not isinstance(body, str):
        raise MessageError("The draft must be text.")
    if len(body) > MAX_DRAFT_LENGTH:
        raise MessageError(f"The draft is too long (at most {MAX_DRAFT_LENGTH} characters).")
    quoted = row_id(quoted_message_id) if str(quoted_message_id or "").isdigit() else None
    draft = get_draft(state, manager, conv)
    if not body.strip() and quoted is None:
        if draft is not None:
            state.session.delete(draft)
        return None
    if draft is None:
        draft = Draft(conversation_id=conv.id, manager_id=manager.id)
        state.session.add(draft)
    draft.body = body
    draft.quoted_message_id = quoted
    draft.updated_at = utcnow()
    return draft


def do_clear_draft(state: ChatsState, manager_id: str, conversation_id: int) -> None:
    state.session.execute(
        delete(Draft).where(
            Draft.conversation_id == conversation_id, Draft.manager_id == manager_id
        )
    )
