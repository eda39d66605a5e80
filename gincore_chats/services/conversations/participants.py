"""Managers joining and leaving conversations (several at once), with system messages."""

from __future__ import annotations

from ...identity import Manager
from ...models import Conversation, Participant, utcnow
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from .. import hooks
from .events import append_event, publish_inbox_update
from .messages import add_system_message


def active_participant(conv: Conversation, manager_id: str) -> Participant | None:
    for p in conv.participants:
        if p.manager_id == manager_id and p.left_at is None:
            return p
    return None


def do_join(state: ChatsState, manager: Manager, conv: Conversation) -> bool:
    """Join; False (and nothing written) when the manager is already in the conversation."""
    if not manager.can(Permission.REPLY):
        raise PermissionDenied("You need the chats.reply permission to join.", Permission.REPLY)
    if active_participant(conv, manager.id) is not None:
        return False
    conv.participants.append(Participant(manager_id=manager.id, joined_at=utcnow()))
    hooks.manager_took_over.send(state, conversation=conv, manager_id=manager.id)  # AI stops
    add_system_message(state, conv, "joined", {"name": manager.name, "manager_id": manager.id})
    append_event(state, conv, "participants.changed", {"managers": conv.active_manager_ids})
    publish_inbox_update(state, conv)
    return True


def do_leave(state: ChatsState, manager: Manager, conv: Conversation) -> bool:
    participant = active_participant(conv, manager.id)
    if participant is None:
        return False
    participant.left_at = utcnow()
    add_system_message(state, conv, "left", {"name": manager.name, "manager_id": manager.id})
    append_event(state, conv, "participants.changed", {"managers": conv.active_manager_ids})
    publish_inbox_update(state, conv)
    hooks.manager_left.send(state, conversation=conv, manager_id=manager.id)
    return True
