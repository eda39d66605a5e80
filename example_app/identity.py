"""How the demo's users become gincore-chats managers: the documented hooks.

The display name and email come from the library's defaults (``user.name``, ``user.email``),
so only permissions and the list of assignable users need a hook here.
"""

from __future__ import annotations

from gincore_chats import Permission

from .extensions import chats, db, login_manager
from .models import Role, User

#: A manager works the inbox and the customer panel; settings stay with the admin.
MANAGER_PERMISSIONS: frozenset[str] = frozenset(
    {
        Permission.VIEW.value,
        Permission.REPLY.value,
        Permission.CUSTOMERS_VIEW.value,
        Permission.CUSTOMERS_EDIT.value,
    }
)
ADMIN_PERMISSIONS: frozenset[str] = frozenset(p.value for p in Permission)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        # A cookie from another app on the same host name: treat as logged out.
        return None


@chats.permissions_loader
def user_permissions(user: User) -> set[str]:
    if user.role == Role.ADMIN.value:
        return set(ADMIN_PERMISSIONS)
    if user.role == Role.MANAGER.value:
        return set(MANAGER_PERMISSIONS)
    return set()


@chats.candidates_loader
def assignable_users() -> list[User]:
    """Everyone with a role may be assigned to a source on the settings page."""
    roles = [Role.ADMIN.value, Role.MANAGER.value]
    return list(db.session.scalars(db.select(User).where(User.role.in_(roles)).order_by(User.id)))
