"""The visitor's side: the loader script, a CORS JSON API and a WebSocket.

Every request is checked against the source's allowed domains by the page's origin
(``visitor_auth``: the ``Origin`` header, else same-origin Fetch Metadata or the ``Referer``); there
are no cookies (the visitor's credential is a bearer token bound to one conversation), so CORS
responses never allow credentials and CSRF does not apply.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Blueprint, jsonify, request, send_from_directory
from flask_babel import force_locale
from flask_sock import Sock

from .. import metrics, rate_limit
from ..babel import _
from ..json_input import decode
from ..models import Conversation, Source
from ..permissions import PermissionDenied
from ..realtime.hub import VISITOR, Subscriber
from ..realtime.session import close_socket, run_socket
from ..services.contacts import customers as contacts
from ..services.conversations import lifecycle as conversations
from ..services.conversations import messages, read_state, typing_status
from ..services.conversations.events import events_after
from ..services.conversations.message_events import message_wire
from ..services.conversations.replay import sync_reply
from ..services.knowledge.settings import widget_enabled as kb_suggestions_enabled
from ..services.managers import presence
from ..services.sources import get_by_key
from ..services.unit_of_work import unit_of_work
from ..services.widget import consent as widget_consent
from ..services.widget import texts as widget_texts
from ..services.widget import visitor_context
from ..state import ChatsState, get_state
from . import visitor_auth
from .common import Route, add_routes, client_ip, json_error
from .guards import cors_api, json_object
from .visitor_auth import check_origin, preflight_hook

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "gincore_chats")


def visitor_locale(language: str | None) -> Any:
    """Translate into the visitor's widget language, not the host request's locale."""
    tag = language if language in widget_texts.catalog_languages() else "en"
    return force_locale(str(tag).replace("-", "_"))


def visitor_may_send(state: ChatsState, conv: Conversation) -> Any:
    """None, or the answer refusing a new visitor message (text or file): consent, rate limit."""
    if widget_consent.consent_required(conv.source) and conv.contact.consent_at is None:
        texts = widget_texts.texts_for(state, conv.source, conv.language or "en")
        return json_error(400, texts["consent_required"], code="consent_required")
    with visitor_locale(conv.language):
        too_fast = _("You are sending messages too fast. Please wait a moment.")
    ip = client_ip(state) or "-"
    rate_limit.hit(state, "msg", ip, state.config.rate_limit_messages, too_fast)
    return None


def managers_public(state: ChatsState, source: Source) -> list[dict[str, Any]]:
    return [
        {"name": p.display_name, "avatar_url": p.avatar_url}
        for p in presence.online_for_source(state, source)
    ]


def conversation_payload(state: ChatsState, conv: Conversation) -> dict[str, Any]:
    rows = conversations.history(state, conv, staff=False)
    source = conv.source
    language = conv.language or "en"
    return {
        "conversation_id": conv.id,
        "status": conv.status,
        "last_seq": conv.last_seq,
        "messages": [message_wire(m) for m in rows],
        "managers": managers_public(state, source),
        "contact": {
            "name": conv.contact.name,
            "email": conv.contact.email,
            "consent": conv.contact.consent_at is not None,
        },
        # On plans without the live preview the widget must not send unsent text at all.
        "typing_preview": typing_status.preview_enabled(state, source),
        "language": language,
        "texts": widget_texts.texts_for(state, source, language),
        # The widget asks for answer suggestions while the visitor types only when on.
        "kb_suggestions": kb_suggestions_enabled(source),
        "consent": widget_consent.consent_options(source),
        # The furthest any manager has read: the visitor's messages up to it show "seen".
        "team_read_upto": conv.staff_last_read_message_id,
    }


def loader() -> Any:
    response = send_from_directory(STATIC, "widget-loader.js", max_age=300)
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    return response


def widget_asset(name: str) -> Any:
    response = send_from_directory(STATIC, f"widget-{name}", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def reported_languages(reported: dict[str, Any]) -> list[str]:
    """The browser's languages from the context the widget reported, best first."""
    preferred = reported.get("languages")
    if not isinstance(preferred, list):
        preferred = [reported.get("language")] if isinstance(reported.get("language"), str) else []
    return [str(p) for p in preferred[:10]]


@cors_api
@json_object
def open_conversation(data: dict[str, Any]) -> Any:
    state = get_state()
    source = get_by_key(state, str(data.get("key", "")))
    if source is None:
        return json_error(404, "Unknown widget key; copy the snippet again from the chat settings.")
    check_origin(source)
    raw_context = data.get("context")
    reported: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    language = widget_texts.choose_language(state, source, reported_languages(reported))
    with visitor_locale(language):
        too_many = _("Too many new chats from your network. Please try again later.")
    rate_limit.hit(
        state, "conv", client_ip(state) or "-", state.config.rate_limit_conversations, too_many
    )
    with unit_of_work(state.session):
        contact = contacts.do_create_visitor_contact(state, source)
        conv = conversations.do_open_conversation(state, source, contact, language)
        visitor_context.do_record_context(
            state,
            conv,
            reported,
            ip=client_ip(state),
            user_agent=request.headers.get("User-Agent"),
        )
    payload = conversation_payload(state, conv)
    payload["token"] = conversations.visitor_token(state, conv)
    return jsonify(payload), 201


