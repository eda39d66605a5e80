"""Which language a question is in (py3langid, limited to the languages we ship).

Short texts are hard: "доставка" is both Ukrainian and Russian. :func:`detect` therefore
takes a hint (the conversation's language) and prefers it whenever the text is written in the
hint's script and the detector is not sure.
"""

from __future__ import annotations

import functools
import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .text import primary

#: Languages the library ships catalogs for, and English.
LANGUAGES = ("en", "uk", "ru", "pl", "de", "fr", "es", "it", "pt", "tr")
#: Below this probability the detector's answer is a guess.
CONFIDENT = 0.8

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_UK_ONLY = re.compile(r"[іїєґ]", re.IGNORECASE)
_RU_ONLY = re.compile(r"[ыэъё]", re.IGNORECASE)
_lock = threading.Lock()


@functools.cache
def _identifier() -> LanguageIdentifier:
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def script(text: str) -> str | None:
    """``"cyrillic"``, ``"latin"`` or None (no letters)."""
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    if not cyr and not lat:
        return None
    return "cyrillic" if cyr >= lat else "latin"


def _script_of(language: str) -> str:
    return "cyrillic" if language in ("uk", "ru") else "latin"


def detect(text: str, hint: str | None = None) -> str | None:
    """The primary language subtag of ``text``, or None when it has no letters at all."""
    value = (text or "").strip()
    written = script(value)
    if written is None:
        return primary(hint) or None
    # Letters only one of the two alphabets has settle Ukrainian against Russian outright.
    if written == "cyrillic":
        uk, ru = bool(_UK_ONLY.search(value)), bool(_RU_ONLY.search(value))
        if uk != ru:
            return "uk" if uk else "ru"
    with _lock:  # the identifier keeps per-call buffers
        found, probability = _identifier().classify(value)
    hinted = primary(hint)
    if hinted and probability < CONFIDENT and _script_of(hinted) == written:
        return hinted
    if _script_of(str(found)) != written:
        return hinted if hinted and _script_of(hinted) == written else None
    return str(found)


def detect_pair(question: str, answer: str, hint: str | None = None) -> str | None:
    """A pair's language: the answer is usually longer and in the same language."""
    return detect(f"{question}\n{answer}", hint)
