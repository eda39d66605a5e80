"""Inquiry sources: create, configure, assign employees, and who may see which."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from ..identity import Manager
from ..models import Source, SourceEmployee, SourceKind
from ..origins import Origin, parse_origin
from ..permissions import Permission, PermissionDenied
from ..state import ChatsState
from .cached import cached, changed

_DOMAIN_RE = re.compile(r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+(:\d{1,5})?$")


class SourceError(ValueError):
    """Invalid source settings; the message is shown to the admin."""


def normalize_domains(raw: Iterable[str] | str) -> list[str]:
    """Accept domains, ``*.example.com`` wildcards, ``host:port``, or pasted URLs."""
    items = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    result: list[str] = []
    for item in items:
        value = item.strip().lower()
        if not value:
            continue
        if "://" in value:
            value = urlsplit(value).netloc
        value = value.rstrip("/")
        if not _DOMAIN_RE.match(value):
            raise SourceError(f"{item.strip()!r} is not a domain (example: shop.example.com)")
        if value not in result:
            result.append(value)
    return result


def origin_allowed(source: Source, origin: str | Origin | None) -> bool:
    """Is this page origin one of the source's allowed domains?

    Only a serialised origin (``scheme://host[:port]``, RFC 6454) can match: ``null``, or a
    value with a path, query or user info, is refused whatever the domains say.
    """
    parsed = origin if isinstance(origin, Origin) else parse_origin(origin)
    if parsed is None:
        return False
    for allowed in source.allowed_domains or ():
        # A port in the rule must match exactly; a rule without one matches any port.
        candidate = parsed.netloc if ":" in allowed.split("*.")[-1] else parsed.host
        if allowed.startswith("*."):
            base = allowed[2:]
            if candidate == base or candidate.endswith("." + base):
                return True
        elif allowed == candidate:
            return True
    return False


def do_create_widget_source(
    state: ChatsState,
    name: str,
    domains: Iterable[str] | str,
    settings: dict[str, Any] | None = None,
) -> Source:
    name = (name or "").strip()
    if not name:
        raise SourceError("Give the source a name.")
    source = Source(
        kind=SourceKind.WIDGET,
        name=name[:200],
        public_key=secrets.token_urlsafe(16),
        allowed_domains=normalize_domains(domains),
        settings=dict(settings or {}),
    )
    state.session.add(source)
    state.session.flush()
    return source


def do_update_source(
    state: ChatsState,
    source: Source,
    *,
    name: str | None = None,
    domains: Any = None,
    active: bool | None = None,
) -> Source:
    if name is not None:
        if not name.strip():
            raise SourceError("Give the source a name.")
        source.name = name.strip()[:200]
    if domains is not None:
        source.allowed_domains = normalize_domains(domains)
    if active is not None:
        source.active = active
    return source


def do_set_employees(state: ChatsState, source: Source, manager_ids: Iterable[str]) -> None:
    wanted = {str(m) for m in manager_ids if str(m).strip()}
    for link in list(source.employees):
        if link.manager_id not in wanted:
            source.employees.remove(link)
            changed(state, _sources_key(link.manager_id))
    have = source.employee_ids
    for mid in sorted(wanted - have):
        source.employees.append(SourceEmployee(manager_id=mid))
        changed(state, _sources_key(mid))


def get_by_key(state: ChatsState, public_key: str) -> Source | None:
    return state.session.scalar(select(Source).where(Source.public_key == public_key))


def list_sources(state: ChatsState) -> list[Source]:
    return list(state.session.scalars(select(Source).order_by(Source.id)))


def visible_source_ids(state: ChatsState, manager: Manager) -> set[int] | None:
    """Source ids the manager works on; None means every source (admins)."""
    if manager.is_admin:
        return None

    def load() -> frozenset[int]:
        rows = state.session.scalars(
            select(SourceEmployee.source_id).where(SourceEmployee.manager_id == manager.id)
        )
        return frozenset(rows)

    # Asked on every console request: from the per-process cache (do_set_employees drops it).
    return set(cached(state, _sources_key(manager.id), load))


def _sources_key(manager_id: str) -> tuple[str, str]:
    return ("source_ids", manager_id)


def require_source_access(state: ChatsState, manager: Manager, source_id: int) -> None:
    if not manager.can(Permission.VIEW) and not manager.is_admin:
        raise PermissionDenied("You need the chats.view permission.", Permission.VIEW)
    visible = visible_source_ids(state, manager)
    if visible is not None and source_id not in visible:
        raise PermissionDenied(
            "You are not assigned to this conversation's source; ask an admin to add you.",
            Permission.VIEW,
        )
