"""The console's AI actions on a conversation: hand it back to the assistant (400 for a
humans-only source), and ask for an AI draft of the reply (humans-only sources with a provider).

The draft is made by an RQ job (``jobs.ai.draft``), never on this request: the view answers
202 and the text reaches this manager's consoles as an ``ai.draft`` socket frame. Without a
provider the view answers 400 with what :class:`~...services.ai.drafts.DraftUnavailable` says.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...permissions import Permission
from ...services.ai import assistant_state, drafts
from ...services.conversations import lifecycle as conversations
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors
from ..guards import manager_required, signed_in_manager


@api_errors
@manager_required
def hand_back(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        assistant_state.do_hand_back(state, manager, conv)
        field = assistant_state.summary_fields(state, [conv])[conv.id]
    return jsonify(ai=field)


@api_errors
@manager_required
def request_draft(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        drafts.do_request_draft(state, manager, conv)
    return jsonify(queued=True), 202


ROUTES: list[Route] = [
    ("/conversations/<int:conversation_id>/ai/hand-back", hand_back, ["POST"]),
    ("/conversations/<int:conversation_id>/ai/draft", request_draft, ["POST"]),
]
