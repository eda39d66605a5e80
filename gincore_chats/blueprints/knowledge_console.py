"""The knowledge base in the console (``chats.view``): suggested answers for the customer's
latest question, a search, one published entry, and "this answer was used".

Managers read published entries only, in scope of the sources they see; editing is for the
settings pages (``chats.admin``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ..identity import Manager
from ..knowledge.language import detect
from ..models import Conversation, Message, MessageKind, SightingKind
from ..services.conversations import lifecycle as conversations
from ..services.knowledge import entries, retrieval
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import api_errors
from .guards import json_object, manager_required, reject_bad_csrf, signed_in_manager

#: Customer messages of the latest turn that make up "the question".
TURN = 3
MAX_QUERY = 1000


def match_dict(match: retrieval.Match) -> dict[str, Any]:
    return {
        "entry_id": match.entry_id,
        "question": match.question,
        "answer": match.answer,
        "language": match.language,
        "score": match.score,
        "grounded": match.grounded,
    }


def latest_turn(state: ChatsState, conv: Conversation) -> list[Message]:
    """The customer's messages since the last reply (at most TURN), newest first."""
    rows = state.session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.kind.in_((MessageKind.CUSTOMER, MessageKind.MANAGER)),
            Message.deleted_at.is_(None),
        )
        .order_by(Message.id.desc())
        .limit(20)
    ).unique()
    turn: list[Message] = []
    for m in rows:
        if m.kind != MessageKind.CUSTOMER:
            if turn:
                break
            continue
        turn.append(m)
        if len(turn) >= TURN:
            break
    return turn


@api_errors
@manager_required
def suggestions(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    conv = conversations.access_for_manager(state, manager, conversation_id)
    turn = latest_turn(state, conv)
    if not turn:
        return jsonify(question=None, message_id=None, matches=[])
    text = "\n".join(m.body for m in reversed(turn) if m.body)[:MAX_QUERY]
    language = detect(text, conv.language)
    matches = retrieval.search(
        state, text=text, language=language, source_id=conv.source_id, limit=3
    )
    return jsonify(
        question=text,
        message_id=turn[0].id,
        language=language,
        matches=[match_dict(m) for m in matches if m.grounded],
    )


@api_errors
@manager_required
def search() -> Any:
    state, manager = get_state(), signed_in_manager()
    text = (request.args.get("q") or "").strip()[:MAX_QUERY]
    source_id = None
    conversation_id = request.args.get("conversation_id", type=int)
    hint = None
    if conversation_id:
        conv = conversations.access_for_manager(state, manager, conversation_id)
        source_id, hint = conv.source_id, conv.language
    if not text:
        return jsonify(matches=[])
    language = request.args.get("language") or detect(text, hint)
    matches = retrieval.search(state, text=text, language=language, source_id=source_id, limit=5)
    if source_id is None:
        visible = _visible(state, manager)
        matches = [m for m in matches if visible(m.entry_id)]
    return jsonify(matches=[match_dict(m) for m in matches])


def _visible(state: ChatsState, manager: Manager) -> Any:
    def check(entry_id: int) -> bool:
        try:
            entries.access_published(state, manager, entry_id)
        except conversations.NotFound:
            return False
        return True

    return check


@api_errors
@manager_required
def get_entry(entry_id: int) -> Any:
    entry = entries.access_published(get_state(), signed_in_manager(), entry_id)
    return jsonify(
        entry={
            "id": entry.id,
            "question": entry.question,
            "answer": entry.answer,
            "language": entry.language,
            "phrasings": [p.text for p in entry.phrasings],
        }
    )


@api_errors
@manager_required
@json_object
def used(data: dict[str, Any], entry_id: int) -> Any:
    """A manager inserted this answer into a reply: the question was asked here."""
    state, manager = get_state(), signed_in_manager()
    conversation_id = data.get("conversation_id")
    if not isinstance(conversation_id, int):
        raise ValueError("conversation_id must be a number.")
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        entry = entries.access_published(state, manager, entry_id)
        counted = entries.do_record_sighting(state, entry, conv.id, kind=SightingKind.USED)
        asked = entry.asked_count
    return jsonify(counted=counted, asked_count=asked)


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_knowledge_console", __name__)
    bp.before_request(reject_bad_csrf)
    api = "/console/api"
    bp.add_url_rule(f"{api}/conversations/<int:conversation_id>/suggestions", view_func=suggestions)
    bp.add_url_rule(f"{api}/kb/search", view_func=search)
    bp.add_url_rule(f"{api}/kb/entries/<int:entry_id>", view_func=get_entry)
    bp.add_url_rule(f"{api}/kb/entries/<int:entry_id>/used", view_func=used, methods=["POST"])
    return bp
