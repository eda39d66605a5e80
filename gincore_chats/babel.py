"""The library's own translation domain, so host catalogs and ours never collide."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_app_context
from flask_babel import Babel, Domain

TRANSLATIONS = os.path.join(os.path.dirname(__file__), "translations")
domain = Domain(translation_directories=[TRANSLATIONS], domain="gincore_chats")


def init_babel(app: Flask) -> None:
    # Flask-Babel's gettext needs the extension on the app. A host that set Babel up keeps its
    # own locale selector; otherwise a plain Babel() is installed.
    if "babel" not in app.extensions:
        Babel(app)


def gettext(message: str, **variables: Any) -> str:
    if has_app_context():
        return str(domain.gettext(message, **variables))
    return message % variables if variables else message


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    if has_app_context():
        return str(domain.ngettext(singular, plural, num, **variables))
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


def N_(message: str) -> str:
    """Mark a string for extraction into the catalog; translated later, where it is shown."""
    return message


def error_text(exc: BaseException) -> str:
    """An error's text in the current locale: a ``TranslatableError`` by its msgid, any other
    by its English text looked up in the catalog (fixed texts marked ``N_`` where raised)."""
    msgid = getattr(exc, "msgid", None)
    if isinstance(msgid, str):
        return gettext(msgid, **getattr(exc, "params", {}))
    return gettext(str(exc))


_ = gettext
lazy_gettext = domain.lazy_gettext
