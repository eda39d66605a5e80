"""Instagram Messaging API (reference §5): ``parse`` is pure, ``api`` is the HTTP client."""

from .channel import InstagramChannel

__all__ = ["InstagramChannel"]
