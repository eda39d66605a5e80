"""The Send API body Messenger (§4.3) and Instagram (§5.3) share, and one call of it.

Messenger and Instagram-with-Facebook-Login post to ``graph.facebook.com/<ver>/<page id>/
messages`` with the Page token as the ``access_token`` query parameter and a
``messaging_type``; Instagram Login posts to ``graph.instagram.com/<ver>/<ig id>/messages``
with ``Authorization: Bearer``. Which ``messaging_type`` (RESPONSE, or MESSAGE_TAG with
HUMAN_AGENT) is decided per message by :mod:`.window`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..base import ChannelConfig, ChannelError, OutboundMessage
from .errors import GraphError
from .graph import graph_call
from .parts import split_text
from .window import messaging_fields

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


def credential(name: str, channel: str) -> Callable[[dict[str, Any]], str]:
    """A reader of one required credential, for a platform client's calls."""
    return partial(required, name=name, channel=channel)


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


def send_endpoint(
    url: str,
    token: str,
    credentials: dict[str, Any],
    message: OutboundMessage,
    *,
    page_token: bool,
) -> SendEndpoint:
    """Where and how to post ``message``; raises first if Meta's window is closed for it.

    ``page_token``: Messenger and Instagram with Facebook Login send the Page token in the query
    and a ``messaging_type``; Instagram Login sends a bearer token and no ``messaging_type``.
    """
    return SendEndpoint(
        url=url,
        token=token,
        bearer=not page_token,
        messaging=messaging_fields(
            message.customer_last_message_at,
            human_agent=flag(credentials.get("human_agent_tag")),
            page_token=page_token,
        ),
    )


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


def text_parts(
    config: ChannelConfig,
    endpoint: SendEndpoint,
    recipient_id: str,
    text: str,
    limit: int,
    *,
    in_bytes: bool = False,
) -> list[Callable[[], str]]:
    """One part sender per chunk of ``text`` within the platform's limit."""
    return [
        partial(send_json, config, endpoint, recipient_id, {"text": chunk})
        for chunk in split_text(text, limit, in_bytes=in_bytes)
    ]


def link_part(
    config: ChannelConfig, endpoint: SendEndpoint, recipient_id: str, kind: str, url: str
) -> Callable[[], str]:
    """A part sender for a file Meta fetches from ``url`` itself."""
    body = {"attachment": {"type": kind, "payload": {"url": url}}}
    return partial(send_json, config, endpoint, recipient_id, body)
