"""The console's customer routes: edit the contact, add an internal note about them, export
or erase everything held about them (customers.edit and chats.admin)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, send_file

from ...babel import gettext as _
from ...permissions import Permission
from ...serialize import contact_dict, redact_contact
from ...services.contacts import customers as contacts
from ...services.conversations import lifecycle as conversations
from ...services.privacy import erasure
from ...services.privacy import export as contact_export
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors, json_error
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


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@permission_required(Permission.ADMIN)
def export_contact(contact_id: int) -> Any:
    # A POST (with the CSRF header) although it reads: it writes the audit log, and a
    # cross-site GET must not be able to make an export happen.
    state, manager = get_state(), signed_in_manager()
    spool = contact_export.export_contact(state, manager, contact_id)
    return send_file(
        spool,  # type: ignore[arg-type]
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"contact-{contact_id}.zip",
        max_age=0,
    )


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@permission_required(Permission.ADMIN)
@json_object
def erase_contact(data: dict[str, Any], contact_id: int) -> Any:
    if data.get("confirm") is not True:
        return json_error(400, _("Erasing cannot be undone: send confirm: true."))
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        erasure.access_for_privacy(state, manager, contact_id)
        report = erasure.do_erase(state, manager, contact_id)
    return jsonify(erased=report.as_dict())


ROUTES: list[Route] = [
    ("/conversations/<int:conversation_id>/contact", edit_contact, ["PATCH"]),
    ("/conversations/<int:conversation_id>/notes", add_note, ["POST"]),
    ("/contacts/<int:contact_id>/export", export_contact, ["POST"]),
    ("/contacts/<int:contact_id>/erase", erase_contact, ["POST"]),
]
