"""Uploads and downloads of attachments, for the console (session) and the widget (token).

One upload = one message, idempotent on ``client_id``: a retried upload returns the message the
first try created. Downloads are served only to whoever may read the conversation, with
``nosniff``, a sandboxing CSP, and ``attachment`` disposition for anything but safe images, so a
file never renders as HTML or SVG in our origin.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from ..identity import Manager
from ..json_input import storable_text
from ..models import Attachment, Conversation, Message, MessageKind
from ..permissions import Permission, PermissionDenied
from ..services.conversations import lifecycle as conversations
from ..services.conversations import messages
from ..services.conversations.message_events import message_wire
from ..services.files import attachments
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import Route, add_routes, api_errors, current_manager, json_error
from .guards import cors_api, csrf_required
from .visitor_auth import preflight_hook, visitor_conversation
from .widget import visitor_may_send

_SLACK = 64 * 1024  # multipart framing and the text fields around the file


def _file_response(state: ChatsState, attachment: Attachment, thumb: bool) -> Response:
    inline = attachments.is_inline_image(attachment)
    key = attachment.thumbnail_key if thumb and attachment.thumbnail_key else attachment.storage_key
    mimetype = "image/jpeg" if key != attachment.storage_key else attachment.content_type
    if key != attachment.storage_key and key.endswith(".thumb"):
        # Thumbnails are JPEG, or PNG when the image has transparency.
        with attachments.storage(state).open(key) as probe:
            mimetype = "image/png" if probe.read(8).startswith(b"\x89PNG") else "image/jpeg"
    response = send_file(
        attachments.storage(state).open(key),
        mimetype=mimetype if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=attachment.filename,
        max_age=3600,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


class NotMultipart(attachments.UploadError):
    status = 415


def _form_text(name: str) -> str | None:
    """A text field of the upload form, storable (werkzeug decodes ``%00`` to a NUL)."""
    value = request.form.get(name)
    return storable_text(value) if value else None


def _upload(state: ChatsState) -> tuple[Any, str | None, str]:
    """The uploaded file part, or a clear error. The request body is capped before parsing."""
    if request.mimetype != "multipart/form-data":
        raise NotMultipart("Send the file as multipart/form-data, in a field named 'file'.")
    request.max_content_length = state.config.max_upload_size + _SLACK
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:
        # Werkzeug's own 413 is an HTML page without CORS headers: the widget could not read
        # it and would take it for a network failure (and offer a retry that cannot work).
        raise attachments.too_large(state.config.max_upload_size) from None
    if file is None:
        raise attachments.UploadError("Send the file in a multipart field named 'file'.")
    return file.stream, file.filename, _form_text("client_id") or ""


def drop_duplicate_upload(state: ChatsState) -> None:
    """A concurrent retry with the same client id won: undo this copy's row and bytes (the
    rollback runs the storage clean-up), so no orphan counts against the quota."""
    state.session.rollback()


def uploaded_message(state: ChatsState, conv: Conversation, client_id: str) -> Any:
    """The answer for a retried upload (the message its first try created), else None."""
    existing = messages.find_by_client_id(state, conv, client_id) if client_id else None
    return None if existing is None else jsonify(message=message_wire(existing), created=False)


def sent(state: ChatsState, message: Message, created: bool) -> Any:
    wire = message_wire(message)
    if not created:
        drop_duplicate_upload(state)
    return jsonify(message=wire, created=created), 201 if created else 200


# -- console ---------------------------------------------------------------------------------


def manager_for(conversation_id: int, permission: str) -> tuple[Manager, Conversation]:
    """The manager and the conversation, if they may use it; a logged-out request is a 403
    here (a file link opened without a session), not the console API's 401."""
    state = get_state()
    manager = current_manager(state)
    if manager is None:
        raise PermissionDenied("Log in to use the console.")
    return manager, conversations.access_for_manager(state, manager, conversation_id, permission)


