"""The console's message routes: send a reply or a note, edit, delete, and retry a failed send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify

from ...identity import Manager
from ...models import Conversation, Message
from ...permissions import Permission
from ...services.channels import outbound
from ...services.conversations import drafts, messages
from ...services.conversations import lifecycle as conversations
from ...services.conversations.message_events import message_wire
from ...services.unit_of_work import unit_of_work
from ...state import ChatsState, get_state
from ..common import Route, api_errors, message_answer
from ..guards import json_object, manager_required, signed_in_manager

#: A service that changes one message of a conversation the manager may reply in.
MessageChange = Callable[[ChatsState, Manager, Conversation, Message], object]


@api_errors
@manager_required
@json_object
def send(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        message, created = messages.do_send_manager_message(
            state,
            manager,
            conv,
            data.get("body"),
            data.get("client_id"),
            quoted_message_id=data.get("quoted_message_id"),
            note=bool(data.get("note")),
        )
        drafts.do_clear_draft(state, manager.id, conv.id)
        answer = message_answer(message, created)
    return answer


def change_message(conversation_id: int, message_id: int, change: MessageChange) -> Any:
    """Run ``change`` on one message in one unit of work and answer with the message as it is
    now. The service checks whose message it is and what may change."""
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        message = messages.message_in(state, conv, message_id)
        change(state, manager, conv, message)
        wire = message_wire(message)
    return jsonify(message=wire)


@api_errors
@manager_required
@json_object
def edit(data: dict[str, Any], conversation_id: int, message_id: int) -> Any:
    body = data.get("body")
    return change_message(
        conversation_id,
        message_id,
        lambda state, manager, conv, message: messages.do_edit_message(
            state, manager, conv, message, body
        ),
    )


@api_errors
@manager_required
def delete(conversation_id: int, message_id: int) -> Any:
    return change_message(conversation_id, message_id, messages.do_delete_message)


@api_errors
@manager_required
def retry_send(conversation_id: int, message_id: int) -> Any:
    """Send a reply that failed to reach a messenger customer again."""
    return change_message(conversation_id, message_id, outbound.do_retry)


MESSAGE = "/conversations/<int:conversation_id>/messages/<int:message_id>"
ROUTES: list[Route] = [
    ("/conversations/<int:conversation_id>/messages", send, ["POST"]),
    (MESSAGE, edit, ["PATCH"]),
    (MESSAGE, delete, ["DELETE"]),
    (f"{MESSAGE}/retry", retry_send, ["POST"]),
]
