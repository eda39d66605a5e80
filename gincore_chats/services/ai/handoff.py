"""Handing a conversation to people: explicit, visible, and never to nobody.

The customer gets a system message in their language: "connecting you with a person" when a
manager of the source is online, otherwise the widget's business-hours text (so nobody waits
for an answer that will not come soon). In messenger conversations the notice is sent through
the platform. Managers get the staff ``ai.state`` event (the console's badge), the list update,
the browser push and the unread-message emails, which stayed quiet while the assistant answered.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ...babel import _
from ...models import AIStatus, Conversation, Message, MessageKind, utcnow
from ...state import ChatsState
from ..channels.outbound import queue_send
from ..conversations.lifecycle import touch
from ..conversations.message_events import publish_message_created
from ..managers import presence
from ..notifications import unread_alerts, web_push
from ..notifications.alert_emails import language
from ..widget import texts as widget_texts
from . import assistant_state

SYSTEM_CODE = "ai_handoff"

#: Why a conversation was handed off (``ai.state`` events, the call log, ``system_data``).
ASKED = "customer_asked"
NO_ANSWER = "no_answer"
TOO_MANY_TURNS = "too_many_turns"
PROVIDER_FAILED = "provider_failed"
PROVIDER_UNAVAILABLE = "provider_unavailable"  # the circuit breaker is open
DAILY_LIMIT = "daily_limit"
MODEL_DECIDED = "model_decided"


def customer_language(state: ChatsState, conv: Conversation) -> str:
    return widget_texts.choose_language(state, conv.source, [conv.language or "en"])


def notice_text(state: ChatsState, conv: Conversation, someone_online: bool) -> str:
    tag = customer_language(state, conv)
    if someone_online:
        with language(tag):
            return _("I am connecting you with a person from our team; they will answer here.")
    return widget_texts.texts_for(state, conv.source, tag)["business_hours"]


def last_customer_message(state: ChatsState, conv: Conversation) -> Message | None:
    return state.session.scalar(
        select(Message)
        .where(Message.conversation_id == conv.id, Message.kind == MessageKind.CUSTOMER)
        .order_by(Message.id.desc())
        .limit(1)
    )


def do_hand_off(
    state: ChatsState, conv: Conversation, reason: str, *, keep_assistant: bool = False
) -> Message:
    """Post the notice, mark the conversation for managers, and (unless ``keep_assistant``:
    AI-only mode, where there is no hand-off) stop the assistant."""
    online = bool(presence.online_for_source(state, conv.source))
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.SYSTEM,
        body=notice_text(state, conv, online),
        system_code=SYSTEM_CODE,
        # to_customer: a messenger customer gets this notice through the platform too.
        system_data={"reason": reason, "someone_online": online, "to_customer": True},
        created_at=utcnow(),
    )
    state.session.add(message)
    state.session.flush()
    touch(conv, None)
    publish_message_created(state, conv, message)
    queue_send(state, conv, message)
    if keep_assistant:
        assistant_state.do_set(state, conv, AIStatus.ACTIVE, reason, attention=True)
    else:
        assistant_state.do_set(state, conv, AIStatus.HANDED_OFF, reason, attention=True)
    asked = last_customer_message(state, conv)
    unread_alerts.after_customer_message(state, conv)
    if asked is not None:
        web_push.after_customer_message(state, conv, asked)
    return message


def last_notice_id(state: ChatsState, conv: Conversation) -> int:
    """The id of the conversation's latest hand-off notice (0 if none): a turn after a hand
    back answers only what the customer wrote since, not the request that was handed off."""
    found = state.session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conv.id, Message.system_code == SYSTEM_CODE
        )
    )
    return int(found or 0)
