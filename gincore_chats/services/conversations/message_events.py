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

from ... import metrics
from ...channels.registry import get_adapter
from ...models import Conversation, Message, MessageKind, Source, SourceKind, Visibility
from ...serialize import message_dict
from ...signals import message_created
from ...state import ChatsState
from ..unit_of_work import after_commit
from .events import append_event, transaction_memo

#: transaction_memo key: message id -> the wire dict published in the transaction.
_WIRES = "gincore_chats.message_wires"


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


def _publish(state: ChatsState, conv: Conversation, message: Message, type_: str) -> dict[str, Any]:
    visibility = Visibility.STAFF if message.kind == MessageKind.NOTE else Visibility.PUBLIC
    wire = message_dict(message, edits_reach=_edits_reach(message))
    append_event(state, conv, type_, {"message": wire}, visibility)
    transaction_memo(state.session, _WIRES)[message.id] = wire
    return wire


def publish_message_created(state: ChatsState, conv: Conversation, message: Message) -> None:
    """A new message: its event now, the host's ``message_created`` signal after commit."""
    wire = _publish(state, conv, message, "message.created")
    app = state.app
    kinds = (message.kind, conv.source.kind)  # read now: after commit the rows are expired
    after_commit(state.session, lambda: message_created.send(app, message=wire))
    after_commit(state.session, lambda: metrics.message_stored(state, *kinds))


def publish_message_update(state: ChatsState, conv: Conversation, message: Message) -> None:
    """Tell everyone watching that a message changed (delivery state, body, deletion, files)."""
    _publish(state, conv, message, "message.updated")
