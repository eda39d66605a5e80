"""The console's WebSocket: live events of the manager's inbox, and what the tab tells us
(which chat it shows, typing). Only the app's own Origin may open it (no cross-site hijacking).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request

from ... import metrics
from ...host import user_loader
from ...identity import Manager, describe
from ...permissions import Permission
from ...realtime.hub import STAFF, Subscriber
from ...realtime.session import close_socket, run_socket
from ...services import sources
from ...services.assignment import receivers as assignment
from ...services.conversations import lifecycle as conversations
from ...services.conversations import typing_status, viewing
from ...services.conversations.replay import sync_reply
from ...services.managers import presence
from ...services.managers import profiles as managers
from ...services.unit_of_work import unit_of_work
from ...state import ChatsState, get_state
from ..common import current_manager, same_origin
from ..guards import may_use_console
from .shapes import sees_customers

Reply = dict[str, Any] | None


@dataclass
class ConsoleConnection:
    """One open console tab: its manager's rights as read at connect, and what it shows."""

    state: ChatsState
    ws: Any
    manager: Manager
    inbox: Any
    socket_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sub: Subscriber = field(init=False)
    viewer: viewing.Viewer = field(init=False)

    def __post_init__(self) -> None:
        self.sub = Subscriber(
            send_text=self.ws.send,
            audience=STAFF,
            inbox_sources=self.inbox,
            manager_id=self.manager.id,
            can_view_customers=sees_customers(self.manager),
        )
        # What this tab shows: a manager looking at a chat gets no push for it.
        self.viewer = viewing.Viewer(self.state, self.manager.id, self.socket_id)

    def handle(self, msg: dict[str, Any]) -> Reply:
        op = OPS.get(msg["op"])
        if op is None:
            return {"type": "error", "message": f"Unknown op {msg['op']!r}."}
        return op(self, int(msg.get("conversation_id") or 0), msg)

    def sync(self, cid: int, msg: dict[str, Any]) -> Reply:
        conversations.access_for_manager(self.state, self.manager, cid)
        self.viewer.look_at(cid)
        return sync_reply(self.state, self.sub, cid, msg.get("after"), staff=True)

    def unfollow(self, cid: int, msg: dict[str, Any]) -> Reply:
        self.state.hub.unfollow(self.sub, cid)
        self.viewer.look_away(cid)
        return None

    def viewing(self, cid: int, msg: dict[str, Any]) -> Reply:
        # The tab was hidden or shown again (document.visibilitychange).
        if msg.get("active"):
            conversations.access_for_manager(self.state, self.manager, cid)
            self.viewer.look_at(cid)
        else:
            self.viewer.look_away(cid)
        return None

    def typing(self, cid: int, msg: dict[str, Any]) -> Reply:
        conv = conversations.access_for_manager(self.state, self.manager, cid, Permission.REPLY)
        typing_status.publish_manager_typing(
            self.state, self.manager, conv, bool(msg.get("active"))
        )
        return None

    def heartbeat(self) -> None:
        state, manager = self.state, self.manager
        presence.socket_alive(state, manager.id, self.socket_id)
        self.viewer.refresh()
        # Rights are read at connect; a socket lives for hours. If the host revoked a
        # permission or an admin changed assignments, close it: the client reconnects and
        # gets exactly its current rights.
        loader = user_loader(current_app)
        user = loader(manager.id) if loader else None
        now = describe(user, state.hooks) if user is not None else None
        if (
            now is None
            or now.permissions != manager.permissions
            or sources.visible_source_ids(state, now) != self.inbox
        ):
            close_socket(self.ws, 4001, "Permissions changed; reconnect", self.sub)


OPS: dict[str, Callable[[ConsoleConnection, int, dict[str, Any]], Reply]] = {
    "sync": ConsoleConnection.sync,
    "unfollow": ConsoleConnection.unfollow,
    "viewing": ConsoleConnection.viewing,
    "typing": ConsoleConnection.typing,
}


def console_socket(ws: Any) -> None:
    state = get_state()
    manager = current_manager(state)
    if not same_origin(state, request.headers.get("Origin")):
        close_socket(ws, 1008, "Origin not allowed")
        return
    if manager is None or not may_use_console(manager):
        close_socket(ws, 1008, "Not allowed")
        return
    inbox = sources.visible_source_ids(state, manager)
    with unit_of_work(state.session):
        managers.do_sync_profile(state, manager)
    state.db.session.remove()
    tab = ConsoleConnection(state, ws, manager, inbox)
    try:
        tab.heartbeat()
        # Connected now: conversations waiting in their sources' pools may be theirs.
        assignment.drain_for_manager(state, manager.id)
    finally:
        # Give the pooled connection back now: the socket may stay quiet for a long time.
        state.db.session.remove()
    try:
        with metrics.open_socket(state, "staff"):
            run_socket(
                ws,
                state,
                tab.sub,
                tab.handle,
                hello={"type": "hello", "manager_id": manager.id},
                idle=tab.heartbeat,
                idle_interval=presence.HEARTBEAT,
            )
    finally:
        presence.socket_closed(state, manager.id, tab.socket_id)
        tab.viewer.look_away()
