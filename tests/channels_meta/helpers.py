"""Payload loading and signing for the Meta channel tests."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "test_app_secret"


def raw(name: str) -> bytes:
    """A reference payload exactly as stored (the bytes Meta would send)."""
    return (PAYLOADS / name).read_bytes()


def load(name: str) -> Any:
    return json.loads(raw(name))


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(object_name: str, entry_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A Messenger/Instagram body around bare ``messaging[]`` events (§4.2 shows them bare)."""
    return {
        "object": object_name,
        "entry": [{"id": entry_id, "time": 1458692752478, "messaging": copy.deepcopy(events)}],
    }


def wa_change(**value: Any) -> dict[str, Any]:
    """One WhatsApp ``changes[]`` item for the reference's test number."""
    base = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    }
    return {"field": "messages", "value": {**base, **value}}


def wa_body(*changes: dict[str, Any], entry_id: str = "102290129340398") -> bytes:
    return dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": entry_id, "changes": list(changes)}],
        }
    )


def wa_message(kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {
        "from": "16505551234",
        "id": f"wamid.TEST-{kind}",
        "timestamp": "1749416383",
        "type": kind,
        kind: content,
        **extra,
    }
