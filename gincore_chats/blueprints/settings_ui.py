"""What every settings page draws: the side navigation, people with avatars, sizes, the header.

Registered as template globals and filters by the settings blueprint (``settings.py``), so the
templates of every settings blueprint (sources, channels, widget texts, notifications) and the
console's header share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, request, url_for
from werkzeug.routing import BuildError

from .. import staff_language
from ..models import Source, SourceKind
from ..services import sources
from ..services.files import attachments
from ..services.managers import profiles as managers
from ..state import ChatsState

#: The blueprints whose pages are settings pages (the header marks "Settings" current).
SETTINGS_BLUEPRINTS = frozenset(
    {
        "gincore_chats_settings",
        "gincore_chats_channels",
        "gincore_chats_source_connection",
        "gincore_chats_widget_settings",
        "gincore_chats_notification_settings",
    }
)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    avatar_url: str | None
    initials: str
    hue: int


@dataclass(frozen=True)
class NavSource:
    id: int
    name: str
    kind: str
    active: bool
    url: str
    current: bool


def initials(name: str) -> str:
    """First letter or digit of the first and last words, as the console draws them."""
    words = ["".join(ch for ch in w if ch.isalnum()) for w in (name or "").split()]
    words = [w for w in words if w]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def hue(key: str) -> int:
    # The console's hash (console-core.js), so a manager has one colour everywhere.
    h = 0
    for ch in key:
        h = (h * 31 + ord(ch)) % 360
    return (h * 137) % 360


def safe_image(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") or (not parts.scheme and url.startswith("/")):
        return url
    return None


def people(state: ChatsState, manager_ids: Any) -> list[Person]:
    """Managers by name and avatar, sorted by name; names from the profiles, else the host."""
    ids = {str(i) for i in manager_ids or ()}
    if not ids:
        return []
    known = managers.profiles(state, ids)
    missing = ids - set(known)
    names: dict[str, str] = {}
    if missing:
        # The host's candidates hook, once per request.
        if "gincore_chats_candidates" not in g:
            g.gincore_chats_candidates = dict(managers.candidates(state))
        names = g.gincore_chats_candidates
    result = []
    for mid in ids:
        profile = known.get(mid)
        name = profile.display_name if profile else names.get(mid, f"User {mid}")
        avatar = safe_image(profile.avatar_url if profile else None)
        result.append(Person(mid, name, avatar, initials(name), hue(mid)))
    return sorted(result, key=lambda p: p.name.lower())


def settings_nav(state: ChatsState, current_source_id: int | None = None) -> list[NavSource]:
    def url(source: Source) -> str:
        if source.kind == SourceKind.WIDGET:
            return url_for("gincore_chats_settings.edit_source", source_id=source.id)
        return url_for("gincore_chats_channels.edit", source_id=source.id)

    return [
        NavSource(s.id, s.name, s.kind, s.active, url(s), s.id == current_source_id)
        for s in sources.list_sources(state)
    ]


def link(value: str | None) -> str | None:
    """A URL as configured, or the URL of an endpoint name ("auth.logout")."""
    if not value:
        return None
    if "/" in value or ":" in value:
        return value
    try:
        return url_for(value)
    except BuildError as exc:
        raise RuntimeError(
            f"gincore-chats: {value!r} is neither a URL nor an endpoint of this app "
            "(CHATS_HOME_URL / CHATS_LOGOUT_URL)"
        ) from exc


def header(state: ChatsState) -> dict[str, Any]:
    """The header's links: back to the host's site, log out, and which page is current."""
    config = state.config
    fields = state.hooks.logout_form() if state.hooks.logout_form is not None else None
    return {
        "home_url": link(config.home_url),
        "home_label": config.home_label,
        "logout_url": link(config.logout_url),
        # A host whose logout view wants a POST (with its own CSRF field) registers the form's
        # hidden fields with @chats.logout_form_loader; otherwise the logout is a plain link.
        "logout_fields": fields,
        "in_settings": request.blueprint in SETTINGS_BLUEPRINTS,
    }


def register(bp: Blueprint, state: ChatsState) -> None:
    bp.add_app_template_global(lambda ids: people(state, ids), "gincore_chats_people")
    bp.add_app_template_global(
        lambda current=None: settings_nav(state, current), "gincore_chats_settings_nav"
    )
    bp.add_app_template_global(lambda: header(state), "gincore_chats_header")
    bp.add_app_template_filter(attachments.human_size, "gincore_chats_size")
    # Dates and numbers in the page's language (staff_language forced it for the request).
    bp.add_app_template_filter(staff_language.format_utc_datetime, "gincore_chats_datetime")
    bp.add_app_template_filter(staff_language.format_utc_date, "gincore_chats_date")
    bp.add_app_template_filter(staff_language.format_number, "gincore_chats_number")
