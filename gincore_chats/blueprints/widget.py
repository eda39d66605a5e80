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

from babel import Locale, UnknownLocaleError
from flask import Blueprint, jsonify, request, send_from_directory
from flask_babel import force_locale
from flask_sock import Sock

from .. import metrics, rate_limit
from ..babel import _
from ..json_input import decode
from ..models import Conversation, Message, Source, VisitorContext
from ..permissions import PermissionDenied
from ..realtime.hub import VISITOR, Subscriber
from ..realtime.session import close_socket, run_socket
from ..services.contacts import customers as contacts
from ..services.contacts import host_identity
from ..services.contacts.merges import suggest_for_email
from ..services.conversations import lifecycle as conversations
from ..services.conversations import messages, read_state, typing_status
from ..services.conversations.events import events_after
from ..services.conversations.message_events import message_wire
from ..services.conversations.replay import sync_reply
from ..services.hours import status as hours_status
from ..services.knowledge.settings import widget_enabled as kb_suggestions_enabled
from ..services.managers import presence
from ..services.ratings import scores as rating_scores
from ..services.ratings import transcript
from ..services.sources import get_by_key
from ..services.unit_of_work import unit_of_work
from ..services.widget import consent as widget_consent
from ..services.widget import texts as widget_texts
from ..services.widget import visitor_context
from ..state import ChatsState, get_state
from . import visitor_auth
from .common import Route, add_routes, client_ip, json_error, message_answer
from .guards import cors_api, json_object
from .visitor_auth import check_origin, preflight_hook

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "gincore_chats")


def visitor_language(language: str | None) -> str:
    """The visitor's widget language if the catalogs have it, else English."""
    return str(language) if language in widget_texts.catalog_languages() else "en"


def visitor_locale(language: str | None) -> Any:
    """Translate into the visitor's widget language, not the host request's locale."""
    return force_locale(visitor_language(language).replace("-", "_"))


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


def refund_send(state: ChatsState) -> None:
    """A counted send was a retry of a stored message: it costs the visitor nothing."""
    rate_limit.refund(state, "msg", client_ip(state) or "-", state.config.rate_limit_messages)


def managers_public(state: ChatsState, source: Source) -> list[dict[str, Any]]:
    return [
        {"name": p.display_name, "avatar_url": p.avatar_url}
        for p in presence.online_for_source(state, source)
    ]


def clock_language(language: str, context: VisitorContext | None) -> str:
    """The browser's own tag when it is a variant of the widget's language (en-GB writes
    09:00, en-US 9:00 AM); otherwise the widget's language."""
    browser = (context.language if context is not None else None) or ""
    if browser.lower().split("-")[0] == language.split("-")[0] and len(browser) <= 35:
        try:
            Locale.parse(browser.replace("-", "_"))
            return browser
        except (ValueError, UnknownLocaleError):
            pass
    return language


def hours_payload(state: ChatsState, conv: Conversation) -> dict[str, Any] | None:
    """Business hours as the widget needs them; None when the source has none."""
    now = hours_status.now()
    found = hours_status.status_of(conv.source, now)
    if found is None:
        return None
    text = None
    if found.back_at is not None:
        context = state.session.get(VisitorContext, conv.id)
        with visitor_locale(conv.language):
            text = hours_status.back_text(
                conv.source,
                found.back_at,
                now,
                language=clock_language(visitor_language(conv.language), context),
                offset_minutes=context.tz_offset_minutes if context is not None else None,
            )
    return {
        "open": found.open,
        "offline_outside": found.offline_outside,
        "back_at": found.back_at.isoformat() if found.back_at else None,
        "back_text": text,
    }


