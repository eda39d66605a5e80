"""Who hears about a conversation: the managers answering it, and where their emails go."""

from __future__ import annotations

import logging

from sqlalchemy import select

from ...host import UserLoader
from ...identity import describe
from ...models import Conversation, ManagerProfile
from ...state import ChatsState

log = logging.getLogger(__name__)


def responsible_ids(conv: Conversation) -> set[str]:
    """The managers in the conversation, else every employee of its source.

    Once somebody has joined, their colleagues are not alerted any more: the chat has an owner
    (the flood of alerts to a whole team is what users of other inboxes complain about).
    """
    return set(conv.active_manager_ids) or set(conv.source.employee_ids)


def watcher_ids(conv: Conversation) -> set[str]:
    """Managers whose reading counts as "somebody read it": employees and participants."""
    return set(conv.source.employee_ids) | set(conv.active_manager_ids)


def email_addresses(
    state: ChatsState, manager_ids: set[str], load_user: UserLoader | None
) -> dict[str, str]:
    """Addresses of the managers who want notification emails (their own switch).

    The profile caches the address the host's ``email_loader`` gave when the manager last used
    the console; a manager who never opened it is looked up through ``load_user`` (the host's
    Flask-Login user loader, see :func:`gincore_chats.host.user_loader`).
    """
    if not manager_ids:
        return {}
    result: dict[str, str] = {}
    profiles = {
        p.manager_id: p
        for p in state.session.scalars(
            select(ManagerProfile).where(ManagerProfile.manager_id.in_(manager_ids))
        )
    }
    for mid in sorted(manager_ids):
        profile = profiles.get(mid)
        if profile is not None:
            if profile.email_notifications and profile.email:
                result[mid] = profile.email
            continue
        email = _host_email(state, mid, load_user)
        if email:
            result[mid] = email
    return result


def _host_email(state: ChatsState, manager_id: str, load_user: UserLoader | None) -> str | None:
    if load_user is None:
        return None
    try:
        user = load_user(manager_id)
    except Exception:  # the host's loader; an error there must not stop the other emails
        log.exception("gincore_chats: loading user %s for a notification email failed", manager_id)
        return None
    return describe(user, state.hooks).email if user is not None else None


def admin_addresses(state: ChatsState) -> list[str]:
    """Where the admins' alerts go (a failing source, a disabled webhook endpoint, an AI
    provider that keeps failing): the admins among the host's candidates, with an address."""
    if state.hooks.candidates is None:
        return []
    found = set()
    for user in state.hooks.candidates():
        manager = describe(user, state.hooks)
        if manager.is_admin and manager.email:
            found.add(manager.email)
    return sorted(found)
