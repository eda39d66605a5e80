"""Facebook Messenger Platform (reference §4): ``parse`` is pure, ``api`` is the HTTP client."""

from .channel import MessengerChannel

__all__ = ["MessengerChannel"]
