"""The permission strings a host grants its users, and the checks built on them."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    #: See the console and the conversations of assigned sources.
    VIEW = "chats.view"
    #: Join conversations and write in them.
    REPLY = "chats.reply"
    #: See the customer panel (contact details and visitor context).
    CUSTOMERS_VIEW = "customers.view"
    #: Edit customer fields and internal notes.
    CUSTOMERS_EDIT = "customers.edit"
    #: Settings pages; sees every source whether assigned or not.
    ADMIN = "chats.admin"


ALL_PERMISSIONS: frozenset[str] = frozenset(p.value for p in Permission)


class PermissionDenied(Exception):
    """Raised by services; blueprints turn it into a 403 with this message."""

    def __init__(self, message: str, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission
