"""The language of the console, the settings pages and the emails to managers.

Visitors get the widget's language (chosen per conversation, see services.widget.texts); staff get
the host's: the host's Flask-Babel locale selector when it has one, else the browser's
Accept-Language, else English. ``CHATS_CONSOLE_LOCALE`` pins one language for every manager.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import force_locale, get_babel, get_locale
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from .babel import TRANSLATIONS, domain
from .script_texts import page_texts

# The library's blueprints that are not staff pages: the widget speaks the visitor's language,
# webhooks and the REST API speak JSON to machines.
NOT_STAFF = frozenset(
    {
        "gincore_chats_widget",
        "gincore_chats_knowledge_widget",
        "gincore_chats_webhooks",
        "gincore_chats_api",
        "gincore_chats_health",
        "gincore_chats_files",
    }
)


@functools.cache
def catalog_locales() -> tuple[str, ...]:
    """Babel locale names with a compiled catalog, English (the source language) first."""
    found = ["en"]
    if os.path.isdir(TRANSLATIONS):
        for name in sorted(os.listdir(TRANSLATIONS)):
            if os.path.exists(os.path.join(TRANSLATIONS, name, "LC_MESSAGES", "gincore_chats.mo")):
                found.append(name)
    return tuple(found)


def best_locale(preferred: Iterable[str]) -> str | None:
    """The first of ``preferred`` (tags like "pt-BR", "de_AT", "uk") we have a catalog for."""
    by_key = {name.lower(): name for name in catalog_locales()}
    for raw in preferred:
        tag = str(raw or "").strip().replace("-", "_").lower()
        if not tag:
            continue
        if tag in by_key:
            return by_key[tag]
        primary = tag.split("_")[0]
        if primary in by_key:
            return by_key[primary]
    return None


def _host_selected() -> str | None:
    babel = get_babel()
    if babel.locale_selector is None:
        return None
    chosen = babel.locale_selector()
    return str(chosen) if chosen else None


def staff_locale() -> str:
    """The locale for the current staff request (see the module docstring)."""
    pinned = current_app.config.get("CHATS_CONSOLE_LOCALE")
    if pinned:
        return best_locale([pinned]) or "en"
    host = _host_selected()
    if host:
        return best_locale([host]) or "en"
    browser = [tag for tag, _quality in request.accept_languages]
    return best_locale(browser) or "en"


def locale_tag(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>`` and ``Intl`` in the browser ("pt_BR" -> "pt-BR")."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return "en"
    return "-".join(part for part in (parsed.language, parsed.territory) if part)


def _is_staff_request() -> bool:
    # Templates rendered outside a request (emails in the worker) choose their own locale.
    if not has_request_context():
        return False
    name = request.blueprint or ""
    return name.startswith("gincore_chats") and name not in NOT_STAFF


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    """Our domain's gettext as Jinja's own (newstyle) one behaves: in an autoescaped template
    the catalog's text is trusted markup (``<strong>`` in a ``{% trans %}`` stays a tag) and
    only the values put into it are escaped."""
    text: str = str(domain.gettext(message))
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables else text


def translation_names() -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` bound to the library's domain, for our templates.

    The host's Flask-Babel installs its own domain's callables as Jinja globals; context
    variables win over globals, so our templates translate from our catalog while the host's
    keep theirs. ``{% trans %}`` blocks look ``gettext`` up the same way. Templates imported as
    macros need ``with context`` to see these.
    """
    return {
        "_": template_gettext,
        "gettext": template_gettext,
        "ngettext": domain.ngettext,
        "pgettext": domain.pgettext,
        "chats_locale": locale_tag(str(g.get("gincore_chats_locale") or "en")),
        "chats_script_texts": _script_texts,
    }


def _script_texts() -> dict[str, Any]:
    return page_texts(locale_tag(str(g.get("gincore_chats_locale") or "en")))


def init_staff_language(app: Flask) -> None:
    @app.before_request
    def _pick_staff_locale() -> None:
        if not _is_staff_request():
            return
        locale = staff_locale()
        manager = force_locale(locale)
        manager.__enter__()
        g.gincore_chats_locale = locale
        g.gincore_chats_locale_manager = manager

    @app.teardown_request
    def _drop_staff_locale(_exc: BaseException | None) -> None:
        manager = g.pop("gincore_chats_locale_manager", None)
        if manager is not None:
            manager.__exit__(None, None, None)

    @app.context_processor
    def _staff_translations() -> dict[str, Any]:
        if not _is_staff_request():
            return {}
        return translation_names()


def _current_locale() -> Locale:
    return get_locale() or Locale.parse("en")


def format_utc_datetime(value: datetime, format: str = "medium") -> str:
    """A timestamp in the page's locale, in UTC (the settings pages label their columns UTC;
    Flask-Babel's filter would use the host's time zone selector instead)."""
    return format_datetime(value, format, tzinfo=UTC, locale=_current_locale())


def format_utc_date(value: date | datetime, format: str = "medium") -> str:
    return format_date(value, format, locale=_current_locale())


def format_number(value: float | int) -> str:
    return format_decimal(value, locale=_current_locale())
