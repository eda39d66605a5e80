"""Pieces the three Meta channels share (WhatsApp Cloud API, Messenger, Instagram).

All three sign webhooks the same way (``X-Hub-Signature-256``), answer the same GET handshake,
and speak the Graph API error envelope; Messenger and Instagram also share the ``messaging[]``
event shape and the Send API body. The adapter base classes are in :mod:`.channel`. Nothing
here touches Flask or the database.
"""

from .errors import GraphError, error_from_response
from .signature import answer_handshake, signature_valid

__all__ = ["GraphError", "answer_handshake", "error_from_response", "signature_valid"]
