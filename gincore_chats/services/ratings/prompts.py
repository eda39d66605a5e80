"""The rating prompt on messenger platforms, and the answer to a pressed rating button.

Both are calls to the platform, so both run in RQ jobs, after the commit that asked for them:
read what to send, commit, call (no transaction stays open during the call).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ...channels.base import ChannelError, InboundButtonPress, OutboundMessage
from ...channels.registry import get_adapter
from ...models import Contact, Conversation, Source, utcnow
from ...models.rating import SCORES
from ...queue import enqueue
from ...state import ChatsState
from ..channels.sources import read_credentials
from ..unit_of_work import after_commit, unit_of_work
from ..widget import texts as widget_texts
from . import scores

log = logging.getLogger(__name__)

ANSWER_JOB = "gincore_chats.jobs.ratings.answer_button"


def prompt_for(state: ChatsState, conv: Conversation) -> OutboundMessage:
    """The prompt in the customer's language (the admin's wording where they changed it)."""
    texts = widget_texts.texts_for(state, conv.source, conv.language or "en")
    kind = conv.source.kind
    buttons: tuple[tuple[str, str], ...] = ()
    text = texts["rate_prompt"]
    if kind in scores.BUTTON_KINDS:
        buttons = tuple(("⭐" * n, f"{scores.BUTTON_PREFIX}{n}") for n in SCORES)
    else:
        text = f"{text}\n{texts['rate_numbers']}"
    return OutboundMessage(
        recipient_id=conv.contact.external_id or "",
        text=text,
        buttons=buttons,
        idempotency_key=f"gincore-rating-{conv.id}-{int(utcnow().timestamp())}",
        metadata={"source_id": conv.source_id, "conversation_id": conv.id, "rating": True},
    )


def send_prompt(state: ChatsState, conversation_id: int) -> str:
    """The job's work: send the prompt if the rating is still pending."""
    with unit_of_work(state.session):
        conv = state.session.get(Conversation, conversation_id)
        if conv is None or scores.pending_rating(state, conv) is None:
            return "not pending"
        adapter = get_adapter(conv.source.kind)
        if adapter is None or not conv.contact.external_id:
            return "no adapter or recipient"
        credentials = read_credentials(state, conv.source)
        outbound = prompt_for(state, conv)
    try:
        adapter.send(state.config.channels, credentials, outbound)
    except ChannelError as exc:
        # A prompt is a courtesy: it is not retried like a reply (the customer may have left).
        log.info("gincore_chats: rating prompt for %s not sent: %s", conversation_id, exc)
        return f"not sent: {exc}"
    return "sent"


def _conversation_of(
    state: ChatsState, source: Source, press: InboundButtonPress
) -> Conversation | None:
    contact = state.session.scalar(
        select(Contact).where(
            Contact.source_id == source.id, Contact.external_id == press.sender.id
        )
    )
    if contact is None:
        return None
    return state.session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def do_apply_button(state: ChatsState, source: Source, press: InboundButtonPress) -> str:
    """A pressed rating button (in the inbound job's transaction); the answer goes after commit."""
    score = scores.score_of_button(press.data)
    conv = _conversation_of(state, source, press) if score is not None else None
    rated = conv is not None and scores.pending_rating(state, conv) is not None
    if rated:
        assert conv is not None
        scores.do_rate(state, conv, score)
    language = conv.language if conv is not None else None
    texts = widget_texts.texts_for(state, source, language or "en")
    answer = texts["rate_thanks"] if rated else texts["rate_expired"]
    source_id, callback_id = source.id, press.callback_id
    after_commit(state.session, lambda: enqueue(state, ANSWER_JOB, source_id, callback_id, answer))
    return "rating" if rated else "button:ignored"


def answer_button(state: ChatsState, source_id: int, callback_id: str, text: str) -> str:
    with unit_of_work(state.session):
        source = state.session.get(Source, source_id)
        adapter = get_adapter(source.kind) if source is not None else None
        answer = getattr(adapter, "answer_button", None)
        if source is None or answer is None:
            return "no adapter"
        credentials = read_credentials(state, source)
    try:
        answer(state.config.channels, credentials, callback_id, text)
    except ChannelError as exc:
        # Telegram refuses answers to queries older than a few minutes; the score is kept.
        return f"not answered: {exc}"
    return "answered"
