"""The loop behind every WebSocket: register with the hub, read ops, answer, clean up.

Wire protocol (JSON text frames). Client to server:

* ``{"op": "sync", "conversation_id": 7, "after": 41}``: follow conversation 7 and replay every
  event after sequence 41 from the database (``services.replay``), then ``{"type": "synced",
  "conversation_id": 7, "upto": N, "more": false}``. All events up to ``upto`` that this
  client may see were sent.
* ``{"op": "typing", ...}`` and other ops: handled by the blueprint's handler.
* ``{"op": "ping"}``: answered with ``{"type": "pong"}`` (protocol pings are automatic too).

Server to client: ``{"type": "event", "conversation_id", "seq", "event", "data", ...}``,
``{"type": "conversation", ...}`` (console list rows), ``{"type": "resync"}`` (the server lost
events in transit: sync every followed conversation again), ``{"type": "error", "message"}``.

Clients keep, per conversation, the set of sequence numbers seen and the highest contiguous one
(the floor). A live event above floor+1 (a gap: an event still in transit, or one the client may
not see) triggers a sync from the floor; ``upto`` then moves the floor. Duplicates are dropped
by sequence number, so each event is shown exactly once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, Protocol

from simple_websocket import ConnectionClosed

from ..json_input import JsonInputError, decode
from ..permissions import PermissionDenied
from .hub import Hub, Subscriber

log = logging.getLogger(__name__)

OpHandler = Callable[[dict[str, Any]], dict[str, Any] | None]

#: How long a server-side close waits for the client's close frame (the closing handshake).
CLOSE_HANDSHAKE_TIMEOUT = 5.0


def close_socket(ws: Any, code: int, message: str, sub: Subscriber | None = None) -> None:
    """Close ``ws`` from the server side, then wait for the client's close frame.

    simple-websocket's reader thread reads the client's answer. If the view returned first,
    the WSGI server could read it instead: Werkzeug (2.3+) drains the request stream after the
    response and blocks there until the client hangs up, while the client, having answered,
    waits for the server to close TCP (odoo/odoo#166231 hit the same drain). So the view
    returns only once the handshake is done (or the client stayed silent for
    :data:`CLOSE_HANDSHAKE_TIMEOUT`).
    """
    # wsproto is not thread-safe: the hub's listener may be sending on this socket right now.
    with sub.lock if sub is not None else nullcontext():
        if sub is not None:
            sub.closed = True
        try:
            ws.close(reason=code, message=message)
        except ConnectionClosed:
            return  # the client closed first; its frame is already answered
    reader = getattr(ws, "thread", None)
    if isinstance(reader, threading.Thread) and reader is not threading.current_thread():
        reader.join(CLOSE_HANDSHAKE_TIMEOUT)


def refuse_compression(environ: dict[str, Any]) -> None:
    """Make the WebSocket handshake in ``environ`` offer no extension (no permessage-deflate).

    simple-websocket accepts permessage-deflate whenever the client offers it, and browsers
    always do; its zlib contexts cost about 100 KB per socket once a frame has flowed
    (bench/idle_sockets.py: 164 KB a socket with it, 64 KB without), while chat frames are
    small JSON that compress to little. The handshake is rebuilt from the ``HTTP_*`` keys, so
    without the offer the socket is plain; clients must accept that (RFC 6455 section 9.1).
    """
    if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


class SocketState(Protocol):
    """What a socket needs of the app's ChatsState; realtime sits below the state (which knows
    the config, the channels and the AI), so it names only these two."""

    @property
    def hub(self) -> Hub: ...

    @property
    def db(self) -> Any: ...


def run_socket(
    ws: Any,
    state: SocketState,
    sub: Subscriber,
    handle: OpHandler,
    *,
    hello: dict[str, Any],
    idle: Callable[[], None] | None = None,
    idle_interval: float = 30.0,
) -> None:
    hub = state.hub
    hub.register(sub)
    last_idle = time.monotonic()
    try:
        sub.send(json.dumps(hello))
        while not sub.closed:
            raw = ws.receive(timeout=idle_interval)
            if idle is not None and time.monotonic() - last_idle >= idle_interval:
                last_idle = time.monotonic()
                _with_session(state, idle)
            if raw is None:
                continue
            reply = _dispatch(state, raw, handle)
            if reply is not None:
                sub.send(json.dumps(reply, default=str))
    except ConnectionClosed:
        pass
    finally:
        hub.unregister(sub)
        state.db.session.remove()


def _with_session(state: SocketState, func: Callable[[], Any]) -> Any:
    try:
        return func()
    finally:
        # A socket lives for hours: never keep a transaction (and a pooled connection) open
        # between ops.
        state.db.session.remove()


def _dispatch(state: SocketState, raw: Any, handle: OpHandler) -> dict[str, Any] | None:
    try:
        msg = decode(raw)
    except JsonInputError as exc:
        return {"type": "error", "message": f"Frames must be JSON objects. {exc}"}
    if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
        return {"type": "error", "message": "Frames need an 'op'."}
    if msg["op"] == "ping":
        return {"type": "pong"}
    try:
        return _with_session(state, lambda: handle(msg))
    except Exception as exc:  # an op must never kill the socket
        if isinstance(exc, PermissionDenied | LookupError | ValueError):
            return {"type": "error", "op": msg["op"], "message": str(exc), "ref": msg.get("ref")}
        log.exception("gincore_chats: socket op %r failed", msg["op"])
        return {
            "type": "error",
            "op": msg["op"],
            "message": "Internal error.",
            "ref": msg.get("ref"),
        }
