"""Typing indicators: ephemeral, never stored, published straight to the hub.

The visitor's unsent text (the "live preview") is a Pro feature. On other plans the widget is told
not to send it, and the server drops any text it receives anyway, so the text never reaches a
manager's socket. Visitor typing goes to staff only; manager typing shows to the visitor without
any text.
"""

from __future__ import annotations

from typing import Any

from ...identity import Manager
from ...models import Conversation, Source
from ...permissions import Permission, PermissionDenied
from ...state import ChatsState

MAX_PREVIEW = 1000


def preview_enabled(state: ChatsState, source: Source) -> bool:
    """The source's own plan setting wins over ``CHATS_PLAN``."""
    plan = (source.settings or {}).get("plan") or state.config.plan
    return str(plan).lower() == "pro"


def _publish(
    state: ChatsState, conversation_id: int, visibility: str, data: dict[str, Any]
) -> None:
    state.hub.publish(
        {
            "route": "conversation",
            "conversation_id": conversation_id,
            "visibility": visibility,
            "data": {"type": "typing", "conversation_id": conversation_id, **data},
        }
    )


def publish_manager_typing(
    state: ChatsState, manager: Manager, conv: Conversation, active: bool
) -> None:
    if not manager.can(Permission.REPLY) or manager.id not in conv.active_manager_ids:
        raise PermissionDenied("Join the conversation first.", Permission.REPLY)
    _publish(
        state,
        conv.id,
        "public",
        {"who": "manager", "manager_id": manager.id, "name": manager.name, "active": bool(active)},
    )


def publish_visitor_typing(state: ChatsState, conv: Conversation, active: bool, text: Any) -> None:
    data: dict[str, Any] = {"who": "customer", "active": bool(active)}
    if active and isinstance(text, str) and preview_enabled(state, conv.source):
        data["preview"] = text[:MAX_PREVIEW]
    _publish(state, conv.id, "staff", data)