@cors_api
def get_conversation() -> Any:
    state = get_state()
    conv, _origin = visitor_auth.visitor_conversation(state)
    return jsonify(conversation_payload(state, conv))


@cors_api
@json_object
def send_message(data: dict[str, Any]) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        client_id = data.get("client_id")
        # Only new messages from a known visitor count: a retry of a sent message is free.
        if not isinstance(client_id, str) or not messages.find_by_client_id(state, conv, client_id):
            refusal = visitor_may_send(state, conv)
            if refusal is not None:
                return refusal
        message, created = messages.do_send_customer_message(
            state, conv, data.get("body"), data.get("client_id")
        )
        # Serialised before commit: afterwards the expired row would be loaded again.
        wire = message_wire(message)
    return jsonify(message=wire, created=created), 201 if created else 200


@cors_api
@json_object
def update_contact(data: dict[str, Any]) -> Any:
    state = get_state()
    fields: dict[str, Any] = {k: data[k] for k in ("name", "email") if k in data}
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        contact = contacts.do_update_contact(state, conv, fields)
        if data.get("consent") is True:
            # The exact text shown to this visitor (their language, the admin's wording).
            shown = widget_texts.texts_for(state, conv.source, conv.language or "en")["consent"]
            contacts.do_record_consent(state, conv, shown)
    return jsonify(
        contact={
            "name": contact.name,
            "email": contact.email,
            "consent": contact.consent_at is not None,
        }
    )


@cors_api
@json_object
def update_context(data: dict[str, Any]) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        visitor_context.do_record_context(
            state, conv, data, ip=client_ip(state), user_agent=request.headers.get("User-Agent")
        )
    return jsonify(ok=True)


@cors_api
@json_object
def seen(data: dict[str, Any]) -> Any:
    # The newest message the widget has shown the visitor: replies up to it are not mailed.
    state = get_state()
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        last = read_state.do_mark_customer_read(state, conv, data.get("message_id"))
    return jsonify(last_read_message_id=last)


@cors_api
def replay() -> Any:
    state = get_state()
    conv, _origin = visitor_auth.visitor_conversation(state)
    upto = conv.last_seq
    events = events_after(state, conv.id, request.args.get("after", 0, type=int), staff=False)
    more = len(events) >= state.config.replay_limit
    return jsonify(events=events, upto=events[-1]["seq"] if more else upto, more=more)


def widget_socket(ws: Any) -> None:
    state = get_state()
    # Browsers cannot set headers on a WebSocket, and a token in the URL ends up in logs:
    # the first frame carries it.
    try:
        first = decode(ws.receive(timeout=10) or "null")
        token = (
            first.get("token") if isinstance(first, dict) and first.get("op") == "auth" else None
        )
        conv = conversations.access_by_visitor_token(state, token)
        check_origin(conv.source)
    except (PermissionDenied, ValueError) as exc:
        ws.send(json.dumps({"type": "error", "message": str(exc) or "Send {op: auth} first."}))
        close_socket(ws, 1008, "Not allowed")
        return
    finally:
        state.db.session.remove()
    conversation_id = conv.id
    sub = Subscriber(send_text=ws.send, audience=VISITOR, conversations={conversation_id})

    def handle(msg: dict[str, Any]) -> dict[str, Any] | None:
        if msg["op"] == "sync":
            return sync_reply(state, sub, conversation_id, msg.get("after"), staff=False)
        if msg["op"] == "typing":
            typing_status.publish_visitor_typing(
                state,
                conversations.access_by_visitor_token(state, token),
                bool(msg.get("active")),
                msg.get("text"),
            )
            return None
        return {"type": "error", "message": f"Unknown op {msg['op']!r}."}

    with metrics.open_socket(state, "visitor"):
        run_socket(
            ws, state, sub, handle, hello={"type": "hello", "conversation_id": conversation_id}
        )


API = "/widget/api"
ROUTES: list[Route] = [
    ("/widget.js", loader, ["GET"]),
    ("/widget/<any('app.js', 'app.css'):name>", widget_asset, ["GET"]),
    (f"{API}/conversations", open_conversation, ["POST"]),
    (f"{API}/conversation", get_conversation, ["GET"]),
    (f"{API}/messages", send_message, ["POST"]),
    (f"{API}/contact", update_contact, ["PATCH"]),
    (f"{API}/context", update_context, ["POST"]),
    (f"{API}/seen", seen, ["POST"]),
    (f"{API}/events", replay, ["GET"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_widget", __name__)
    bp.before_request(preflight_hook(f"{API}/", "GET, POST, PATCH, OPTIONS"))
    add_routes(bp, ROUTES)
    Sock().route("/widget/ws", bp=bp)(widget_socket)
    return bp
