"""How the library sees a host user: the documented hooks and their defaults.

The host registers hooks on its :class:`~gincore_chats.Chats` object::

    @chats.permissions_loader
    def permissions(user):
        return {"chats.view", "chats.reply"} if user.is_staff else set()

Defaults (used when no hook is registered):

* display name: the first of ``user.name``, ``user.full_name``, ``user.display_name``,
  ``user.username``, ``user.email`` that is set, else ``"Manager <id>"``;
* avatar URL: ``user.avatar_url`` or ``None``; email: ``user.email`` or ``None``;
* permissions: ``user.chats_permissions`` (any iterable of strings) if the attribute exists,
  else every permission when ``user.is_admin`` is true, else none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .permissions import ALL_PERMISSIONS

UserHook = Callable[[Any], Any]


def _first_attr(user: Any, names: Iterable[str]) -> Any:
    for name in names:
        value = getattr(user, name, None)
        if value:
            return value
    return None


def default_display_name(user: Any) -> str:
    value = _first_attr(user, ("name", "full_name", "display_name", "username", "email"))
    return str(value) if value else f"Manager {manager_id_of(user)}"


def default_avatar_url(user: Any) -> str | None:
    value = getattr(user, "avatar_url", None)
    return str(value) if value else None


def default_email(user: Any) -> str | None:
    value = getattr(user, "email", None)
    return str(value) if value else None


def default_permissions(user: Any) -> set[str]:
    granted = getattr(user, "chats_permissions", None)
    if granted is not None:
        return {str(p) for p in granted}
    if getattr(user, "is_admin", False):
        return set(ALL_PERMISSIONS)
    return set()


def manager_id_of(user: Any) -> str:
    """Flask-Login's ``get_id()`` is a string for int, str and UUID ids alike."""
    return str(user.get_id())


@dataclass
class IdentityHooks:
    display_name: UserHook = default_display_name
    avatar_url: UserHook = default_avatar_url
    email: UserHook = default_email
    permissions: UserHook = default_permissions
    #: Returns the host users an admin may assign to sources; None lists known managers.
    candidates: Callable[[], Iterable[Any]] | None = None
    #: Hidden fields of a POST logout form (the host's CSRF token); None: logout is a link.
    logout_form: Callable[[], dict[str, str]] | None = None
    #: ``func(host_user_id) -> iterable of (label, value)`` (or a dict): what the host knows
    #: of a customer (orders, plan ...) shown as text in the panel; None shows nothing.
    customer: Callable[[str], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manager:
    """A snapshot of the current host user as the library needs it."""

    id: str
    name: str
    email: str | None
    avatar_url: str | None
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_admin(self) -> bool:
        return "chats.admin" in self.permissions


def describe(user: Any, hooks: IdentityHooks) -> Manager:
    perms = frozenset(str(p) for p in (hooks.permissions(user) or ())) & ALL_PERMISSIONS
    return Manager(
        id=manager_id_of(user),
        name=str(hooks.display_name(user) or default_display_name(user))[:200],
        email=hooks.email(user),
        avatar_url=hooks.avatar_url(user),
        permissions=perms,
    )
