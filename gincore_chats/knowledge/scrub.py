"""Removing personal data from text before it becomes a knowledge-base candidate.

What goes, replaced by a placeholder a reader understands:

* email addresses -> ``[email]``;
* payment card numbers (13-19 digits passing the Luhn check) -> ``[card]``;
* phone numbers, found by Google's libphonenumber (``phonenumbers``) in international form and
  in the national forms of the regions our languages are spoken in -> ``[phone]``;
* links carrying a secret (a token, key, signature or session in the query, or a long random
  path segment) -> ``[link]``; plain links (``https://shop.example/returns``) stay;
* order, tracking, invoice and other reference numbers (five digits or more, or a code mixing
  letters and digits) -> ``[number]``; IBANs too;
* the names of the people in the conversation (the contact, the managers), as given -> ``[name]``.

The scrub is deliberately greedy: a candidate that lost a harmless number is edited by the admin
who reviews it; a candidate that kept a customer's phone number is a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import phonenumbers

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
LINK = "[link]"
NUMBER = "[number]"
NAME = "[name]"
PLACEHOLDERS = (EMAIL, PHONE, CARD, LINK, NUMBER, NAME)

#: Regions whose national phone formats are tried (besides "+<country code>" anywhere).
REGIONS = ("UA", "RU", "PL", "DE", "FR", "ES", "IT", "PT", "BR", "TR", "US", "GB")

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_CARD_RE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# A reference: 5+ digits (optionally grouped), or a code of letters and digits together.
_DIGITS_RE = re.compile(r"(?<![\w\[])#?\d(?:[\d\- /]{0,3}\d){4,}(?![\w\]])")
_CODE_RE = re.compile(r"(?<![\w\[])#?(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w-]{6,}(?![\w\]])")
_SECRET_KEYS = re.compile(
    r"token|key|sig|signature|auth|session|sess|sid|code|password|pass|pwd|secret|otp|hash|"
    r"reset|confirm|verify|invite|access|jwt|ticket|order|email|phone",
    re.IGNORECASE,
)
_RANDOM_SEGMENT = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-=.]{16,}$")
_TRAILING = ".,;:!?)]}»”"


def _luhn(digits: str) -> bool:
    total, odd = 0, False
    for ch in reversed(digits):
        n = int(ch)
        if odd:
            n *= 2
            if n > 9:
                n -= 9
        total += n
        odd = not odd
    return total % 10 == 0


def _secret_link(url: str) -> bool:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_KEYS.search(key) or _RANDOM_SEGMENT.match(value) or "@" in value:
            return True
    if parts.fragment and (len(parts.fragment) >= 16 or "=" in parts.fragment):
        return True
    if parts.username or parts.password:
        return True
    return any(_RANDOM_SEGMENT.match(seg) for seg in parts.path.split("/") if seg)


def _links(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        return (LINK if _secret_link(url) else url) + tail

    return _URL_RE.sub(replace, text)


def _cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return CARD if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)

    return _CARD_RE.sub(replace, text)


def _phones(text: str) -> str:
    spans: list[tuple[int, int]] = []
    for region in (None, *REGIONS):
        for found in phonenumbers.PhoneNumberMatcher(
            text, region or "ZZ", leniency=phonenumbers.Leniency.VALID
        ):
            # Short "numbers" (prices, years, quantities) are valid extensions somewhere.
            if sum(c.isdigit() for c in found.raw_string) >= 7:
                spans.append((found.start, found.end))
    if not spans:
        return text
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        out.append(PHONE)
        last = end
    out.append(text[last:])
    return "".join(out)


def _names(text: str, names: Iterable[str]) -> str:
    parts: set[str] = set()
    for name in names:
        value = (name or "").strip()
        if not value:
            continue
        parts.add(value)
        parts.update(p for p in re.split(r"[\s,.]+", value) if len(p) >= 2)
    # Longest first, so "Mia Manager" goes as one before "Mia" would leave "[name] Manager".
    for part in sorted(parts, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w]){re.escape(part)}(?![\w])", re.IGNORECASE)
        text = pattern.sub(NAME, text)
    return re.sub(r"\[name\](?:\s+\[name\])+", NAME, text)


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with personal data replaced by placeholders (see the module docstring)."""
    value = text or ""
    value = _EMAIL_RE.sub(EMAIL, value)
    value = _links(value)
    value = _cards(value)
    value = _IBAN_RE.sub(NUMBER, value)
    value = _phones(value)
    value = _DIGITS_RE.sub(NUMBER, value)
    value = _CODE_RE.sub(NUMBER, value)
    value = _names(value, names)
    return re.sub(r"[ \t]{2,}", " ", value).strip()


def placeholder_share(text: str) -> float:
    """How much of ``text`` is placeholders (a question that is mostly data is no question)."""
    letters = re.sub(r"\s", "", text)
    if not letters:
        return 1.0
    hidden = sum(text.count(p) * len(p) for p in PLACEHOLDERS)
    return hidden / len(letters)