@api_errors
@csrf_required
def console_upload(conversation_id: int) -> Any:
    state = get_state()
    stream, filename, client_id = _upload(state)
    with unit_of_work(state.session):
        manager, conv = manager_for(conversation_id, Permission.REPLY)
        retried = uploaded_message(state, conv, client_id)
        if retried is not None:
            return retried
        attachment = attachments.do_store_upload(
            state, conv, uploaded_by=manager.id, filename=filename, stream=stream
        )
        message, created = messages.do_send_manager_message(
            state,
            manager,
            conv,
            _form_text("body"),
            client_id,
            quoted_message_id=request.form.get("quoted_message_id") or None,
            note=request.form.get("note") in ("1", "true", "on"),
            attachments=[attachment],
        )
        answer = sent(state, message, created)
    return answer


@api_errors
def console_download(public_id: str) -> Any:
    state = get_state()
    attachment = attachments.find(state, public_id)
    if attachment is None:
        return json_error(404, "No such file.")
    manager_for(attachment.conversation_id, Permission.VIEW)
    return _file_response(state, attachment, request.args.get("thumb") == "1")


@api_errors
def storage_usage() -> Any:
    state = get_state()
    manager = current_manager(state)
    if manager is None or not manager.is_admin:
        raise PermissionDenied("Storage usage needs the chats.admin permission.")
    usage = attachments.usage(state)
    return jsonify(used=usage.used, quota=usage.quota, percent=usage.percent)


# -- messenger platforms ---------------------------------------------------------------------


def platform_download(public_id: str, expires: int, sig: str) -> Any:
    """A signed, short-lived link a messenger platform fetches a reply's file from."""
    state = get_state()
    expected = attachments.public_link_signature(state, public_id, expires)
    attachment = attachments.find(state, public_id)
    if attachment is None or expires < time.time() or not hmac.compare_digest(expected, sig):
        return json_error(404, "No such file.")
    return _file_response(state, attachment, thumb=False)


# -- widget ----------------------------------------------------------------------------------


@cors_api
def widget_upload() -> Any:
    state = get_state()
    stream, filename, client_id = _upload(state)
    with unit_of_work(state.session):
        conv, _origin = visitor_conversation(state)
        retried = uploaded_message(state, conv, client_id)
        if retried is not None:
            return retried
        refusal = visitor_may_send(state, conv)  # consent and rate limits, as for text
        if refusal is not None:
            return refusal
        attachment = attachments.do_store_upload(
            state, conv, uploaded_by="visitor", filename=filename, stream=stream
        )
        message, created = messages.do_send_customer_message(
            state, conv, _form_text("body"), client_id, attachments=[attachment]
        )
        answer = sent(state, message, created)
    return answer


@cors_api
def widget_download(public_id: str) -> Any:
    state = get_state()
    conv, _origin = visitor_conversation(state)
    attachment = attachments.find(state, public_id)
    # Another conversation's file looks exactly like a missing one.
    if attachment is None or attachment.conversation_id != conv.id or _is_note(state, attachment):
        return json_error(404, "No such file.")
    return _file_response(state, attachment, request.args.get("thumb") == "1")


def _is_note(state: ChatsState, attachment: Attachment) -> bool:
    message = state.session.get(Message, attachment.message_id) if attachment.message_id else None
    return message is None or message.kind == MessageKind.NOTE


ROUTES: list[Route] = [
    ("/console/api/conversations/<int:conversation_id>/attachments", console_upload, ["POST"]),
    ("/console/files/<public_id>", console_download, ["GET"]),
    ("/console/api/storage", storage_usage, ["GET"]),
    ("/files/p/<public_id>/<int:expires>/<sig>", platform_download, ["GET"]),
    ("/widget/api/attachments", widget_upload, ["POST"]),
    ("/widget/api/files/<public_id>", widget_download, ["GET"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_files", __name__)
    bp.before_request(preflight_hook("/widget/api/", "GET, POST, OPTIONS"))
    add_routes(bp, ROUTES)
    return bp
