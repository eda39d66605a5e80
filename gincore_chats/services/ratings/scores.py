"""Ratings: asked for when a conversation closes, given in the widget or on the platform.

A closed conversation gets a pending :class:`~gincore_chats.models.Rating` (``score`` None).
The widget shows 1-5 buttons; Telegram gets an inline keyboard (services.ratings.prompts);
WhatsApp, Messenger, Viber and Instagram a numbered prompt whose "1".."5" reply is the score,
taken only while the rating is pending (any other reply reopens the conversation, as before).
A customer who writes again reopens the conversation: a system message says so, and a
pending request is dropped.
"""

from __future__ import annotations

from typing import Any

from ...babel import N_
from ...models import (
    Conversation,
    ConversationStatus,
    MessageKind,
    Rating,
    SourceKind,
    utcnow,
)
from ...models.rating import MAX_COMMENT, SCORES
from ...queue import enqueue
from ...state import ChatsState
from ..conversations.events import append_event
from ..conversations.messages import add_system_message
from ..errors import MessageError
from ..hooks import conversation_closed, event_appended
from ..unit_of_work import after_commit

#: Platforms with buttons under a message: the prompt carries one per score.
BUTTON_KINDS = frozenset({SourceKind.TELEGRAM})
#: Platforms without them: the prompt asks for a number, and the reply is the score.
NUMBERED_KINDS = frozenset(
    {SourceKind.WHATSAPP, SourceKind.MESSENGER, SourceKind.VIBER, SourceKind.INSTAGRAM}
)
PROMPT_JOB = "gincore_chats.jobs.ratings.send_prompt"
#: A Telegram button's value: ``rate:<score>``.
BUTTON_PREFIX = "rate:"


class RatingError(MessageError):
    """Bad rating input; the message is shown to the customer."""


def clean_score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RatingError(N_("The rating must be a number from 1 to 5."))
    try:
        score = int(str(value).strip())
    except ValueError:
        raise RatingError(N_("The rating must be a number from 1 to 5.")) from None
    if score not in SCORES:
        raise RatingError(N_("The rating must be a number from 1 to 5."))
    return score


def clean_comment(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RatingError(N_("The comment must be text."))
    text = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_COMMENT:
        raise RatingError(N_("The comment is too long (at most 2000 characters)."))
    return text or None


def rating_of(state: ChatsState, conv: Conversation) -> Rating | None:
    return state.session.get(Rating, conv.id)


def pending_rating(state: ChatsState, conv: Conversation) -> Rating | None:
    """The request waiting for a score, only while the conversation is closed."""
    if conv.status != ConversationStatus.CLOSED:
        return None
    rating = rating_of(state, conv)
    return rating if rating is not None and rating.pending else None


def rating_dict(rating: Rating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {
        "score": rating.score,
        "comment": rating.comment,
        "pending": rating.pending,
        "channel": rating.channel,
        "rated_at": rating.rated_at.isoformat() if rating.rated_at else None,
    }


def do_rate(state: ChatsState, conv: Conversation, score: Any, comment: Any = None) -> Rating:
    """The customer's score (and comment) for the closed conversation; a second one replaces."""
    value, text = clean_score(score), clean_comment(comment)
    rating = rating_of(state, conv)
    if conv.status != ConversationStatus.CLOSED or rating is None:
        raise RatingError(N_("This chat is not waiting for a rating."))
    rating.score, rating.comment, rating.rated_at = value, text, utcnow()
    append_event(state, conv, "conversation.rated", {"rating": rating_dict(rating)})
    return rating


def take_numbered_reply(state: ChatsState, conv: Conversation, text: str | None) -> bool:
    """A "1".."5" reply to a pending numbered prompt: stored as the score (True), no message."""
    if conv.source.kind not in NUMBERED_KINDS or not text or text.strip() not in map(str, SCORES):
        return False
    if pending_rating(state, conv) is None:
        return False
    do_rate(state, conv, text.strip())
    return True


def score_of_button(data: str) -> int | None:
    if not data.startswith(BUTTON_PREFIX):
        return None
    try:
        return clean_score(data[len(BUTTON_PREFIX) :])
    except RatingError:
        return None


@conversation_closed.connect
def ask_on_close(state: ChatsState, conversation: Conversation) -> None:
    """A closed conversation the customer wrote in asks for a rating (again, if rated before)."""
    conv = conversation
    if conv.first_customer_message_at is None:
        return  # a visit nobody wrote in has nothing to rate
    rating = rating_of(state, conv)
    if rating is None:
        rating = Rating(conversation_id=conv.id, channel=conv.source.kind)
        state.session.add(rating)
    rating.score = rating.comment = rating.rated_at = None
    rating.requested_at = utcnow()
    state.session.flush()
    append_event(state, conv, "conversation.rating_requested", {"rating": rating_dict(rating)})
    if conv.source.kind in BUTTON_KINDS | NUMBERED_KINDS:
        conversation_id = conv.id
        after_commit(state.session, lambda: enqueue(state, PROMPT_JOB, conversation_id))


def _first_response(conv: Conversation, payload: dict[str, Any]) -> None:
    message = payload.get("message") or {}
    if message.get("kind") == MessageKind.MANAGER and conv.first_response_at is None:
        conv.first_response_at = utcnow()


def _reopened(state: ChatsState, conv: Conversation, payload: dict[str, Any]) -> None:
    rating = rating_of(state, conv)
    if rating is not None and rating.pending:
        state.session.delete(rating)
    if payload.get("by") == "customer":
        add_system_message(state, conv, "reopened", {})


@event_appended.connect
def on_event(
    state: ChatsState,
    conversation: Conversation,
    type_: str,
    payload: dict[str, Any],
    seq: int,
) -> None:
    """First response times and reopening, from the events every change already appends."""
    if type_ == "message.created":
        _first_response(conversation, payload)
    elif type_ == "conversation.status" and payload.get("status") == ConversationStatus.OPEN:
        _reopened(state, conversation, payload)
