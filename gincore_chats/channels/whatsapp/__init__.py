"""WhatsApp Business Cloud API (reference §2): ``parse`` is pure, ``api`` is the HTTP client."""

from .channel import WhatsAppChannel

__all__ = ["WhatsAppChannel"]
