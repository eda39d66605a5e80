"""Errors services raise for bad input or missing rows, shared so that no service imports
another only for its exception (the views turn each into one HTTP answer)."""

from __future__ import annotations


class NotFound(LookupError):
    """No such row, or none the caller may see (the answer is the same: no leak)."""


class MessageError(ValueError):
    """Invalid message input; the text is shown to the sender."""
