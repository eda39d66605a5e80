"""Telegram Bot API: webhook with a secret token, text/photo/document sends, edits, deletes."""

from .channel import TelegramChannel

__all__ = ["TelegramChannel"]
