"""The console's contact routes: search, a contact with all its conversations, merging two
contacts ("same person?"), undoing a merge, dismissing a suggestion."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ...permissions import Permission, PermissionDenied
from ...serialize import contact_dict
from ...services.contacts import directory, merges
from ...services.contacts.fields import access_contact
from ...services.unit_of_work import unit_of_work
from ...state import get_state
from ..common import Route, api_errors, json_error
from ..guards import (
    json_object,
    manager_required,
    optional_json_object,
    permission_required,
    signed_in_manager,
)
from .shapes import sees_customers


def _need_view() -> None:
    if not sees_customers(signed_in_manager()):
        raise PermissionDenied("You need the customers.view permission.", Permission.CUSTOMERS_VIEW)


@api_errors
@manager_required
def search_contacts() -> Any:
    state, manager = get_state(), signed_in_manager()
    _need_view()
    rows = directory.search(state, manager, request.args.get("q"))
    return jsonify(
        contacts=[
            {
                **contact_dict(c),
                "host_user_id": c.host_user_id,
                "external_id": c.external_id,
                "verified": c.verified_at is not None,
            }
            for c in rows
        ]
    )


@api_errors
@manager_required
def get_contact(contact_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    contact = access_contact(state, manager, contact_id, Permission.CUSTOMERS_VIEW)
    if contact.merged_into_id is not None:
        return jsonify(merged_into_id=contact.merged_into_id, contact=None)
    return jsonify(directory.contact_page(state, manager, contact))


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@json_object
def merge_contacts(data: dict[str, Any], contact_id: int) -> Any:
    """Merge contact ``other_id`` into ``contact_id`` (which keeps its id)."""
    state, manager = get_state(), signed_in_manager()
    other_id = data.get("other_id")
    with unit_of_work(state.session):
        survivor = access_contact(state, manager, contact_id, Permission.CUSTOMERS_EDIT)
        if not isinstance(other_id, int) or isinstance(other_id, bool):
            return json_error(400, "other_id must be the id of the contact to merge in.")
        merged = access_contact(state, manager, other_id, Permission.CUSTOMERS_EDIT)
        record = merges.do_merge(state, manager, survivor, merged)
        wire = merges.merge_dict(record)
    return jsonify(merge=wire), 201


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@optional_json_object
def undo_merge(data: dict[str, Any], merge_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        record = merges.get_merge(state, merge_id)
        access_contact(state, manager, record.survivor_id, Permission.CUSTOMERS_EDIT)
        merges.do_undo_merge(state, manager, record)
        wire = merges.merge_dict(record)
    return jsonify(merge=wire)


@api_errors
@manager_required
@permission_required(Permission.CUSTOMERS_EDIT)
@optional_json_object
def dismiss_suggestion(data: dict[str, Any], suggestion_id: int) -> Any:
    state, manager = get_state(), signed_in_manager()
    with unit_of_work(state.session):
        found = merges.get_suggestion(state, suggestion_id)
        access_contact(state, manager, found.contact_id, Permission.CUSTOMERS_EDIT)
        merges.do_dismiss(state, manager, suggestion_id)
    return jsonify(dismissed=True)


ROUTES: list[Route] = [
    ("/contacts", search_contacts, ["GET"]),
    ("/contacts/<int:contact_id>", get_contact, ["GET"]),
    ("/contacts/<int:contact_id>/merge", merge_contacts, ["POST"]),
    ("/merges/<int:merge_id>/undo", undo_merge, ["POST"]),
    ("/merge-suggestions/<int:suggestion_id>/dismiss", dismiss_suggestion, ["POST"]),
]
