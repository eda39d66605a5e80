"""Messages: customer and manager sends (idempotent), system messages, edit and delete."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ...identity import Manager
from ...models import (
    Attachment,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    MessageRevision,
    SourceKind,
    utcnow,
)
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState
from ..channels.outbound import queue_delete, queue_edit, queue_send
from ..errors import MessageError
from ..files.attachments import do_free_for_message
from ..notifications.triggers import customer_wrote, manager_replied
from ..row_ids import row_id
from . import message_insert
from .events import append_event, publish_inbox_update
from .lifecycle import touch
from .message_events import (
    insert_message_created,
    publish_message_created,
    publish_message_update,
)
from .message_insert import Touch
from .message_lookup import find_by_client_id, find_by_external_id, message_in

# Views find these here too (``messages.MessageError``, ``messages.message_in`` ...); they live
# in their own modules so that the services below this one need not import it.
__all__ = [
    "MessageError",
    "find_by_client_id",
    "find_by_external_id",
    "message_in",
]

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

#: English fallbacks; clients render system messages from ``system_code`` in their language.
SYSTEM_TEXTS = {
    "joined": "{name} joined the chat",
    "left": "{name} left the chat",
    "reopened": "The customer wrote again: the chat is open again",
}


def clean_body(state: ChatsState, body: Any, *, allow_empty: bool = False) -> str:
    """A file message may have no text (``allow_empty``); any other message must."""
    if body is None and allow_empty:
        return ""
    if not isinstance(body, str):
        raise MessageError("The message must be text.")
    text = body.replace("\r\n", "\n").strip()
    if not text and not allow_empty:
        raise MessageError("The message is empty.")
    limit = state.config.max_message_length
    if len(text) > limit:
        raise MessageError(f"The message is too long ({len(text)} characters; at most {limit}).")
    return text


def clean_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise MessageError("client_id must be 8-64 letters, digits, '-' or '_' (use a UUID).")
    return client_id


def _insert_once(state: ChatsState, message: Message) -> tuple[Message, bool]:
    """Insert, or return the row an earlier try with the same client id created.

    No look-up first: retries are rare, and the unique constraint decides (race-free) anyway.
    """
    conv_id, client_id = message.conversation_id, message.client_id
    try:
        with state.session.begin_nested():
            state.session.add(message)
            state.session.flush()
    except IntegrityError:
        # A concurrent retry won the race; the unique constraint is the real guard.
        existing = state.session.scalar(
            select(Message).where(
                Message.conversation_id == conv_id, Message.client_id == client_id
            )
        )
        if existing is None:
            raise
        return existing, False
    return message, True


def _stored_once(
    state: ChatsState, conv: Conversation, message: Message, touch: Touch
) -> tuple[Message, bool]:
    """The one-statement insert (:mod:`.message_insert`), or the row a retry finds."""
    if insert_message_created(state, conv, message, touch):
        return message, True
    # A retry: the unique constraint let nothing in; the original is what it answers with.
    if message.client_id is not None:
        existing = find_by_client_id(state, conv, message.client_id)
    else:
        assert message.external_id is not None
        existing = find_by_external_id(state, message.source_id, message.external_id)
    if existing is None:
        raise RuntimeError("message insert conflicted, but no earlier row was found")
    return existing, False


def _fast(state: ChatsState, conv: Conversation, attachments: Sequence[Attachment] = ()) -> bool:
    """Can the one-statement insert store this message? Not with files (linked to it by an
    UPDATE the ORM path makes) nor where a customer reopens a closed conversation (two
    events); and only on PostgreSQL."""
    return (
        not attachments
        and conv.status != ConversationStatus.CLOSED
        and message_insert.available(state)
    )


def _link_attachments(
    state: ChatsState, message: Message, attachments: Sequence[Attachment]
) -> str | None:
    """Attach stored uploads to the new message; returns a list preview for file-only messages."""
    if not attachments:
        # Known to be empty: serialising the message must not query for its files.
        set_committed_value(message, "attachments", [])
        return None
    for attachment in attachments:
        attachment.message_id = message.id
    state.session.flush()
    state.session.expire(message, ["attachments"])
    return "📎 " + ", ".join(a.filename for a in attachments)


def first_customer_message(conv: Conversation, message: Message) -> None:
    # From now on the conversation is work for the managers, not a visit (console list, unread).
    if conv.first_customer_message_at is None:
        conv.first_customer_message_at = message.created_at


def _reopen_by_customer(state: ChatsState, conv: Conversation) -> None:
    """Open again, with the status event a manager's reopen appends (consoles and webhooks
    see ``conversation.reopened`` either way)."""
    conv.status = ConversationStatus.OPEN
    append_event(state, conv, "conversation.status", {"status": conv.status, "by": "customer"})


def do_send_customer_message(
    state: ChatsState,
    conv: Conversation,
    body: Any,
    client_id: Any,
    *,
    attachments: Sequence[Attachment] = (),
) -> tuple[Message, bool]:
    text = clean_body(state, body, allow_empty=bool(attachments))
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.CUSTOMER,
        author_name=conv.contact.name,
        body=text,
        client_id=clean_client_id(client_id),
        created_at=utcnow(),
    )
    if _fast(state, conv, attachments):
        set_committed_value(message, "quoted", None)
        touch_row = Touch(at=message.created_at, preview=text, customer=True)
        message, created = _stored_once(state, conv, message, touch_row)
        if created:
            publish_inbox_update(state, conv)
            customer_wrote(state, conv, message)
        return message, created
    message, created = _insert_once(state, message)
    if created:
        files = _link_attachments(state, message, attachments)
        if conv.status == ConversationStatus.CLOSED:
            # A customer writing again reopens the conversation, as every inbox does.
            _reopen_by_customer(state, conv)
        first_customer_message(conv, message)
        touch(conv, text or files)
        publish_message_created(state, conv, message)
        publish_inbox_update(state, conv)
        customer_wrote(state, conv, message)  # push now, email if unread (after commit)
    return message, created


def _quotable(state: ChatsState, conv: Conversation, quoted_id: Any, note: bool) -> Message | None:
    if quoted_id in (None, ""):
        return None
    qid = row_id(quoted_id)
    if qid is None:
        raise MessageError("quoted_message_id must be a message id.")
    quoted = state.session.get(Message, qid)
    if quoted is None or quoted.conversation_id != conv.id:
        raise MessageError("The quoted message is not in this conversation.")
    if quoted.kind == MessageKind.NOTE and not note:
        # A reply the customer sees must not carry the text of an internal note.
        raise MessageError("An internal note can only be quoted in another note.")
    return quoted


def do_send_manager_message(
    state: ChatsState,
    manager: Manager,
    conv: Conversation,
    body: Any,
    client_id: Any,
    *,
    quoted_message_id: Any = None,
    note: bool = False,
    attachments: Sequence[Attachment] = (),
) -> tuple[Message, bool]:
    if not manager.can(Permission.REPLY):
        raise PermissionDenied("You need the chats.reply permission to write.", Permission.REPLY)
    if not note and manager.id not in conv.active_manager_ids:
        raise PermissionDenied("Join the conversation before replying.", Permission.REPLY)
    text = clean_body(state, body, allow_empty=bool(attachments))
    quoted = _quotable(state, conv, quoted_message_id, note)
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.NOTE if note else MessageKind.MANAGER,
        author_manager_id=manager.id,
        author_name=manager.name,
        author_avatar_url=manager.avatar_url,
        body=text,
        client_id=clean_client_id(client_id),
        quoted_message_id=quoted.id if quoted is not None else None,
        created_at=utcnow(),
    )
    # A messenger reply is marked pending before its event (queue_send): the ORM path.
    if _fast(state, conv, attachments) and conv.source.kind == SourceKind.WIDGET:
        set_committed_value(message, "quoted", quoted)
        touch_row = Touch() if note else Touch(at=message.created_at, preview=text)
        message, created = _stored_once(state, conv, message, touch_row)
        if created:
            if not note:
                manager_replied(state, conv, manager.id)  # unread emails re-planned; AI stops
            publish_inbox_update(state, conv)
        return message, created
    message, created = _insert_once(state, message)
    if created:
        files = _link_attachments(state, message, attachments)
        if not note:
            touch(conv, text or files)
            # A reply in a messenger conversation leaves through the platform from an RQ job
            # (marked "pending" first, so the created event already shows it).
            queue_send(state, conv, message)
            manager_replied(state, conv, manager.id)  # unread emails re-planned; AI stops
        publish_message_created(state, conv, message)
        publish_inbox_update(state, conv)
    return message, created


def add_system_message(
    state: ChatsState, conv: Conversation, code: str, data: dict[str, Any]
) -> Message:
    body = SYSTEM_TEXTS[code].format(**data)
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.SYSTEM,
        body=body,
        system_code=code,
        system_data=data,
        created_at=utcnow(),
    )
    state.session.add(message)
    state.session.flush()
    touch(conv, None)
    publish_message_created(state, conv, message)
    return message


def _own_message(manager: Manager, message: Message) -> None:
    if message.kind not in (MessageKind.MANAGER, MessageKind.NOTE):
        raise PermissionDenied("Only manager messages and notes can be edited or deleted.")
    if message.author_manager_id != manager.id:
        raise PermissionDenied("You can edit and delete only your own messages.")
    if message.deleted_at is not None:
        raise MessageError("The message was deleted.")


def do_edit_message(
    state: ChatsState, manager: Manager, conv: Conversation, message: Message, body: Any
) -> Message:
    _own_message(manager, message)
    text = clean_body(state, body)
    if text == message.body:
        return message
    state.session.add(
        MessageRevision(message_id=message.id, body=message.body, replaced_by=manager.id)
    )
    message.body = text
    message.edited_at = utcnow()
    publish_message_update(state, conv, message)
    queue_edit(state, conv, message)
    return message


def do_delete_message(
    state: ChatsState, manager: Manager, conv: Conversation, message: Message
) -> Message:
    _own_message(manager, message)
    # The original stays for audit; readers get an empty body and a "deleted" mark.
    state.session.add(
        MessageRevision(message_id=message.id, body=message.body, replaced_by=manager.id)
    )
    message.deleted_at = utcnow()
    # The text stays for audit; the files' bytes are removed and their space freed.
    do_free_for_message(state, message)
    publish_message_update(state, conv, message)
    queue_delete(state, conv, message)
    return message


# -- messages from messenger platforms (services.inbound) ---------------------------------------


def _insert_external_once(state: ChatsState, message: Message) -> tuple[Message, bool]:
    """Insert, or return the row an earlier delivery of the same platform message created."""
    assert message.external_id is not None
    source_id, external_id = message.source_id, message.external_id
    existing = find_by_external_id(state, source_id, external_id)
    if existing is not None:
        return existing, False
    try:
        with state.session.begin_nested():
            state.session.add(message)
            state.session.flush()
    except IntegrityError:
        # A concurrent worker stored the same delivery; the unique constraint is the guard.
        existing = find_by_external_id(state, source_id, external_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def _platform_text(state: ChatsState, body: str) -> str:
    # The customer has already sent it: shorten what is too long instead of refusing it.
    text = body.replace("\r\n", "\n").strip() or "[empty message]"
    limit = state.config.max_message_length
    return text if len(text) <= limit else text[: limit - 1] + "…"


def do_receive_channel_message(
    state: ChatsState,
    conv: Conversation,
    body: str,
    external_id: str,
    *,
    system_data: dict[str, Any] | None = None,
    quoted_message_id: int | None = None,
) -> tuple[Message, bool]:
    """A customer's message from a platform: stored once per (source, platform message id)."""
    text = _platform_text(state, body)
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.CUSTOMER,
        author_name=conv.contact.name,
        body=text,
        external_id=external_id,
        system_data=system_data,
        quoted_message_id=quoted_message_id,
        created_at=utcnow(),
    )
    if _fast(state, conv):
        quoted = state.session.get(Message, quoted_message_id) if quoted_message_id else None
        set_committed_value(message, "quoted", quoted)
        touch_row = Touch(at=message.created_at, preview=text, customer=True)
        message, created = _stored_once(state, conv, message, touch_row)
        if created:
            publish_inbox_update(state, conv)
            customer_wrote(state, conv, message)
        return message, created
    message, created = _insert_external_once(state, message)
    if created:
        if conv.status == ConversationStatus.CLOSED:
            # As in the widget: a customer writing again reopens the conversation.
            _reopen_by_customer(state, conv)
        first_customer_message(conv, message)
        touch(conv, text)
        publish_message_created(state, conv, message)
        publish_inbox_update(state, conv)
        customer_wrote(state, conv, message)  # as in the widget
    return message, created


def do_record_platform_reply(
    state: ChatsState, conv: Conversation, body: str, external_id: str, author_name: str
) -> tuple[Message, bool]:
    """A reply someone sent from the platform's own app (an echo we did not send).

    Shown in the console as a manager message that has reached the customer; never sent again.
    """
    text = _platform_text(state, body)
    now = utcnow()
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.MANAGER,
        author_name=author_name,
        body=text,
        external_id=external_id,
        delivery_status="sent",
        delivery_updated_at=now,
        created_at=now,
    )
    message, created = _insert_external_once(state, message)
    if created:
        touch(conv, text)
        publish_message_created(state, conv, message)
        publish_inbox_update(state, conv)
        manager_replied(state, conv)  # answered from the platform's app
    return message, created


def do_edit_customer_message(
    state: ChatsState, conv: Conversation, message: Message, body: str
) -> Message:
    """The customer edited a message on the platform (Telegram): keep the old text for audit."""
    text = _platform_text(state, body)
    if message.kind != MessageKind.CUSTOMER or message.deleted_at or text == message.body:
        return message
    state.session.add(MessageRevision(message_id=message.id, body=message.body, replaced_by=None))
    message.body = text
    message.edited_at = utcnow()
    publish_message_update(state, conv, message)
    return message
