"""Errors services raise for bad input or missing rows, shared so that no service imports
another only for its exception (the views turn each into one HTTP answer)."""

from __future__ import annotations


class NotFound(LookupError):
    """No such row, or none the caller may see (the answer is the same: no leak)."""


class MessageError(ValueError):
    """Invalid message input; the text is shown to the sender."""


class TranslatableError(ValueError):
    """Bad input whose text a staff page shows in the manager's language.

    ``msgid`` is a catalog message (marked with ``N_``), ``params`` its ``%(name)s`` values;
    ``str()`` is the English text (logs, the REST API). A view shows ``babel.error_text(exc)``.
    """

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
