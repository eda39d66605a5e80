"""Notification triggers: the one call other services make when a message arrives or is read.

Each registers after-commit effects only (scheduling RQ jobs), so a rolled-back message never
notifies anyone and nothing here slows live delivery: the emails and pushes happen in workers.
"""

from __future__ import annotations

from ...models import Conversation, Message
from ...state import ChatsState
from . import unread_alerts, web_push


def customer_wrote(state: ChatsState, conv: Conversation, message: Message) -> None:
    """A new customer message (widget or platform): push now, email if it stays unread.

    The first customer message is what makes a conversation "new" for notifications: the widget
    opens its conversation when it starts, and an empty chat has nothing to read.
    """
    unread_alerts.after_customer_message(state, conv)
    web_push.after_customer_message(state, conv, message)


def manager_replied(state: ChatsState, conv: Conversation) -> None:
    """A manager reply (not a note): it answers the customer, who may not see it in time."""
    unread_alerts.after_manager_message(state, conv)


def manager_read(state: ChatsState, conv: Conversation) -> None:
    unread_alerts.after_employee_read(state, conv)


def customer_read(state: ChatsState, conv: Conversation) -> None:
    unread_alerts.after_customer_read(state, conv)
