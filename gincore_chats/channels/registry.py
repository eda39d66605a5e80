"""Which adapter serves which source kind.

Built-in adapters are imported on first use (by dotted path), so importing the library never
imports every platform client. A host or a test may :func:`register` its own adapter for a kind.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Channel

#: kind -> "module:Class" of the built-in adapters (classes take no arguments).
BUILTIN: dict[str, str] = {
    "telegram": "gincore_chats.channels.telegram:TelegramChannel",
    "whatsapp": "gincore_chats.channels.whatsapp:WhatsAppChannel",
    "viber": "gincore_chats.channels.viber:ViberChannel",
    "messenger": "gincore_chats.channels.messenger:MessengerChannel",
    "instagram": "gincore_chats.channels.instagram:InstagramChannel",
    "generic": "gincore_chats.channels.generic:GenericChannel",
}

#: What the settings pages call each kind.
LABELS: dict[str, str] = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "viber": "Viber",
    "messenger": "Facebook Messenger",
    "instagram": "Instagram",
    "generic": "Other connected source (HTTP API)",
}

_adapters: dict[str, Channel] = {}


def register(adapter: Channel) -> None:
    """Use ``adapter`` for sources of ``adapter.kind`` (replaces a built-in one)."""
    _adapters[adapter.kind] = adapter


def unregister(kind: str) -> None:
    _adapters.pop(kind, None)


def get_adapter(kind: str) -> Channel | None:
    """The adapter for a source kind, or None (the website widget has none)."""
    adapter = _adapters.get(kind)
    if adapter is None and kind in BUILTIN:
        module, _, name = BUILTIN[kind].partition(":")
        adapter = getattr(importlib.import_module(module), name)()
        _adapters[kind] = adapter
    return adapter


def channel_kinds() -> list[str]:
    """Kinds a channel source can be created for, in the order the settings page lists them."""
    known = set(BUILTIN) | set(_adapters)
    order = list(LABELS)
    return sorted(known, key=lambda k: (order.index(k) if k in order else len(order), k))


def label(kind: str) -> str:
    return LABELS.get(kind, kind.title())


# Optional adapter attributes (see base.py), read with their defaults.


def generated_credentials(adapter: Any) -> dict[str, bool]:
    return dict(getattr(adapter, "generated_credentials", {}) or {})


def optional_credentials(adapter: Any) -> frozenset[str]:
    return frozenset(getattr(adapter, "optional_credentials", ()) or ())


def can_connect(adapter: Any) -> bool:
    return callable(getattr(adapter, "connect", None))


def can_check(adapter: Any) -> bool:
    return callable(getattr(adapter, "check", None))
