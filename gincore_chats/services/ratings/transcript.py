"""The conversation's transcript by email, to the customer, from the corporate mailbox.

Only what the customer saw goes in it: their messages, the replies, the assistant's answers and
system lines; never internal notes, and a deleted message's text never. The HTML template
escapes every text (Jinja autoescape). One email per conversation per :data:`INTERVAL`: the
request claims the slot in its transaction, the RQ job sends after commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import render_template
from sqlalchemy import select

from ...babel import N_, _
from ...models import Conversation, Message, MessageKind, Rating, utcnow
from ...queue import enqueue
from ...state import ChatsState
from ..notifications import alert_emails, mailbox
from ..unit_of_work import after_commit, unit_of_work
from .scores import RatingError

log = logging.getLogger(__name__)

#: One transcript per conversation in this time: the address is the visitor's own, but a
#: button pressed in a loop must not turn the mailbox into a mail cannon.
INTERVAL = timedelta(minutes=10)
JOB = "gincore_chats.jobs.ratings.send_transcript"
#: Most messages put in one email (the newest ones, when there are more).
MAX_MESSAGES = 1000


def do_request_transcript(state: ChatsState, conv: Conversation) -> None:
    """Queue the email to the customer's saved address; RatingError says why not."""
    rating = state.session.get(Rating, conv.id, with_for_update=True)
    if rating is None:
        raise RatingError(N_("The transcript can be sent once the chat is closed."))
    if not conv.contact.email:
        raise RatingError(N_("Enter your email first."))
    now = utcnow()
    if rating.transcript_sent_at is not None and now - rating.transcript_sent_at < INTERVAL:
        raise RatingError(N_("The transcript was sent a moment ago. Please check your inbox."))
    if not mailbox.load(state).usable:
        raise RatingError(N_("Sending emails is not available right now."))
    rating.transcript_sent_at = now
    conversation_id = conv.id
    after_commit(state.session, lambda: enqueue(state, JOB, conversation_id))


def visible_messages(state: ChatsState, conv: Conversation) -> list[Message]:
    rows = state.session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.kind != MessageKind.NOTE,
            Message.deleted_at.is_(None),
        )
        .order_by(Message.id.desc())
        .limit(MAX_MESSAGES)
    ).unique()
    return list(reversed(list(rows)))


def _lines(messages: list[Message]) -> list[dict[str, str]]:
    lines = []
    for m in messages:
        author = m.author_name or ""
        if m.kind == MessageKind.CUSTOMER:
            author = author or _("You")
        files = ", ".join(a.filename for a in m.attachments if a.deleted_at is None)
        body = m.body + (f"\n📎 {files}" if files else "")
        lines.append(
            {"author": author, "body": body, "at": m.created_at.strftime("%Y-%m-%d %H:%M")}
        )
    return lines


def send_transcript(state: ChatsState, conversation_id: int) -> str:
    """The job's work: build the email, commit (release the session), then talk to SMTP."""
    with unit_of_work(state.session):
        conv = state.session.get(Conversation, conversation_id)
        if conv is None or not conv.contact.email:
            return "no conversation or address"
        box = mailbox.load(state)
        if not box.usable:
            return f"not sent: {box.inactive_reason}"
        company = box.from_name or conv.source.name
        with alert_emails.language(conv.language):
            subject = _("Your chat with %(company)s", company=company)
            texts = {
                "intro": _(
                    "Here is the transcript of your chat with %(company)s.", company=company
                ),
                "footer": _("You get this email because you asked for it in our chat."),
            }
            context = {
                "texts": texts,
                "messages": _lines(visible_messages(state, conv)),
                "subject": subject,
                "lang": conv.language or "en",
            }
            text = render_template("gincore_chats/email_transcript.txt", **context)
            html = render_template("gincore_chats/email_transcript.html", **context)
        to = conv.contact.email
    mailbox.send(box, to=[to], subject=subject, text=text, html=html, reply_to=box.from_address)
    return "sent"
