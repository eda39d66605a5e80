"""The console's customer routes: edit the contact, add an internal note about them."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...permissions import Permission
from ...serialize import contact_dict, redact_contact
from ...services.contacts import customers as contacts
from ...services.conversations import lifecycle as conversations
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors
from ..guards import json_object, manager_required, permission_required, signed_in_manager
from .shapes import sees_customers


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@json_object
def edit_contact(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        contact = contacts.do_update_contact(state, conv, data)
        wire = contact_dict(contact)
    # customers.edit without customers.view may change fields but not read them back.
    return jsonify(contact=wire if sees_customers(manager) else redact_contact(wire))


@api_errors
@manager_required
@json_object
def add_note(data: dict[str, Any], conversation_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        conv = conversations.access_for_manager(state, manager, conversation_id)
        note = contacts.do_add_note(state, manager, conv, data.get("body"))
    return jsonify(note=contacts.note_dict(note)), 201


ROUTES: list[Route] = [
    ("/conversations/<int:conversation_id>/contact", edit_contact, ["PATCH"]),
    ("/conversations/<int:conversation_id>/notes", add_note, ["POST"]),
]
