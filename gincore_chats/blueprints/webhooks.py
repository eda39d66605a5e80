"""Inbound webhooks: ``<prefix>/webhooks/<public key>``, one URL per channel source.

A POST is authenticated by the source's adapter over the **raw** body (Telegram's secret
header, Meta's ``X-Hub-Signature-256``, Viber's ``X-Viber-Content-Signature``, the generic
source's HMAC or bearer token) before anything is parsed; a refused request gets 403 and leaves
no trace. An accepted one is stored as an ``InboundEvent`` and answered 200 at once; an RQ job
does the work (platforms retry slow or failed deliveries, Messenger gives up after 20 s).
A GET answers Meta's verification handshake.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .. import metrics
from ..channels.base import Channel, HeaderDict
from ..channels.registry import get_adapter
from ..json_input import JsonInputError
from ..models import Source, SourceKind
from ..services import sources
from ..services.channels.inbound import do_store_event
from ..services.secrets import SecretUnreadable, decrypt
from ..services.unit_of_work import unit_of_work
from ..state import ChatsState, get_state
from .common import client_ip, json_error
from .json_request import check_content_type, object_from, read_raw

log = logging.getLogger(__name__)


def channel_source(
    state: ChatsState, public_key: str
) -> tuple[Source, Channel, dict[str, Any]] | Response:
    """The source, its adapter and credentials; or the answer refusing the request."""
    source = sources.get_by_key(state, public_key)
    adapter = (
        get_adapter(source.kind)
        if source is not None and source.kind != SourceKind.WIDGET
        else None
    )
    if source is None or adapter is None:
        return json_error(404, "No such webhook.")
    if not source.active:
        return json_error(403, "This source is switched off.")
    try:
        credentials = decrypt(state, source.credentials_encrypted)
    except SecretUnreadable:
        # Not the sender's fault: ask the platform to try again while an admin re-enters them.
        log.error("gincore_chats: credentials of source %s cannot be decrypted", source.id)
        return json_error(503, "This source is not configured.")
    return source, adapter, credentials


def refused_body(state: ChatsState, adapter: Channel, body: bytes) -> Response | None:
    """None, or why this signed body can never be processed."""
    try:
        # Every platform posts a JSON object; a delivery that is not one can never be
        # processed, so the sender hears it now instead of the event failing later. A
        # missing Content-Type is tolerated: the signature already vouches for the sender.
        check_content_type(required=False)
        object_from(body)
    except JsonInputError as exc:
        return json_error(exc.status, str(exc), code=exc.code)  # type: ignore[no-any-return]
    validate = getattr(adapter, "validate_body", None)
    if validate is not None:
        # The generic API's caller waits for the answer: tell it what is wrong now.
        try:
            validate(body)
        except ValueError as exc:
            return json_error(400, str(exc))  # type: ignore[no-any-return]
    return None


def receive(public_key: str) -> Any:
    state = get_state()
    found = channel_source(state, public_key)
    if isinstance(found, Response):
        return found
    source, adapter, credentials = found
    with metrics.webhook_ack(state, source.kind):
        return _accept(state, source, adapter, credentials)


def _accept(
    state: ChatsState, source: Source, adapter: Channel, credentials: dict[str, Any]
) -> Any:
    try:
        body = read_raw(state.config.webhook_max_body)
    except JsonInputError as exc:
        return json_error(exc.status, str(exc), code=exc.code)
    headers = HeaderDict(request.headers.items())
    if not adapter.verify(credentials, headers, body):
        return json_error(403, "Invalid signature.")
    refusal = refused_body(state, adapter, body)
    if refusal is not None:
        return refusal
    headers["x-remote-addr"] = client_ip(state) or ""
    with unit_of_work(state.session):
        event_id, _ = do_store_event(state, source, headers, body)
    return jsonify(ok=True, event_id=event_id)


def handshake(public_key: str) -> Any:
    found = channel_source(get_state(), public_key)
    if isinstance(found, Response):
        return found
    _, adapter, credentials = found
    answer = adapter.handshake(credentials, request.args.to_dict())
    if answer is None:
        return json_error(403, "Verification failed.")
    return Response(answer, status=200, mimetype="text/plain")


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_webhooks", __name__)
    bp.add_url_rule("/webhooks/<public_key>", view_func=receive, methods=["POST"])
    bp.add_url_rule("/webhooks/<public_key>", view_func=handshake, methods=["GET"])
    return bp
