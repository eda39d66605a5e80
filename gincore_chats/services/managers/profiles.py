"""Manager profiles: the library's cache of host users' names, avatars and emails."""

from __future__ import annotations

from sqlalchemy import select

from ...identity import Manager, describe
from ...models import ManagerProfile, Presence, utcnow
from ...state import ChatsState


def do_sync_profile(state: ChatsState, manager: Manager) -> ManagerProfile:
    """Refresh the cached name/avatar/email when the manager uses the console."""
    profile = state.session.get(ManagerProfile, manager.id)
    if profile is None:
        profile = ManagerProfile(manager_id=manager.id, presence=Presence.ONLINE)
        state.session.add(profile)
    profile.display_name = manager.name
    profile.email = manager.email
    profile.avatar_url = manager.avatar_url
    profile.last_seen_at = utcnow()
    return profile


def do_set_email_notifications(
    state: ChatsState, manager: Manager, enabled: bool
) -> ManagerProfile:
    """The manager's own switch for "unread chat" emails."""
    profile = do_sync_profile(state, manager)
    profile.email_notifications = enabled
    return profile


def profiles(state: ChatsState, manager_ids: set[str]) -> dict[str, ManagerProfile]:
    if not manager_ids:
        return {}
    rows = state.session.scalars(
        select(ManagerProfile).where(ManagerProfile.manager_id.in_(manager_ids))
    )
    return {p.manager_id: p for p in rows}


def candidates(state: ChatsState) -> list[tuple[str, str]]:
    """(manager id, display name) pairs an admin can assign to sources."""
    hook = state.hooks.candidates
    if hook is not None:
        pairs = []
        for user in hook():
            m = describe(user, state.hooks)
            pairs.append((m.id, m.name))
        return sorted(pairs, key=lambda p: p[1].lower())
    rows = state.session.scalars(select(ManagerProfile).order_by(ManagerProfile.display_name))
    return [(p.manager_id, p.display_name) for p in rows]
