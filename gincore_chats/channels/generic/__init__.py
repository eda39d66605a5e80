"""Other connected sources: an HMAC- or token-authenticated push API and an outgoing webhook."""

from .channel import GenericChannel

__all__ = ["GenericChannel"]
