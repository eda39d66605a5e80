"""WhatsApp Cloud API client (reference §2.3-§2.6): send, upload, download, mark read, connect.

Auth is ``Authorization: Bearer <access token>`` on every call, including the media download
from the lookaside URL. URLs are built from ``ChannelConfig`` so tests use a fake server.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..base import (
    ChannelConfig,
    ChannelError,
    FetchedMedia,
    OutboundAttachment,
    OutboundMessage,
    SendResult,
)
from ..meta.download import fetch_bytes, too_large
from ..meta.errors import GraphError
from ..meta.graph import facebook_url, graph_call, post_subscribed_apps
from ..meta.parts import send_parts, split_text
from ..meta.send_api import credential, required
from ..meta.window import check_whatsapp_window

CHANNEL = "WhatsApp"
TEXT_LIMIT = 4096  # text.body; longer replies go as several messages
CAPTION_LIMIT = 1024  # image/document captions; longer text goes as its own message
# WhatsApp shows only JPEG and PNG as images; anything else goes as a document so it arrives.
IMAGE_MIME_TYPES = frozenset({"image/jpeg", "image/png"})

_token = credential("access_token", CHANNEL)

_phone = credential("phone_number_id", CHANNEL)


def upload_media(
    config: ChannelConfig, credentials: dict[str, Any], attachment: OutboundAttachment
) -> str:
    """POST /<phone number id>/media (multipart) → a media id usable in a send."""
    body = graph_call(
        config,
        "POST",
        facebook_url(config, _phone(credentials), "media"),
        bearer=_token(credentials),
        data={"messaging_product": "whatsapp", "type": attachment.mime_type},
        files={"file": (attachment.filename, attachment.data or b"", attachment.mime_type)},
    )
    if not body.get("id"):
        raise GraphError("WhatsApp accepted the upload but returned no media id.")
    return str(body["id"])


def _media(attachment: OutboundAttachment, media_id: str | None) -> tuple[str, dict[str, Any]]:
    image = attachment.kind == "image" and attachment.mime_type in IMAGE_MIME_TYPES
    kind = "image" if image else "document"
    media: dict[str, Any] = {"id": media_id} if media_id else {"link": attachment.url}
    if kind == "document":
        media["filename"] = attachment.filename  # the name and icon the customer sees
    return kind, media


def build_payloads(message: OutboundMessage, media_ids: list[str | None]) -> list[dict[str, Any]]:
    """The message as WhatsApp messages; text rides as the first file's caption when it fits."""
    text = message.text or ""
    as_caption = bool(text and message.attachments) and len(text) <= CAPTION_LIMIT
    contents: list[dict[str, Any]] = []
    if text and not as_caption:
        contents += [
            {"type": "text", "text": {"preview_url": False, "body": chunk}}
            for chunk in split_text(text, TEXT_LIMIT)
        ]
    for index, (attachment, media_id) in enumerate(
        zip(message.attachments, media_ids, strict=True)
    ):
        kind, media = _media(attachment, media_id)
        if index == 0 and as_caption:
            media["caption"] = text
        contents.append({"type": kind, kind: media})
    envelope = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": str(message.recipient_id),
    }
    payloads = [{**envelope, **content} for content in contents]
    if payloads and message.reply_to_external_id:
        payloads[0]["context"] = {"message_id": message.reply_to_external_id}
    return payloads


def _post_message(config: ChannelConfig, url: str, token: str, payload: dict[str, Any]) -> str:
    body = graph_call(config, "POST", url, bearer=token, json_body=payload)
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(first, dict) or not first.get("id"):
        raise GraphError("WhatsApp accepted the message but returned no id.")
    return str(first["id"])


def send_message(
    config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
) -> SendResult:
    """Send text and files; ``external_id`` is the first wamid (status webhooks name it)."""
    if not message.text and not message.attachments:
        raise ChannelError("The message is empty.", permanent=True)
    check_whatsapp_window(message.customer_last_message_at)
    token = _token(credentials)
    url = facebook_url(config, _phone(credentials), "messages")
    # Uploads first: if one fails nothing has reached the customer yet, so a retry is clean.
    media_ids = [
        upload_media(config, credentials, a) if a.data is not None else None
        for a in message.attachments
    ]
    parts: list[Callable[[], str]] = [
        partial(_post_message, config, url, token, payload)
        for payload in build_payloads(message, media_ids)
    ]
    return send_parts(parts)


def fetch_media(
    config: ChannelConfig, credentials: dict[str, Any], media_id: str, *, limit: int
) -> FetchedMedia:
    """Two steps (§2.4): GET /<media id> for a short-lived URL, then GET it with the token."""
    token = _token(credentials)
    info = graph_call(config, "GET", facebook_url(config, str(media_id)), bearer=token)
    url = info.get("url")
    if not isinstance(url, str) or not url:
        raise GraphError("WhatsApp returned no download URL for the media.", permanent=True)
    size = str(info.get("file_size") or "")  # a string in the wire format
    if size.isdigit() and int(size) > limit:
        raise too_large(limit)
    got = fetch_bytes(config, url, limit=limit, bearer=token)
    mime = info.get("mime_type")
    return FetchedMedia(
        data=got.data,
        mime_type=mime if isinstance(mime, str) and mime else got.mime_type,
        filename=got.filename,
    )


def mark_read(config: ChannelConfig, credentials: dict[str, Any], external_id: str) -> None:
    """Blue ticks for an inbound message (and every earlier one in the chat)."""
    graph_call(
        config,
        "POST",
        facebook_url(config, _phone(credentials), "messages"),
        bearer=_token(credentials),
        json_body={"messaging_product": "whatsapp", "status": "read", "message_id": external_id},
    )


def subscribe_app(config: ChannelConfig, credentials: dict[str, Any]) -> None:
    """POST /<WABA id>/subscribed_apps: without it no webhooks arrive for the account (§2.6)."""
    waba = required(credentials, "business_account_id", CHANNEL)
    url = facebook_url(config, waba, "subscribed_apps")
    post_subscribed_apps(config, url, CHANNEL, bearer=_token(credentials))


def fetch_me(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /me``: the (system) user the token belongs to (``id``, ``name``)."""
    return graph_call(
        config,
        "GET",
        facebook_url(config, "me"),
        bearer=_token(credentials),
        params={"fields": "id,name"},
    )


def fetch_phone_number(config: ChannelConfig, credentials: dict[str, Any]) -> dict[str, Any]:
    """``GET /<phone number id>``: its ``display_phone_number`` and ``verified_name``."""
    return graph_call(
        config,
        "GET",
        facebook_url(config, _phone(credentials)),
        bearer=_token(credentials),
        params={"fields": "display_phone_number,verified_name"},
    )