def conversation_payload(state: ChatsState, conv: Conversation) -> dict[str, Any]:
    rows = conversations.history(state, conv, staff=False)
    source = conv.source
    language = conv.language or "en"
    hours = hours_payload(state, conv)
    # Outside hours the widget reads as away, even while someone is online (a switch).
    away = hours is not None and not hours["open"] and hours["offline_outside"]
    return {
        "conversation_id": conv.id,
        "status": conv.status,
        "last_seq": conv.last_seq,
        "messages": [message_wire(m) for m in rows],
        "managers": [] if away else managers_public(state, source),
        "hours": hours,
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
        # Closed: the rating asked for (pending) or given, and the transcript offer.
        "rating": rating_scores.rating_dict(rating_scores.rating_of(state, conv))
        if conv.status == "closed"
        else None,
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
    verified, refused = checked_identity(state, source, data)
    with unit_of_work(state.session):
        if verified is not None:
            contact, _created = host_identity.do_link_contact(
                state, verified.user_id, verified.fields, verified.attributes, source
            )
        else:
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
    if "identity" in data:
        payload["identity"] = host_identity.answer(verified, refused)
    return jsonify(payload), 201


def checked_identity(
    state: ChatsState, source: Source, data: dict[str, Any]
) -> tuple[host_identity.VerifiedIdentity | None, host_identity.IdentityError | None]:
    """The host's signed identity, or why it was refused: the visitor then stays anonymous
    (the chat still opens; nothing they write is lost)."""
    if "identity" not in data or data["identity"] is None:
        return None, None
    try:
        return host_identity.verify(state, source, data["identity"]), None
    except host_identity.IdentityError as exc:
        return None, exc


@cors_api
@json_object
def claim_identity(data: dict[str, Any]) -> Any:
    """The host's signed identity for the conversation this browser already has."""
    state = get_state()
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        verified, refused = checked_identity(state, conv.source, {"identity": data})
        if verified is None:
            refusal = host_identity.answer(None, refused)
            return json_error(400, refusal["error"], code=refusal["code"], identity=refusal)
        outcome = host_identity.do_claim(state, conv, verified)
    status = 409 if outcome == "other_user" else 200
    return jsonify(identity={**host_identity.answer(verified, None), "outcome": outcome}), status


@cors_api
def get_conversation() -> Any:
    state = get_state()
    conv, _origin = visitor_auth.visitor_conversation(state)
    return jsonify(conversation_payload(state, conv))


def _retried(state: ChatsState, conv: Conversation, client_id: Any) -> Message | None:
    return (
        messages.find_by_client_id(state, conv, client_id) if isinstance(client_id, str) else None
    )


@cors_api
@json_object
def send_message(data: dict[str, Any]) -> Any:
    state = get_state()
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        client_id = data.get("client_id")
        # Only new messages from a known visitor count: a retry of a sent message is free.
        # Retries are rare, so the limit counts first; a refused send that turns out to be a
        # retry answers with the original, and a retry the insert finds gives its count back.
        try:
            refusal = visitor_may_send(state, conv)
        except rate_limit.RateLimited:
            original = _retried(state, conv, client_id)
            if original is None:
                raise
            return jsonify(message=message_wire(original), created=False), 200
        if refusal is not None:
            original = _retried(state, conv, client_id)
            if original is None:
                return refusal
            return jsonify(message=message_wire(original), created=False), 200
        message, created = messages.do_send_customer_message(
            state, conv, data.get("body"), client_id
        )
        if not created:
            refund_send(state)
        answer = message_answer(message, created)
    return answer


@cors_api
@json_object
def update_contact(data: dict[str, Any]) -> Any:
    state = get_state()
    fields: dict[str, Any] = {k: data[k] for k in ("name", "email") if k in data}
    with unit_of_work(state.session):
        conv, _origin = visitor_auth.visitor_conversation(state)
        contact = contacts.do_update_contact(state, conv, fields, unsigned=True)
        if "email" in fields:
            suggest_for_email(state, contact)
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
@json_object
def rate(data: dict[str, Any]) -> Any:
    state = get_state()
    try:
        with unit_of_work(state.session):
            conv, _origin = visitor_auth.visitor_conversation(state)
            language = conv.language
            rating = rating_scores.do_rate(state, conv, data.get("score"), data.get("comment"))
            wire = rating_scores.rating_dict(rating)
    except rating_scores.RatingError as exc:
        with visitor_locale(language):
            return json_error(400, _(str(exc)))
    return jsonify(rating=wire)


@cors_api
@json_object
def request_transcript(data: dict[str, Any]) -> Any:
    state = get_state()
    conv, _origin = visitor_auth.visitor_conversation(state)
    language = conv.language
    with visitor_locale(language):
        too_many = _("Too many emails requested. Please try again later.")
    rate_limit.hit(
        state,
        "transcript",
        client_ip(state) or "-",
        state.config.rate_limit_conversations,
        too_many,
    )
    try:
        with unit_of_work(state.session):
            conv, _origin = visitor_auth.visitor_conversation(state)
            transcript.do_request_transcript(state, conv)
    except rating_scores.RatingError as exc:
        with visitor_locale(language):
            return json_error(400, _(str(exc)))
    return jsonify(ok=True), 202


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
    (f"{API}/identity", claim_identity, ["POST"]),
    (f"{API}/context", update_context, ["POST"]),
    (f"{API}/seen", seen, ["POST"]),
    (f"{API}/events", replay, ["GET"]),
    (f"{API}/rating", rate, ["POST"]),
    (f"{API}/transcript", request_transcript, ["POST"]),
]


def create_blueprint(state: ChatsState) -> Blueprint:
    bp = Blueprint("gincore_chats_widget", __name__)
    bp.before_request(preflight_hook(f"{API}/", "GET, POST, PATCH, OPTIONS"))
    add_routes(bp, ROUTES)
    Sock().route("/widget/ws", bp=bp)(widget_socket)
    return bp
