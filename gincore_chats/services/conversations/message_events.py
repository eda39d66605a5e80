"""Message events: the one place a changed message becomes an event, a wire shape and a signal.

Every service that creates or changes a message (a send, an edit, a delivery receipt, a file
arriving) ends with :func:`publish_message_created` or :func:`publish_message_update`, which
append the event in the transaction and publish it after commit. Views answering with a
message use :func:`message_wire`: within the unit of work that published the message they get
the very dict the event carries (serialised once), else a fresh one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from ... import metrics
from ...channels.registry import get_adapter
from ...models import Conversation, Message, MessageKind, Source, SourceKind, Visibility
from ...serialize import message_dict
from ...signals import message_created
from ...state import ChatsState
from ..unit_of_work import after_commit
from .events import append_event, transaction_memo
from .message_insert import Touch, insert_message

#: transaction_memo key: message id -> the wire dict published in the transaction.
_WIRES = "gincore_chats.message_wires"
#: transaction_memo key: message id -> that dict as JSON, where it was made (one-statement insert).
_TEXTS = "gincore_chats.message_texts"


def edits_reach_customer(source_kind: str) -> bool:
    """Can the customer see a manager's later edit or delete? (The widget always can.)"""
    if source_kind == SourceKind.WIDGET:
        return True
    adapter = get_adapter(source_kind)
    return bool(adapter and adapter.supports_edit and adapter.supports_delete)


def _edits_reach(message: Message) -> bool | None:
    if message.kind != MessageKind.MANAGER:
        return None
    # The source is in the session's identity map (loaded with the conversation).
    session = object_session(message)
    source = session.get(Source, message.source_id) if session is not None else None
    return edits_reach_customer(source.kind) if source is not None else None


def message_wire(message: Message) -> dict[str, Any]:
    """The message as clients see it (``serialize.message_dict`` with what only services know).

    In the transaction that published it, the very dict its event carries: every change to a
    message ends with its publication here, so that dict is the newest.
    """
    session = object_session(message)
    wire = transaction_memo(session, _WIRES).get(message.id) if session is not None else None
    return wire if wire is not None else message_dict(message, edits_reach=_edits_reach(message))


def message_wire_text(message: Message) -> str | None:
    """:func:`message_wire` as JSON, when the transaction that published it made it already."""
    session = object_session(message)
    return transaction_memo(session, _TEXTS).get(message.id) if session is not None else None


def _publish(state: ChatsState, conv: Conversation, message: Message, type_: str) -> dict[str, Any]:
    visibility = Visibility.STAFF if message.kind == MessageKind.NOTE else Visibility.PUBLIC
    wire = message_dict(message, edits_reach=_edits_reach(message))
    append_event(state, conv, type_, {"message": wire}, visibility)
    transaction_memo(state.session, _WIRES)[message.id] = wire
    return wire


def _announce_created(state: ChatsState, conv: Conversation, message: Message, wire: Any) -> None:
    app = state.app
    kinds = (message.kind, conv.source.kind)  # read now: after commit the rows are expired

    def created() -> None:
        message_created.send(app, message=wire)
        metrics.message_stored(state, *kinds)

    after_commit(state.session, created)


def publish_message_created(state: ChatsState, conv: Conversation, message: Message) -> None:
    """A new message: its event now, the host's ``message_created`` signal after commit."""
    wire = _publish(state, conv, message, "message.created")
    _announce_created(state, conv, message, wire)


def insert_message_created(
    state: ChatsState, conv: Conversation, message: Message, touch: Touch
) -> bool:
    """:func:`publish_message_created` for a message not stored yet, in one statement
    (:mod:`.message_insert`); False, storing nothing, when it was stored before.

    ``message`` is transient with every column set; its ``quoted`` relationship is set, and
    it has no files."""
    set_committed_value(message, "attachments", [])
    edits_reach = (
        edits_reach_customer(conv.source.kind) if message.kind == MessageKind.MANAGER else None
    )
    wire = message_dict(message, edits_reach=edits_reach)
    visibility = Visibility.STAFF if message.kind == MessageKind.NOTE else Visibility.PUBLIC
    text = insert_message(state, conv, message, wire, touch, visibility)
    if text is None:
        return False
    transaction_memo(state.session, _WIRES)[message.id] = wire
    transaction_memo(state.session, _TEXTS)[message.id] = text
    _announce_created(state, conv, message, wire)
    return True


def publish_message_update(state: ChatsState, conv: Conversation, message: Message) -> None:
    """Tell everyone watching that a message changed (delivery state, body, deletion, files)."""
    _publish(state, conv, message, "message.updated")
