"""Signed visitor tokens: the only credential a widget visitor has, bound to one conversation."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer


@dataclass(frozen=True)
class VisitorClaims:
    conversation_id: int
    nonce: str


def _serializer(secret_key: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=salt)


def issue_visitor_token(secret_key: str, salt: str, conversation_id: int, nonce: str) -> str:
    return str(_serializer(secret_key, salt).dumps({"c": conversation_id, "n": nonce}))


def read_visitor_token(secret_key: str, salt: str, token: str) -> VisitorClaims | None:
    """The claims of a valid token, or None. Whether the nonce is current is the caller's check."""
    try:
        data = _serializer(secret_key, salt).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    return VisitorClaims(conversation_id=data["c"], nonce=str(data.get("n", "")))
