"""Webhook authenticity (``X-Hub-Signature-256``) and the GET verification handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup: the blueprint may hand us a plain dict in any case."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def expected_signature(app_secret: str, raw_body: bytes) -> str:
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signature_valid(app_secret: str | None, headers: Mapping[str, str], raw_body: bytes) -> bool:
    """HMAC-SHA256 over the exact bytes Meta sent, compared in constant time.

    Meta escapes non-ASCII and ``/`` in its bodies, so the HMAC only matches the raw bytes; a
    caller that re-serialises JSON first gets False, by design. No secret configured means
    nothing can be verified, so that fails closed too.
    """
    if not app_secret:
        return False
    received = header_value(headers, SIGNATURE_HEADER)
    if not received or not received.startswith(_PREFIX):
        return False
    expected = expected_signature(app_secret, raw_body)
    # Hex digits only; lower-casing a forged header cannot make it match the real digest.
    return hmac.compare_digest(expected.encode(), received.strip().lower().encode())


def answer_handshake(verify_token: str | None, query: Mapping[str, str]) -> str | None:
    """``hub.challenge`` when ``hub.mode=subscribe`` and the verify token matches, else None."""
    if not verify_token:
        return None
    if query.get("hub.mode") != "subscribe":
        return None
    given = query.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), str(verify_token).encode()):
        return None
    challenge = query.get("hub.challenge")
    return challenge if challenge else None


class MetaWebhook:
    """What every Meta channel's webhook shares: the app-secret signature, the GET handshake
    with a generated verify token, and ``supports_edit``/``supports_delete`` off (Meta has no
    edit or delete for a business's sent messages)."""

    supports_edit: ClassVar[bool] = False
    supports_delete: ClassVar[bool] = False
    generated_credentials: ClassVar[dict[str, bool]] = {"verify_token": True}
    # What signs the deliveries: the connection card reveals and sets it (audit-logged).
    signing_credential: ClassVar[str] = "app_secret"

    def verify(self, credentials: dict[str, Any], headers: dict[str, str], raw_body: bytes) -> bool:
        return signature_valid(credentials.get("app_secret"), headers, raw_body)

    def handshake(self, credentials: dict[str, Any], query: dict[str, str]) -> str | None:
        return answer_handshake(credentials.get("verify_token"), query)
