"""A widget source's consent options: must the visitor agree before sending, and the policy link.

Both live in the source's ``settings`` (``consent_required``, ``privacy_url``); the consent text
itself is a widget text (``consent``), per language. The widget API enforces the requirement
(``blueprints.widget``) and records each visitor's consent with the exact text they saw
(``services.contacts.do_record_consent``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..models import Source
from ..state import ChatsState

MAX_URL = 1000


class ConsentOptionsError(ValueError):
    pass


def consent_options(source: Source) -> dict[str, Any]:
    settings = source.settings or {}
    return {
        "required": bool(settings.get("consent_required")),
        "privacy_url": settings.get("privacy_url") or None,
    }


def clean_privacy_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    # The widget opens it in a new tab from the visitor's page: a web page, nothing else.
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise ConsentOptionsError(
            "The privacy policy link must be a full http:// or https:// address "
            f"(at most {MAX_URL} characters), e.g. https://shop.example.com/privacy."
        )
    return url


def do_set_consent_options(
    state: ChatsState, source: Source, *, required: bool, privacy_url: str | None
) -> None:
    settings = dict(source.settings or {})
    settings["consent_required"] = bool(required)
    url = clean_privacy_url(privacy_url)
    if url:
        settings["privacy_url"] = url
    else:
        settings.pop("privacy_url", None)
    # A new dict, so the JSON column is seen as changed.
    source.settings = settings
