"""The console's and settings pages' script texts, in the manager's language.

The scripts call ``t("Join")`` and ``tn("{n} file", "{n} files", n)`` (static/gincore_chats/
texts.js). Their messages live in the same "gincore_chats" catalog as the templates (babel.cfg
extracts them with the ``t`` and ``tn`` keywords); each staff page embeds the current locale's
translations of exactly those messages as JSON, so the browser never loads a catalog of its own
and a message the translators have not done yet shows in English.
"""

from __future__ import annotations

import functools
import gettext
import os
from typing import Any

from babel.messages.extract import extract_from_file

from .babel import domain

STATIC = os.path.join(os.path.dirname(__file__), "static", "gincore_chats")
KEYWORDS: dict[str, Any] = {"t": None, "tn": (1, 2)}
# gettext plural rules look at n, n % 10 and n % 100 only, so the indexes of 0..199 decide every
# n: the browser takes index[n] below 200 and index[100 + n % 100] above.
PLURAL_TABLE = 200


def script_files() -> list[str]:
    """The staff pages' own scripts (not the vendored chart library, not the widget's)."""
    names = sorted(os.listdir(STATIC))
    return [
        os.path.join(STATIC, name)
        for name in names
        if name.endswith(".js") and (name.startswith(("console", "settings", "reports", "texts")))
    ]


@functools.cache
def script_messages() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(singular msgids, (singular, plural) pairs) the scripts call, read once per process."""
    singles: dict[str, None] = {}
    plurals: dict[tuple[str, str], None] = {}
    for path in script_files():
        for _line, message, _comments, _context in extract_from_file(
            "javascript", path, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
        ):
            if isinstance(message, tuple):
                if len(message) >= 2 and message[0] and message[1]:
                    plurals[(message[0], message[1])] = None
            elif message:
                singles[message] = None
    return tuple(singles), tuple(plurals)


def page_texts(locale: str) -> dict[str, Any]:
    """What texts.js reads: the translated messages for ``locale`` and its plural index table."""
    translations = domain.get_translations()
    plural = getattr(translations, "plural", None) or gettext.c2py("n != 1")
    index = [int(plural(n)) for n in range(PLURAL_TABLE)]
    singles, pairs = script_messages()
    messages: dict[str, str] = {}
    for message in singles:
        text = translations.gettext(message)
        if text != message:
            messages[message] = text
    plurals: dict[str, list[str]] = {}
    # One n per plural form: ngettext is the public way to read each form of an entry.
    samples: dict[int, int] = {}
    for n, form in enumerate(index):
        samples.setdefault(form, n)
    for singular, plural_id in pairs:
        forms = [translations.ngettext(singular, plural_id, samples[f]) for f in sorted(samples)]
        if forms != [singular if samples[f] == 1 else plural_id for f in sorted(samples)]:
            plurals[singular] = forms
    return {"lang": locale, "pluralIndex": index, "messages": messages, "plurals": plurals}
