"""Blinker signals a host can connect to; all are sent after the change has committed."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``sender`` is the Flask app; ``conversation_id`` and ``source_id`` are passed.
conversation_opened = _signals.signal("gincore-chats.conversation-opened")
#: ``sender`` is the Flask app; ``message`` is the message's wire dict (see serialize.py).
message_created = _signals.signal("gincore-chats.message-created")
#: ``sender`` is the Flask app; ``contact_id`` and ``host_user_id`` (None for an anonymous
#: visitor or a messenger user) are passed. Sent for contacts bound to a host user (a signed
#: widget identity or ``link_contact``).
contact_created = _signals.signal("gincore-chats.contact-created")
#: ``sender`` is the Flask app; ``contact_id``, ``host_user_id`` and ``fields`` (the names of
#: the changed fields) are passed.
contact_updated = _signals.signal("gincore-chats.contact-updated")
#: ``sender`` is the Flask app; ``survivor_id``, ``merged_id``, ``merge_id`` and ``undone``
#: (True when a manager undid the merge: ``merged_id`` is a contact of its own again).
contact_merged = _signals.signal("gincore-chats.contact-merged")
