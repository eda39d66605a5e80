"""A widget source's consent options: what the widget says about data processing, and the link.

Three modes, in the source's ``settings`` (``consent_mode``; sources saved before the modes
existed have ``consent_required``):

* ``off``: the widget says nothing about consent;
* ``notice``: an informational line (the ``consent_notice`` text, per language) with the policy
  link; nothing to tick, sending is not gated;
* ``required``: a checkbox (the ``consent`` text) the visitor must tick before the first message
  or file; the widget API refuses to store anything before (``blueprints.widget``), and each
  consent is recorded with the exact text the visitor saw
  (``services.contacts.do_record_consent``).

A checkbox that gates nothing is never shown: it would tell the visitor a choice exists where
none does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...babel import N_
from ...models import Source
from ...state import ChatsState
from ..errors import TranslatableError

OFF, NOTICE, REQUIRED = "off", "notice", "required"
MODES = (OFF, NOTICE, REQUIRED)
MAX_URL = 1000


class ConsentOptionsError(TranslatableError):
    pass


def consent_mode(source: Source) -> str:
    settings = source.settings or {}
    mode = settings.get("consent_mode")
    if mode in MODES:
        return str(mode)
    return REQUIRED if settings.get("consent_required") else OFF


def consent_required(source: Source) -> bool:
    return consent_mode(source) == REQUIRED


def consent_options(source: Source) -> dict[str, Any]:
    mode = consent_mode(source)
    return {
        "mode": mode,
        "required": mode == REQUIRED,
        "privacy_url": (source.settings or {}).get("privacy_url") or None,
    }


def clean_privacy_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    # The widget opens it in a new tab from the visitor's page: a web page, nothing else.
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise ConsentOptionsError(
            N_(
                "The privacy policy link must be a full http:// or https:// address "
                "(at most %(max)d characters), e.g. https://shop.example.com/privacy."
            ),
            max=MAX_URL,
        )
    return url


def do_set_consent_options(
    state: ChatsState, source: Source, *, mode: str, privacy_url: str | None
) -> None:
    if mode not in MODES:
        raise ConsentOptionsError(
            N_("Choose one of the consent options (%(modes)s)."), modes=", ".join(MODES)
        )
    settings = dict(source.settings or {})
    settings["consent_mode"] = mode
    settings.pop("consent_required", None)
    url = clean_privacy_url(privacy_url)
    if url:
        settings["privacy_url"] = url
    else:
        settings.pop("privacy_url", None)
    # A new dict, so the JSON column is seen as changed.
    source.settings = settings
