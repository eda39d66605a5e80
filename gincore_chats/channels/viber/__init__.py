"""Viber REST Bot API: signed callbacks, send_message (text, picture, file), set_webhook."""

from .channel import ViberChannel

__all__ = ["ViberChannel"]
