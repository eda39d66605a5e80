"""The console's label routes: the catalog, and adding or removing a conversation's labels."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...permissions import Permission
from ...services.conversations import lifecycle as conversations
from ...services.labels import catalog, tagging
from ...services.row_ids import row_id
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors, json_error
from ..guards import json_object, manager_required, signed_in_manager


@api_errors
@manager_required
def list_labels() -> Any:
    labels = catalog.list_labels(get_state())
    return jsonify(labels=[catalog.label_dict(label) for label in labels])


@api_errors
@manager_required
@json_object
def add_label(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    label_id = row_id(data.get("label_id"))
    if label_id is None:
        return json_error(400, "label_id must be a label id.")
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        added = tagging.do_add_label(state, manager, conv, label_id)
        labels = tagging.labels_for(state, [conv.id])[conv.id]
    return jsonify(added=added, labels=labels)


@api_errors
@manager_required
def remove_label(conversation_id: int, label_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id, Permission.REPLY)
        removed = tagging.do_remove_label(state, manager, conv, label_id)
        labels = tagging.labels_for(state, [conv.id])[conv.id]
    return jsonify(removed=removed, labels=labels)


ROUTES: list[Route] = [
    ("/labels", list_labels, ["GET"]),
    ("/conversations/<int:conversation_id>/labels", add_label, ["POST"]),
    ("/conversations/<int:conversation_id>/labels/<int:label_id>", remove_label, ["DELETE"]),
]
