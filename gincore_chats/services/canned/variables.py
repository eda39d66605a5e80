"""Fill ``{{ customer.name }}``-style variables into a saved reply: one pass, text only.

Not a template engine on purpose: a reply's text is written by managers and a value (a
customer's name) by anyone, so nothing here evaluates, loops or looks up attributes. A known
variable with a value is replaced by that value as plain text; an unknown one, or one without
a value (no email known, or the manager may not see it), stays as written so the manager sees
it in the composer before sending. Values are never scanned again, so a customer called
``{{ manager.name }}`` stays exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE = re.compile(r"\{\{\s*([a-z]+(?:\.[a-z_]+)+)\s*\}\}")

#: The variables a reply may use, and what they mean (the docs and settings page list them).
KNOWN = {
    "customer.name": "The customer's name",
    "customer.first_name": "The first word of the customer's name",
    "customer.email": "The customer's email (for managers who may see it)",
    "customer.phone": "The customer's phone (for managers who may see it)",
    "manager.name": "Your display name",
    "manager.first_name": "The first word of your display name",
    "conversation.id": "The conversation's number",
    "source.name": "The inquiry source's name",
}


def fill(text: str, values: Mapping[str, str | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return value if value else match.group(0)

    return VARIABLE.sub(replace, text)


def first_word(value: str | None) -> str | None:
    parts = (value or "").split()
    return parts[0] if parts else None
