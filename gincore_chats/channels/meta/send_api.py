"""The Send API body Messenger (§4.3) and Instagram (§5.3) share, and one call of it.

Messenger and Instagram-with-Facebook-Login post to ``graph.facebook.com/<ver>/<page id>/
messages`` with the Page token as the ``access_token`` query parameter and a
``messaging_type``; Instagram Login posts to ``graph.instagram.com/<ver>/<ig id>/messages``
with ``Authorization: Bearer``. Which ``messaging_type`` (RESPONSE, or MESSAGE_TAG with
HUMAN_AGENT) is decided per message by :mod:`.window`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..base import ChannelConfig, ChannelError
from .errors import GraphError
from .graph import graph_call

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def flag(value: Any) -> bool:
    """A yes/no option stored among text credentials."""
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def is_flag(value: Any) -> bool:
    return value is None or isinstance(value, bool) or str(value).strip().lower() in _TRUE | _FALSE


def required(credentials: dict[str, Any], name: str, channel: str) -> str:
    value = credentials.get(name)
    if not value:
        raise ChannelError(f"The {channel} channel has no {name} configured.", permanent=True)
    return str(value).strip()


@dataclass(frozen=True)
class SendEndpoint:
    url: str
    token: str
    bearer: bool  # Authorization header (Instagram Login) instead of the access_token query
    messaging: dict[str, str] = field(default_factory=dict)  # messaging_type / tag fields

    def auth(self) -> dict[str, Any]:
        if self.bearer:
            return {"bearer": self.token}
        return {"params": {"access_token": self.token}}


def _message_id(body: dict[str, Any]) -> str:
    message_id = body.get("message_id")
    if not message_id:
        raise GraphError("Meta accepted the message but returned no message id.")
    return str(message_id)


def send_json(
    config: ChannelConfig, endpoint: SendEndpoint, recipient_id: str, message: dict[str, Any]
) -> str:
    body = {"recipient": {"id": str(recipient_id)}, **endpoint.messaging, "message": message}
    return _message_id(graph_call(config, "POST", endpoint.url, json_body=body, **endpoint.auth()))


def send_upload(
    config: ChannelConfig,
    endpoint: SendEndpoint,
    recipient_id: str,
    kind: str,
    filename: str,
    data: bytes,
    mime_type: str,
) -> str:
    """Multipart: ``recipient`` and ``message`` as JSON strings, the file as ``filedata``."""
    fields = {
        "recipient": json.dumps({"id": str(recipient_id)}),
        **endpoint.messaging,
        "message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}}),
    }
    files = {"filedata": (filename, data, mime_type)}
    return _message_id(
        graph_call(config, "POST", endpoint.url, data=fields, files=files, **endpoint.auth())
    )
