"""The automatic out-of-hours reply of messenger sources: once per conversation per closed
period, to the customer's first message in it, through the normal outbound path (a system
message marked for the customer, sent by the RQ job after commit)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ...models import Conversation, Message, MessageKind, SourceKind, utcnow
from ...state import ChatsState
from .. import hooks
from ..channels.outbound import queue_send
from ..conversations.events import publish_inbox_update
from ..conversations.lifecycle import touch
from ..conversations.message_events import publish_message_created
from . import settings as hours_settings
from . import status as hours_status

SYSTEM_CODE = "out_of_hours"
#: A schedule never open in the past horizon: the period counts from the start of time.
_EVER = datetime(1970, 1, 1, tzinfo=UTC)


def _already_sent(state: ChatsState, conv: Conversation, since: datetime) -> bool:
    # By the period each reply was for (kept in its data), not by its time: a clock moved
    # back, or a reply stored late, must not count for another period.
    sent = state.session.scalars(
        select(Message.system_data).where(
            Message.conversation_id == conv.id, Message.system_code == SYSTEM_CODE
        )
    )
    return any((data or {}).get("closed_since") == since.isoformat() for data in sent)


def do_reply_if_closed(state: ChatsState, conv: Conversation) -> Message | None:
    """Post the reply if the source is closed now and this closed period has none yet."""
    source = conv.source
    if source.kind == SourceKind.WIDGET:
        return None  # the widget shows its away text and the "back at" line instead
    config = hours_settings.of(source)
    if not config.enabled or not config.auto_reply:
        return None
    now = hours_status.now()
    if config.schedule.is_open(now):
        return None
    since = config.schedule.closed_since(now) or _EVER
    if _already_sent(state, conv, since):
        return None
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.SYSTEM,
        body=config.auto_reply,
        system_code=SYSTEM_CODE,
        system_data={"closed_since": since.isoformat(), "to_customer": True},
        created_at=utcnow(),
    )
    state.session.add(message)
    state.session.flush()
    touch(conv, None)
    publish_message_created(state, conv, message)
    publish_inbox_update(state, conv)
    queue_send(state, conv, message)
    return message


@hooks.customer_message.connect
def _customer_message(state: ChatsState, *, conversation: Conversation, message: Message) -> bool:
    do_reply_if_closed(state, conversation)
    return False  # managers are still told: the reply only says when they are back
