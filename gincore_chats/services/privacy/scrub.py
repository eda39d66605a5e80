"""Taking one person's identifiers out of stored values (text, JSON, bytes) of any column.

Two kinds of identifiers: *strong* ones (email, phone, platform id, username, IP addresses,
the name) are cut out wherever they occur inside a value; *texts* (what the person wrote, their
files' names) replace a whole value that equals one, or that contains one of at least
``MIN_CONTAINED`` characters (previews, normalised copies), so a short "ok" they wrote does not
blank every "ok" in the conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ERASED = "[erased]"
#: Identifiers shorter than this are not cut out of other text (a name "Al" is in "Also").
MIN_STRONG = 3
MIN_CONTAINED = 8


@dataclass
class Identifiers:
    strong: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def add_strong(self, values: Iterable[Any]) -> None:
        for v in values:
            if isinstance(v, str) and len(v.strip()) >= MIN_STRONG:
                self.strong.add(v.strip())

    def add_texts(self, values: Iterable[Any]) -> None:
        for v in values:
            if isinstance(v, str) and v.strip():
                self.texts.add(v.strip())

    def all(self) -> set[str]:
        return self.strong | self.texts

    def __bool__(self) -> bool:
        return bool(self.strong or self.texts)


def _folded(ids: Identifiers) -> tuple[list[str], list[str]]:
    strong = sorted({s.casefold() for s in ids.strong}, key=len, reverse=True)
    texts = sorted({t.casefold() for t in ids.texts}, key=len, reverse=True)
    return strong, texts


#: JSON keys whose values are codes (a message's kind, an event's type), never what anyone
#: wrote: a customer who wrote "open" must not blank a status.
STRUCTURAL_KEYS = frozenset(
    {"kind", "type", "status", "visibility", "code", "system_code", "language", "delivery_status"}
)


def scrub_text(value: str, ids: Identifiers, *, texts_too: bool = True) -> str:
    """The value without the identifiers (case-insensitive). ``texts_too``: False for code
    columns, where only strong identifiers are looked for."""
    folded = value.casefold()
    strong, texts = _folded(ids)
    stripped = folded.strip()
    for text in texts if texts_too else ():
        if stripped == text or (len(text) >= MIN_CONTAINED and text in folded):
            return ""
        # A preview: the start of what they wrote, cut at a column's size.
        if len(stripped) >= MIN_CONTAINED and text.startswith(stripped.rstrip("…")):
            return ""
    if not any(s in folded for s in strong):
        return value
    out = value
    for s in strong:
        out = _replace_folded(out, s)
    return out


def _replace_folded(value: str, needle: str) -> str:
    # Case-insensitive replace that keeps the rest of the value as it was. Case folding may
    # change lengths (ß -> ss); such a value is matched on its folded form instead.
    if len(value.casefold()) != len(value):
        return value.casefold().replace(needle, ERASED)
    result, folded, start = [], value.casefold(), 0
    while (at := folded.find(needle, start)) >= 0:
        result.append(value[start:at])
        result.append(ERASED)
        start = at + len(needle)
    result.append(value[start:])
    return "".join(result)


def scrub_json(value: Any, ids: Identifiers, *, texts_too: bool = True) -> Any:
    if isinstance(value, str):
        return scrub_text(value, ids, texts_too=texts_too)
    if isinstance(value, list):
        return [scrub_json(v, ids, texts_too=texts_too) for v in value]
    if isinstance(value, dict):
        return {
            scrub_text(k, ids, texts_too=False) if isinstance(k, str) else k: scrub_json(
                v, ids, texts_too=texts_too and k not in STRUCTURAL_KEYS
            )
            for k, v in value.items()
        }
    return value


def byte_needles(ids: Identifiers) -> list[bytes]:
    """How the identifiers look inside raw bytes: as UTF-8, and as a JSON string escapes them."""
    needles: set[bytes] = set()
    for s in ids.all():
        needles.add(s.encode())
        needles.add(json.dumps(s)[1:-1].encode())
        needles.add(json.dumps(s, ensure_ascii=False)[1:-1].encode())
    return sorted((n for n in needles if len(n) >= MIN_STRONG), key=len, reverse=True)


def scrub_bytes(value: bytes, ids: Identifiers) -> bytes:
    out = value
    for needle in byte_needles(ids):
        out = out.replace(needle, ERASED.encode())
    return out


def scrub_value(value: Any, ids: Identifiers, *, texts_too: bool = True) -> Any:
    if isinstance(value, str):
        return scrub_text(value, ids, texts_too=texts_too)
    if isinstance(value, bytes | bytearray | memoryview):
        return scrub_bytes(bytes(value), ids)
    if isinstance(value, dict | list):
        return scrub_json(value, ids)
    return value
