"""The library's own hooks: a lower service announces a change, a higher one reacts to it.

``conversations`` and ``events`` sit below the knowledge base and the webhooks, which react to
what they do; importing them back would tie the layers into a loop. So the lower module sends
a signal here, inside its transaction, and the higher module connects a receiver when it is
imported (``extension.init_app`` imports every receiver). Receivers only register work for
after commit (a job, a delivery row in the same transaction), like the code they replace.

Not for hosts: their signals, sent after commit, are in :mod:`gincore_chats.signals`.
"""

from __future__ import annotations

from blinker import Namespace

_hooks = Namespace()

#: A conversation was closed. ``sender`` is the ChatsState; ``conversation`` is passed.
conversation_closed = _hooks.signal("conversation-closed")

#: An event was appended to a conversation's log. ``sender`` is the ChatsState;
#: ``conversation``, ``type_``, ``payload`` and ``seq`` are passed.
event_appended = _hooks.signal("event-appended")

#: Processing a stored webhook delivery failed. ``sender`` is the ChatsState; ``event`` (the
#: InboundEvent, its error already set) is passed.
inbound_failed = _hooks.signal("inbound-failed")

#: A customer message was stored. ``sender`` is the ChatsState; ``conversation`` and ``message``
#: are passed. A receiver returns True when it answers the message itself (the AI assistant,
#: after commit): managers are then told only if it hands the conversation to them.
customer_message = _hooks.signal("customer-message")

#: A manager joined a conversation or replied in it (not a note). ``sender`` is the ChatsState;
#: ``conversation`` and ``manager_id`` are passed. The AI assistant goes silent there.
manager_took_over = _hooks.signal("manager-took-over")

#: A conversation's row for the console's list is being published (an inbox update).
#: ``sender`` is the ChatsState; ``conversation`` and ``summary`` (the dict, to add fields to)
#: are passed. The AI assistant adds its state (``ai``), like the console's HTTP rows have it.
inbox_summary = _hooks.signal("inbox-summary")

#: A manager left a conversation. ``sender`` is the ChatsState; ``conversation`` and
#: ``manager_id`` are passed. Auto-assignment hands the freed capacity on.
manager_left = _hooks.signal("manager-left")

#: A manager chose a status (online, invisible, offline). Sent after commit (unlike the rest):
#: ``sender`` is the ChatsState; ``manager_id`` and ``status`` are passed. Auto-assignment
#: gives waiting conversations to a manager who comes online.
presence_changed = _hooks.signal("presence-changed")
