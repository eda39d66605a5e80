"""Messenger Send API, User Profile API and Page subscription (reference §4.3-§4.5).

Auth is the Page access token as the ``access_token`` query parameter, as in Meta's examples.
Text and files go as separate messages (Messenger has no captions), text first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..base import ChannelConfig, FetchedMedia, OutboundMessage, Sender, SendResult
from ..meta.download import fetch_bytes
from ..meta.errors import GraphError
from ..meta.graph import graph_call, graph_url
from ..meta.parts import send_parts, split_text
from ..meta.payload import as_str
from ..meta.send_api import SendEndpoint, flag, required, send_json, send_upload
from ..meta.window import messaging_fields

CHANNEL = "Messenger"
# Meta's Send API reference limits message.text to 2000 characters; longer replies are split.
TEXT_LIMIT = 2000
# §4.5, plus message_edits (Meta's message_edits webhook reference), which parse understands.
WEBHOOK_FIELDS = (
    "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,message_edits"
)


def _url(config: ChannelConfig, *parts: str) -> str:
    return graph_url(config.graph_api_base, config.graph_api_version, *parts)


def _token(credentials: dict[str, Any]) -> str:
    return required(credentials, "page_access_token", CHANNEL)


def endpoint(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendEndpoint:
    return SendEndpoint(
        url=_url(config, required(credentials, "page_id", CHANNEL), "messages"),
        token=_token(credentials),
        bearer=False,
        messaging=messaging_fields(
            message.customer_last_message_at,
            human_agent=flag(credentials.get("human_agent_tag")),
            page_token=True,
        ),
    )


def send_message(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendResult:
    ep = endpoint(config, credentials, message)
    to = str(message.recipient_id)
    parts: list[Callable[[], str]] = []
    if message.text:
        parts += [
            partial(send_json, config, ep, to, {"text": chunk})
            for chunk in split_text(message.text, TEXT_LIMIT)
        ]
    for att in message.attachments:
        kind = "image" if att.kind == "image" else "file"
        if att.data is not None:
            parts.append(
                partial(send_upload, config, ep, to, kind, att.filename, att.data, att.mime_type)
            )
        else:
            body = {"attachment": {"type": kind, "payload": {"url": att.url}}}
            parts.append(partial(send_json, config, ep, to, body))
    return send_parts(parts)


def fetch_profile(config: ChannelConfig, credentials: dict[str, Any], psid: str) -> Sender:
    """Name and picture of a customer (granted once they have written to the Page)."""
    body = graph_call(
        config,
        "GET",
        _url(config, str(psid)),
        params={"fields": "first_name,last_name,profile_pic", "access_token": _token(credentials)},
    )
    names = (as_str(body.get("first_name")), as_str(body.get("last_name")))
    name = " ".join(n for n in names if n)
    return Sender(id=str(psid), name=name or None, avatar_url=as_str(body.get("profile_pic")))


def fetch_media(config: ChannelConfig, url: str, *, limit: int) -> FetchedMedia:
    """Attachment URLs are signed CDN links: fetched without our token, which must not leak."""
    return fetch_bytes(config, url, limit=limit)


def subscribe_page(config: ChannelConfig, credentials: dict[str, Any]) -> None:
    """Install the app on the Page: without it no messaging webhooks arrive (§4.5)."""
    body = graph_call(
        config,
        "POST",
        _url(config, required(credentials, "page_id", CHANNEL), "subscribed_apps"),
        params={"subscribed_fields": WEBHOOK_FIELDS, "access_token": _token(credentials)},
    )
    if body.get("success") is not True:
        raise GraphError("Messenger did not confirm the webhook subscription.")


def fetch_me(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /me`` with the Page token: the Page it belongs to (``id``, ``name``)."""
    return graph_call(
        config,
        "GET",
        _url(config, "me"),
        params={"fields": "id,name", "access_token": _token(credentials)},
    )
