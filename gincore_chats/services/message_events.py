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

from ..channels.registry import get_adapter
from ..models import Conversation, Message, MessageKind, Source, SourceKind, Visibility
from ..serialize import message_dict
from ..signals import message_created
from ..state import ChatsState
from .events import append_event
from .unit_of_work import after_commit, on_rollback

#: session.info key: message id -> the wire dict published in the current transaction.
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
    """The message as clients see it (``serialize.message_dict`` with what only services know)."""
    session = object_session(message)
    published = session.info.get(_WIRES) if session is not None else None
    if published and message.id in published:
        return published[message.id]  # type: ignore[no-any-return]
    return message_dict(message, edits_reach=_edits_reach(message))


def _remember(state: ChatsState, message: Message, wire: dict[str, Any]) -> None:
    """Keep the published dict for the views of this transaction; forgotten at its end."""
    session = state.session
    wires = session.info.get(_WIRES)
    if wires is None:
        wires = session.info[_WIRES] = {}

        def forget() -> None:
            session.info.pop(_WIRES, None)

        after_commit(session, forget)
        on_rollback(session, forget)
    wires[message.id] = wire


def _publish(state: ChatsState, conv: Conversation, message: Message, type_: str) -> dict[str, Any]:
    visibility = Visibility.STAFF if message.kind == MessageKind.NOTE else Visibility.PUBLIC
    wire = message_dict(message, edits_reach=_edits_reach(message))
    append_event(state, conv, type_, {"message": wire}, visibility)
    _remember(state, message, wire)
    return wire


def publish_message_created(state: ChatsState, conv: Conversation, message: Message) -> None:
    """A new message: its event now, the host's ``message_created`` signal after commit."""
    wire = _publish(state, conv, message, "message.created")
    app = state.app
    after_commit(state.session, lambda: message_created.send(app, message=wire))


def publish_message_update(state: ChatsState, conv: Conversation, message: Message) -> None:
    """Tell everyone watching that a message changed (delivery state, body, deletion, files)."""
    _publish(state, conv, message, "message.updated")
