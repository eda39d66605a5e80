"""Instagram Messaging client (reference §5.3-§5.5), for both setups of §5.

Instagram Login (no ``page_id`` configured): ``graph.instagram.com/<ver>/<ig id>/messages``
with ``Authorization: Bearer <Instagram user token>``. Facebook Login (``page_id`` set):
``graph.facebook.com/<ver>/<page id>/messages`` with the Page token as ``access_token`` and
``messaging_type: RESPONSE``, exactly like Messenger.

Instagram has no documented generic file type and no documented upload, so documents go as a
link in a text message and images must have a URL Meta can fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base import ChannelConfig, ChannelError, OutboundMessage, Sender, SendResult
from ..meta.graph import fetch_fields, graph_url, post_subscribed_apps
from ..meta.parts import send_parts
from ..meta.payload import as_str
from ..meta.send_api import SendEndpoint, credential, link_part, required, send_endpoint, text_parts

CHANNEL = "Instagram"
# Instagram limits message text to 1000 bytes of UTF-8 (Meta's send-message guide; Chatwoot
# uses the same figure); longer replies are split.
TEXT_LIMIT_BYTES = 1000
WEBHOOK_FIELDS = "messages,messaging_seen,message_reactions"  # §5.5 step 2
PAGE_WEBHOOK_FIELDS = (  # Facebook Login subscribes the Page "as in §4.5"
    "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes"
)


def uses_facebook_login(credentials: dict[str, Any]) -> bool:
    return bool(credentials.get("page_id"))


def _account(credentials: dict[str, Any]) -> str:
    """The id in the path: the Page with Facebook Login, else the Instagram account."""
    if uses_facebook_login(credentials):
        return str(credentials["page_id"]).strip()
    return required(credentials, "instagram_account_id", CHANNEL)


def _url(config: ChannelConfig, credentials: dict[str, Any], *parts: str) -> str:
    facebook = uses_facebook_login(credentials)
    base = config.graph_api_base if facebook else config.instagram_graph_base
    return graph_url(base, config.graph_api_version, *parts)


_token = credential("access_token", CHANNEL)


def endpoint(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendEndpoint:
    url = _url(config, credentials, _account(credentials), "messages")
    return send_endpoint(
        url,
        _token(credentials),
        credentials,
        message,
        page_token=uses_facebook_login(credentials),
    )


def send_message(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendResult:
    # Refuse before anything is sent, so a message never goes out half.
    for att in message.attachments:
        if not att.url.startswith(("https://", "http://")):
            raise ChannelError(
                f"Instagram can only send files by a public link; {att.filename} has none.",
                permanent=True,
            )
    ep = endpoint(config, credentials, message)
    to = str(message.recipient_id)
    lines = [message.text] if message.text else []
    lines += [f"{a.filename}: {a.url}" for a in message.attachments if a.kind != "image"]
    parts: list[Callable[[], str]] = []
    if lines:
        parts += text_parts(config, ep, to, "\n".join(lines), TEXT_LIMIT_BYTES, in_bytes=True)
    parts += [
        link_part(config, ep, to, "image", a.url) for a in message.attachments if a.kind == "image"
    ]
    return send_parts(parts)


def fetch_profile(config: ChannelConfig, credentials: dict[str, Any], igsid: str) -> Sender:
    """Name, username and picture; Meta grants access once the customer has written."""
    url = _url(config, credentials, str(igsid))
    body = fetch_fields(config, url, _token(credentials), "name,username,profile_pic")
    return Sender(
        id=str(igsid),
        name=as_str(body.get("name")),
        username=as_str(body.get("username")),
        avatar_url=as_str(body.get("profile_pic")),
    )


def subscribe(config: ChannelConfig, credentials: dict[str, Any]) -> None:
    """Turn on webhooks for the account (§5.5 step 2)."""
    fields = PAGE_WEBHOOK_FIELDS if uses_facebook_login(credentials) else WEBHOOK_FIELDS
    post_subscribed_apps(
        config,
        _url(config, credentials, _account(credentials), "subscribed_apps"),
        CHANNEL,
        params={"subscribed_fields": fields, "access_token": _token(credentials)},
    )


def fetch_me(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /me``: the professional account (Instagram Login: ``user_id``, ``username``), or
    the Page with its linked ``instagram_business_account`` (Facebook Login)."""
    if uses_facebook_login(credentials):
        url = graph_url(config.graph_api_base, config.graph_api_version, "me")
        fields = "id,name,instagram_business_account"
    else:
        url = graph_url(config.instagram_graph_base, config.graph_api_version, "me")
        fields = "user_id,username"
    return fetch_fields(config, url, _token(credentials), fields)
