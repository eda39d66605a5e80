"""Where auto-assignment hooks into the rest: the library's own signals (services.hooks).

A customer's message (the first one turns a visit into work: a visit never takes capacity),
a close or a leave (capacity freed) assign inside the same transaction; a manager coming
online drains the pool in a unit of work of its own (the signal is sent after commit).
"""

from __future__ import annotations

from ...models import Conversation, Message, Presence
from ...state import ChatsState
from .. import hooks
from ..unit_of_work import unit_of_work
from . import router


@hooks.customer_message.connect
def _customer_message(state: ChatsState, *, conversation: Conversation, message: Message) -> bool:
    router.do_assign(state, conversation)
    return False  # assigning does not answer the message: managers are still told


@hooks.conversation_closed.connect
def _closed(state: ChatsState, *, conversation: Conversation) -> None:
    router.do_drain(state, conversation.source)


@hooks.manager_left.connect
def _left(state: ChatsState, *, conversation: Conversation, manager_id: str) -> None:
    router.do_drain(state, conversation.source, avoid=(conversation.id, manager_id))


def drain_for_manager(state: ChatsState, manager_id: str) -> int:
    """The manager is (maybe) available now: hand them what waits in their sources."""
    assigned = 0
    with unit_of_work(state.session):
        for source in router.sources_of(state, manager_id):
            assigned += router.do_drain(state, source)
    return assigned


@hooks.presence_changed.connect
def _presence(state: ChatsState, *, manager_id: str, status: str) -> None:
    if status == Presence.ONLINE:
        drain_for_manager(state, manager_id)
