"""Blinker signals a host can connect to; all are sent after the change has committed."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``sender`` is the Flask app; ``conversation_id`` and ``source_id`` are passed.
conversation_opened = _signals.signal("gincore-chats.conversation-opened")
#: ``sender`` is the Flask app; ``message`` is the message's wire dict (see serialize.py).
message_created = _signals.signal("gincore-chats.message-created")
