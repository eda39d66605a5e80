"""Answers are plain text with links: what an admin pastes is cleaned to that.

HTML is reduced to its text (a link ``<a href="u">t</a>`` becomes ``t (u)``), control
characters go, line breaks are kept, and runs of blank lines shrink to one. Links are shown as
links by the console and the widget, which only ever put text into the page.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_ANSWER = 5000
MAX_QUESTION = 500

_ANCHOR = re.compile(
    r"<a\b[^>]*?href\s*=\s*([\"'])(.*?)\1[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL
)
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_SAFE_SCHEME = re.compile(r"^(?:https?:|mailto:|tel:)", re.IGNORECASE)


def _anchor(match: re.Match[str]) -> str:
    href, text = match.group(2).strip(), _TAG.sub("", match.group(3)).strip()
    if not _SAFE_SCHEME.match(href) or not href:
        return text
    return href if not text or text == href else f"{text} ({href})"


def plain_text(value: str, limit: int = MAX_ANSWER) -> str:
    text = value or ""
    if "<" in text and ">" in text:
        text = _DROP.sub("", text)
        text = _ANCHOR.sub(_anchor, text)
        text = _ITEM.sub("\n• ", text)
        text = _BREAK.sub("\n", text)
        text = _TAG.sub("", text)
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C").replace(
        "\t", " "
    )
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text[:limit]


def one_line(value: str, limit: int = MAX_QUESTION) -> str:
    """A question: plain text on one line."""
    return re.sub(r"\s+", " ", plain_text(value, limit * 2)).strip()[:limit]
