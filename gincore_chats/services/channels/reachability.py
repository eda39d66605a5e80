"""Whether replies can reach a messenger customer at all.

A customer who blocked the bot (Telegram ``my_chat_member`` ``kicked``, a 403 "bot was blocked
by the user"), unsubscribed (Viber ``unsubscribed``, status 6) or blocked the Page (Meta 551)
is marked unreachable: every conversation shows it, and replies are failed with that reason
instead of being sent (:mod:`.outbound`). The mark clears when the customer comes back
(``member`` again, ``subscribed``, or any message from them). Changes carry the platform's time;
one older than the last applied (a late retry, two workers out of order) changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ...channels.base import ReachabilityChange
from ...models import Contact, Conversation, Source, Visibility, utcnow
from ...serialize import unreachable_dict
from ...state import ChatsState
from ..contacts.customers import find_channel_contact
from ..conversations.events import append_event, publish_inbox_update

#: How a reply to an unreachable customer fails; ``{reason}`` is why they are unreachable.
NOT_SENT = "Not sent: {reason} Replies go out again once the customer writes to you."
#: Conversations of one contact told about a change (channel customers reuse their latest).
ANNOUNCE_LIMIT = 20


def not_sent_reason(contact: Contact) -> str:
    reason = contact.unreachable_reason or "The customer cannot receive messages right now."
    return NOT_SENT.format(reason=reason)


def do_set_reachability(
    state: ChatsState,
    contact: Contact,
    reachable: bool,
    reason: str | None = None,
    at: datetime | None = None,
) -> str:
    """Apply one change; returns ``changed``, ``unchanged`` or ``stale`` (older than the last)."""
    session = state.session
    # The row lock orders concurrent changes; the refresh reads what the winner wrote.
    session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update())
    session.refresh(contact, ["unreachable_at", "unreachable_reason", "reachability_changed_at"])
    at = at or utcnow()
    last = contact.reachability_changed_at
    if last is not None and at < last:
        return "stale"
    contact.reachability_changed_at = at
    if reachable:
        if contact.unreachable_at is None:
            return "unchanged"
        contact.unreachable_at = None
        contact.unreachable_reason = None
    else:
        reason = reason or "The customer cannot receive messages right now."
        if contact.unreachable_at is not None and contact.unreachable_reason == reason:
            return "unchanged"
        contact.unreachable_at = at
        contact.unreachable_reason = reason
    _announce(state, contact)
    return "changed"


def _announce(state: ChatsState, contact: Contact) -> None:
    convs = state.session.scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact.id)
        .order_by(Conversation.id.desc())
        .limit(ANNOUNCE_LIMIT)
    )
    payload = {"unreachable": unreachable_dict(contact)}
    for conv in convs:
        # Staff only: the customer is told nothing (and could not be, by definition).
        append_event(state, conv, "contact.reachability", payload, Visibility.STAFF)
        publish_inbox_update(state, conv)


def do_apply_reachability(state: ChatsState, source: Source, change: ReachabilityChange) -> str:
    """A change from a webhook; the answer labels the outcome for the event's summary."""
    contact = find_channel_contact(state, source.id, change.user_id)
    if contact is None:
        # A new user starting the bot: their first message creates the contact.
        return "reachability:unknown-customer"
    outcome = do_set_reachability(state, contact, change.reachable, change.reason, change.at)
    what = "reachable" if change.reachable else "unreachable"
    return f"{what}:{outcome}" if outcome != "changed" else what


def do_customer_wrote(state: ChatsState, contact: Contact, at: datetime | None) -> None:
    """A message from the customer: they can be reached again (no write when they could)."""
    if contact.unreachable_at is not None:
        do_set_reachability(state, contact, True, at=at)
