"""The console's saved replies: the composer's picker for one conversation (filled in), and
each manager's own replies (JSON for scripts and the page ``/console/replies``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...services.canned import responses
from ...services.conversations import lifecycle as conversations
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors
from ..guards import json_object, manager_required, signed_in_manager
from .shapes import sees_customers


@api_errors
@manager_required
def for_conversation(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    conv = conversations.access_for_manager(state, manager, conversation_id)
    found = responses.for_conversation(state, manager, conv, pii=sees_customers(manager))
    return jsonify(responses=found)


@api_errors
@manager_required
def list_replies() -> Any:
    state, manager = get_state(), signed_in_manager()
    rows = responses.list_for_manager(state, manager)
    return jsonify(responses=[responses.reply_dict(manager, r) for r in rows])


@api_errors
@manager_required
@json_object
def create_reply(data: dict[str, Any]) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        reply = responses.do_create(
            state, manager, data, shared=data.get("scope") == responses.SHARED
        )
        answer = responses.reply_dict(manager, reply)
    return jsonify(response=answer), 201


@api_errors
@manager_required
@json_object
def update_reply(data: dict[str, Any], reply_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        reply = responses.get_reply(state, manager, reply_id)
        responses.do_update(state, manager, reply, data)
        answer = responses.reply_dict(manager, reply)
    return jsonify(response=answer)


@api_errors
@manager_required
def delete_reply(reply_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        responses.do_delete(state, manager, responses.get_reply(state, manager, reply_id))
    return jsonify(deleted=True)


ROUTES: list[Route] = [
    ("/conversations/<int:conversation_id>/canned", for_conversation, ["GET"]),
    ("/canned", list_replies, ["GET"]),
    ("/canned", create_reply, ["POST"]),
    ("/canned/<int:reply_id>", update_reply, ["PATCH"]),
    ("/canned/<int:reply_id>", delete_reply, ["DELETE"]),
]
