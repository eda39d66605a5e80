"""The raw floor for ``hop_latency.py``: a bare relay with no database and no chat logic.

A frame sent on ``/ws`` (or a body POSTed to ``/publish``) is PUBLISHed to one Redis channel;
every process runs one listener that forwards each published message to all of its local
listening sockets, under a per-socket send lock (the same shape as ``gincore_chats.realtime.hub``).

Run it like the chat host: ``gunicorn -k gevent bench.relay_app:app`` with ``RELAY_REDIS_URL``
and ``RELAY_CHANNEL`` in the environment.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import redis
from flask import Flask, request
from flask_sock import Sock

REDIS_URL = os.environ.get("RELAY_REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL = os.environ.get("RELAY_CHANNEL", "bench-relay")

app = Flask(__name__)
app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": None, "max_message_size": 64 * 1024}
sock = Sock(app)
client = redis.Redis.from_url(REDIS_URL)

_lock = threading.Lock()
_listeners: set[tuple[Any, threading.Lock]] = set()
_thread: threading.Thread | None = None


def _listen() -> None:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    for message in pubsub.listen():
        if message.get("type") != "message":
            continue
        data = message["data"].decode()
        with _lock:
            targets = list(_listeners)
        for ws, send_lock in targets:
            with send_lock, contextlib.suppress(Exception):
                ws.send(data)


def _ensure_listener() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_listen, name="relay-listener", daemon=True)
            _thread.start()


@app.get("/")
def ready() -> str:
    return "relay"


@app.post("/publish")
def publish() -> tuple[str, int]:
    client.publish(CHANNEL, request.get_data(as_text=True))
    return "", 204


@sock.route("/ws")
def relay(ws: Any) -> None:
    """``/ws?listen=1`` receives everything published; any socket may send."""
    _ensure_listener()
    entry = (ws, threading.Lock())
    listening = request.args.get("listen") == "1"
    if listening:
        with _lock:
            _listeners.add(entry)
    try:
        while True:
            data = ws.receive()
            if data is None:
                continue
            client.publish(CHANNEL, data)
    finally:
        with _lock:
            _listeners.discard(entry)
