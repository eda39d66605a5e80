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
from functools import partial
from typing import Any

from ..base import ChannelConfig, ChannelError, FetchedMedia, OutboundMessage, Sender, SendResult
from ..meta.download import fetch_bytes
from ..meta.errors import GraphError
from ..meta.graph import graph_call, graph_url
from ..meta.parts import send_parts, split_text
from ..meta.payload import as_str
from ..meta.send_api import SendEndpoint, flag, required, send_json
from ..meta.window import messaging_fields

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


def _account(credentials: dict[str, Any]) -> tuple[str, str]:
    """(base-URL choice, id in the path): the Page with Facebook Login, else the IG account."""
    if uses_facebook_login(credentials):
        return "facebook", str(credentials["page_id"]).strip()
    return "instagram", required(credentials, "instagram_account_id", CHANNEL)


def _url(config: ChannelConfig, credentials: dict[str, Any], *parts: str) -> str:
    host, _ = _account(credentials)
    base = config.graph_api_base if host == "facebook" else config.instagram_graph_base
    return graph_url(base, config.graph_api_version, *parts)


def _token(credentials: dict[str, Any]) -> str:
    return required(credentials, "access_token", CHANNEL)


def endpoint(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendEndpoint:
    facebook = uses_facebook_login(credentials)
    _, account = _account(credentials)
    return SendEndpoint(
        url=_url(config, credentials, account, "messages"),
        token=_token(credentials),
        bearer=not facebook,
        messaging=messaging_fields(
            message.customer_last_message_at,
            human_agent=flag(credentials.get("human_agent_tag")),
            page_token=facebook,
        ),
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
        parts += [
            partial(send_json, config, ep, to, {"text": chunk})
            for chunk in split_text("\n".join(lines), TEXT_LIMIT_BYTES, in_bytes=True)
        ]
    for att in message.attachments:
        if att.kind == "image":
            body = {"attachment": {"type": "image", "payload": {"url": att.url}}}
            parts.append(partial(send_json, config, ep, to, body))
    return send_parts(parts)


def fetch_profile(config: ChannelConfig, credentials: dict[str, Any], igsid: str) -> Sender:
    """Name, username and picture; Meta grants access once the customer has written."""
    body = graph_call(
        config,
        "GET",
        _url(config, credentials, str(igsid)),
        params={"fields": "name,username,profile_pic", "access_token": _token(credentials)},
    )
    return Sender(
        id=str(igsid),
        name=as_str(body.get("name")),
        username=as_str(body.get("username")),
        avatar_url=as_str(body.get("profile_pic")),
    )


def fetch_media(config: ChannelConfig, url: str, *, limit: int) -> FetchedMedia:
    """Attachment URLs are signed CDN links: fetched without our token, which must not leak."""
    return fetch_bytes(config, url, limit=limit)


def subscribe(config: ChannelConfig, credentials: dict[str, Any]) -> None:
    """Turn on webhooks for the account (§5.5 step 2)."""
    _, account = _account(credentials)
    fields = PAGE_WEBHOOK_FIELDS if uses_facebook_login(credentials) else WEBHOOK_FIELDS
    body = graph_call(
        config,
        "POST",
        _url(config, credentials, account, "subscribed_apps"),
        params={"subscribed_fields": fields, "access_token": _token(credentials)},
    )
    if body.get("success") is not True:
        raise GraphError("Instagram did not confirm the webhook subscription.")


def fetch_me(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /me``: the professional account (Instagram Login: ``user_id``, ``username``), or
    the Page with its linked ``instagram_business_account`` (Facebook Login)."""
    if uses_facebook_login(credentials):
        url = graph_url(config.graph_api_base, config.graph_api_version, "me")
        fields = "id,name,instagram_business_account"
    else:
        url = graph_url(config.instagram_graph_base, config.graph_api_version, "me")
        fields = "user_id,username"
    return graph_call(
        config, "GET", url, params={"fields": fields, "access_token": _token(credentials)}
    )
