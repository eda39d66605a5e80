"""The console's conversation routes: the list, unread counts, one conversation and its events,
joining and leaving, status, read marks and drafts."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ...models import ConversationStatus
from ...permissions import Permission
from ...services.conversations import drafts, participants, read_state
from ...services.conversations import lifecycle as conversations
from ...services.conversations.events import events_after
from ...services.managers import profiles as managers
from ...services.row_ids import row_id
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors, json_error
from ..guards import json_object, manager_required, optional_json_object, signed_in_manager
from .shapes import detail, sees_customers, summaries, summary_for


def label_filter() -> int | None:
    raw = request.args.get("label")
    if not raw:
        return None
    found = row_id(raw)
    if found is None:
        raise ValueError("label must be a label id.")
    return found


@api_errors
@manager_required
def list_conversations() -> Any:
    manager = signed_in_manager()
    page = conversations.list_for_manager(
        get_state(),
        manager,
        filter_=request.args.get("filter", "all"),
        q=request.args.get("q"),
        cursor=request.args.get("cursor") or None,
        limit=request.args.get("limit", type=int),
        label=label_filter(),
    )
    return jsonify(conversations=summaries(manager, page.items), next_cursor=page.next_cursor)


@api_errors
@manager_required
def unread() -> Any:
    """This manager's unread counts for some list rows (``?ids=1,2``), and how many open
    conversations are unread in all (capped: the tab title shows "99+"; ``total=0`` skips
    that count, the costly part in a huge inbox)."""
    state, manager = get_state(), signed_in_manager()
    found = (row_id(x) for x in request.args.get("ids", "").split(","))
    wanted = [x for x in found if x is not None]
    ids = conversations.visible_ids(state, manager, wanted[:200])
    counts = read_state.unread_counts(state, manager.id, ids)
    answer: dict[str, Any] = {"unread": {str(cid): n for cid, n in counts.items()}}
    if request.args.get("total") != "0":
        answer["conversations"] = conversations.count_unread(state, manager)
        answer["cap"] = conversations.UNREAD_COUNT_CAP
    return jsonify(answer)


@api_errors
@manager_required
def get_conversation(conversation_id: int) -> Any:
    return jsonify(detail(signed_in_manager(), conversation_id))


@api_errors
@manager_required
def get_events(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    conv = conversations.access_for_manager(state, manager, conversation_id)
    upto = conv.last_seq
    events = events_after(
        state,
        conv.id,
        request.args.get("after", 0, type=int),
        staff=True,
        pii=sees_customers(manager),
    )
    more = len(events) >= state.config.replay_limit
    return jsonify(events=events, upto=events[-1]["seq"] if more else upto, more=more)


@api_errors
@manager_required
def join(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        managers.do_sync_profile(state, manager)
        joined = participants.do_join(state, manager, conv)
    return jsonify(joined=joined, managers=conv.active_manager_ids)


@api_errors
@manager_required
def leave(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        left = participants.do_leave(state, manager, conv)
    return jsonify(left=left, managers=conv.active_manager_ids)


@api_errors
@manager_required
@json_object
def set_status(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    status = data.get("status")
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        if status == ConversationStatus.CLOSED:
            conversations.do_close(state, manager, conv)
        elif status == ConversationStatus.OPEN:
            conversations.do_reopen(state, conv)
        else:
            return json_error(400, "status must be open or closed.")
    return jsonify(conversation=summary_for(manager, conv))


@api_errors
@manager_required
@optional_json_object
def mark_read(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    upto_id = data.get("message_id")
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        last = read_state.do_mark_read(
            state, manager, conv, int(upto_id) if isinstance(upto_id, int) else None
        )
    return jsonify(last_read_message_id=last)


@api_errors
@manager_required
def mark_unread(conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        read_state.do_mark_unread(state, manager, conv)
    return jsonify(unread=True)


@api_errors
@manager_required
@json_object
def save_draft(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        draft = drafts.do_save_draft(
            state, manager, conv, data.get("body", ""), data.get("quoted_message_id")
        )
    return jsonify(saved=draft is not None)


ROUTES: list[Route] = [
    ("/conversations", list_conversations, ["GET"]),
    ("/unread", unread, ["GET"]),
    ("/conversations/<int:conversation_id>", get_conversation, ["GET"]),
    ("/conversations/<int:conversation_id>/events", get_events, ["GET"]),
    ("/conversations/<int:conversation_id>/join", join, ["POST"]),
    ("/conversations/<int:conversation_id>/leave", leave, ["POST"]),
    ("/conversations/<int:conversation_id>/status", set_status, ["POST"]),
    ("/conversations/<int:conversation_id>/read", mark_read, ["POST"]),
    ("/conversations/<int:conversation_id>/unread", mark_unread, ["POST"]),
    ("/conversations/<int:conversation_id>/draft", save_draft, ["PUT"]),
]
