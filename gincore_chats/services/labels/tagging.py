"""Labels on conversations: managers add and remove them; every console sees it live.

A change appends a staff-only ``conversation.labels`` event (the visitor never sees labels)
and publishes the list row, whose ``labels`` this module adds to every inbox update.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from ...identity import Manager
from ...models import Conversation, ConversationLabel, Label, Visibility, utcnow
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from .. import hooks
from ..conversations import label_rows
from ..conversations.events import append_event, publish_inbox_update
from .catalog import get_label, label_dict

#: A conversation carries at most this many labels.
PER_CONVERSATION_MAX = 20


def labels_for(state: ChatsState, conversation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each conversation's labels (id, name, colour), by name; one query for a whole page."""
    result: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not conversation_ids:
        return result
    rows = state.session.execute(
        select(ConversationLabel.conversation_id, Label)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ConversationLabel.conversation_id.in_(conversation_ids))
        .order_by(Label.name_key, Label.id)
    )
    for conversation_id, label in rows:
        result[conversation_id].append(label_dict(label))
    return result


def _require_reply(manager: Manager) -> None:
    if not manager.can(Permission.REPLY):
        raise PermissionDenied(
            "You need the chats.reply permission to change labels.", Permission.REPLY
        )


def _announce(state: ChatsState, manager: Manager, conv: Conversation) -> None:
    label_rows.forget(state.session, conv.id)
    labels = labels_for(state, [conv.id])[conv.id]
    append_event(
        state,
        conv,
        "conversation.labels",
        {"labels": labels, "by": manager.name},
        Visibility.STAFF,
    )
    publish_inbox_update(state, conv)


def do_add_label(state: ChatsState, manager: Manager, conv: Conversation, label_id: int) -> bool:
    """Put a label on the conversation; False (nothing written) when it is already there."""
    _require_reply(manager)
    label = get_label(state, label_id)
    if state.session.get(ConversationLabel, (conv.id, label.id)) is not None:
        return False
    count = len(labels_for(state, [conv.id])[conv.id])
    if count >= PER_CONVERSATION_MAX:
        raise ValueError(f"A conversation can carry at most {PER_CONVERSATION_MAX} labels.")
    state.session.add(
        ConversationLabel(
            conversation_id=conv.id, label_id=label.id, added_by=manager.id, added_at=utcnow()
        )
    )
    state.session.flush()
    _announce(state, manager, conv)
    return True


def do_remove_label(state: ChatsState, manager: Manager, conv: Conversation, label_id: int) -> bool:
    """Take a label off; False when the conversation did not carry it."""
    _require_reply(manager)
    row = state.session.get(ConversationLabel, (conv.id, label_id))
    if row is None:
        return False
    state.session.delete(row)
    state.session.flush()
    _announce(state, manager, conv)
    return True


@hooks.inbox_summary.connect
def _inbox_summary(
    state: ChatsState, *, conversation: Conversation, summary: dict[str, Any]
) -> None:
    # The message statement read them already when this transaction stored a message.
    known = label_rows.remembered(state.session, conversation.id)
    summary["labels"] = (
        known if known is not None else labels_for(state, [conversation.id])[conversation.id]
    )
