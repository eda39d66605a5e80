"""Encryption at rest for credentials (bot tokens, app secrets, SMTP password, VAPID key).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from ``CHATS_ENCRYPTION_KEY`` or, when
unset, from the app's ``SECRET_KEY``. Rotating the key makes stored secrets unreadable: the
settings pages then ask for them again instead of failing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ..state import ChatsState


class SecretUnreadable(Exception):
    """Stored with another key (or damaged): ask the admin to enter the secret again."""


def _fernet(state: ChatsState) -> Fernet:
    material = state.config.encryption_key or state.secret_key
    digest = hashlib.sha256(b"gincore-chats/secrets/v1\x00" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(state: ChatsState, data: dict[str, Any]) -> str:
    return _fernet(state).encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()


def decrypt(state: ChatsState, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        value = json.loads(_fernet(state).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("Stored secrets cannot be decrypted with the current key.") from exc
    return value if isinstance(value, dict) else {}
