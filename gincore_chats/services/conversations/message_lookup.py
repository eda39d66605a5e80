"""Finding messages: by the client's id, by the platform's id, by row id within a conversation.

Read-only, so every message service (sending, delivery, inbound, outbound) can use them without
importing one another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...models import Conversation, Message
from ...state import ChatsState
from ..errors import MessageError
from ..row_ids import row_id


def find_by_client_id(state: ChatsState, conv: Conversation, client_id: str) -> Message | None:
    return state.session.scalar(
        select(Message).where(Message.conversation_id == conv.id, Message.client_id == client_id)
    )


def find_by_external_id(state: ChatsState, source_id: int, external_id: str) -> Message | None:
    return state.session.scalar(
        select(Message).where(Message.source_id == source_id, Message.external_id == external_id)
    )


def message_in(state: ChatsState, conv: Conversation, message_id: Any) -> Message:
    mid = row_id(message_id)
    if mid is None:
        raise MessageError("No such message in this conversation.")
    message = state.session.get(Message, mid)
    if message is None or message.conversation_id != conv.id:
        raise MessageError("No such message in this conversation.")
    return message
