"""The error every contact service raises for input it refuses (views answer it with 400).

Its own module so that services which call each other (customers ↔ merges) share it without
importing each other.
"""

from __future__ import annotations


class ContactError(ValueError):
    pass
