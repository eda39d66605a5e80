"""Messenger Send API, User Profile API and Page subscription (reference §4.3-§4.5).

Auth is the Page access token as the ``access_token`` query parameter, as in Meta's examples.
Text and files go as separate messages (Messenger has no captions), text first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..base import ChannelConfig, OutboundMessage, Sender, SendResult
from ..meta.graph import facebook_url, fetch_fields, post_subscribed_apps
from ..meta.parts import send_parts
from ..meta.payload import as_str
from ..meta.send_api import (
    SendEndpoint,
    credential,
    link_part,
    send_endpoint,
    send_upload,
    text_parts,
)

CHANNEL = "Messenger"
# Meta's Send API reference limits message.text to 2000 characters; longer replies are split.
TEXT_LIMIT = 2000
# §4.5, plus message_edits (Meta's message_edits webhook reference), which parse understands.
WEBHOOK_FIELDS = (
    "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,message_edits"
)

_token = credential("page_access_token", CHANNEL)

_page = credential("page_id", CHANNEL)


def endpoint(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendEndpoint:
    url = facebook_url(config, _page(credentials), "messages")
    return send_endpoint(url, _token(credentials), credentials, message, page_token=True)


def send_message(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendResult:
    ep = endpoint(config, credentials, message)
    to = str(message.recipient_id)
    parts: list[Callable[[], str]] = []
    if message.text:
        parts += text_parts(config, ep, to, message.text, TEXT_LIMIT)
    for att in message.attachments:
        kind = "image" if att.kind == "image" else "file"
        if att.data is not None:
            parts.append(
                partial(send_upload, config, ep, to, kind, att.filename, att.data, att.mime_type)
            )
        else:
            parts.append(link_part(config, ep, to, kind, att.url))
    return send_parts(parts)


def fetch_profile(config: ChannelConfig, credentials: dict[str, Any], psid: str) -> Sender:
    """Name and picture of a customer (granted once they have written to the Page)."""
    url = facebook_url(config, str(psid))
    body = fetch_fields(config, url, _token(credentials), "first_name,last_name,profile_pic")
    names = (as_str(body.get("first_name")), as_str(body.get("last_name")))
    name = " ".join(n for n in names if n)
    return Sender(id=str(psid), name=name or None, avatar_url=as_str(body.get("profile_pic")))


def subscribe_page(config: ChannelConfig, credentials: dict[str, Any]) -> None:
    """Install the app on the Page: without it no messaging webhooks arrive (§4.5)."""
    post_subscribed_apps(
        config,
        facebook_url(config, _page(credentials), "subscribed_apps"),
        CHANNEL,
        params={"subscribed_fields": WEBHOOK_FIELDS, "access_token": _token(credentials)},
    )


def fetch_me(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /me`` with the Page token: the Page it belongs to (``id``, ``name``)."""
    return fetch_fields(config, facebook_url(config, "me"), _token(credentials), "id,name")
