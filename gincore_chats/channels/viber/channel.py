"""The Viber adapter: content signature, callbacks, send_message, set_webhook."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

from .. import http
from ..base import (
    ChannelConfig,
    ChannelError,
    ConnectionCheck,
    FetchedMedia,
    InboundMedia,
    OutboundAttachment,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
)
from .api import ViberApi
from .check import check_connection
from .parse import parse_callback

SIGNATURE_HEADER = "X-Viber-Content-Signature"
SENDER_NAME_LIMIT = 28
# Picture captions longer than this go as a separate text message (commonly cited limit).
CAPTION_LIMIT = 120
TEXT_LIMIT = 7000
#: Callbacks asked for in set_webhook ("message" always comes).
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]


def signature(auth_token: str, raw_body: bytes) -> str:
    return hmac.new(auth_token.encode(), raw_body, hashlib.sha256).hexdigest()


class ViberChannel:
    kind: ClassVar[str] = "viber"
    supports_edit: ClassVar[bool] = False
    supports_delete: ClassVar[bool] = False
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "auth_token": ("Bot auth token (from the Viber admin panel)", True),
        "sender_name": ("Sender name shown to customers (at most 28 characters)", False),
        "sender_avatar": ("Sender avatar URL (optional)", False),
    }
    generated_credentials: ClassVar[dict[str, bool]] = {}
    # Viber signs callbacks with the auth token: the connection card reveals and sets it, and
    # registers the webhook again (set_webhook) when it changes.
    signing_credential: ClassVar[str] = "auth_token"
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"sender_name", "sender_avatar"})

    def verify(self, credentials: dict[str, Any], headers: dict[str, str], raw_body: bytes) -> bool:
        token = str(credentials.get("auth_token") or "")
        given = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        if not token or not given:
            return False
        return hmac.compare_digest(given.strip().lower(), signature(token, raw_body))

    def handshake(self, credentials: dict[str, Any], query: dict[str, str]) -> str | None:
        return None  # Viber's check is the signed "webhook" POST, answered with 200.

    def parse(self, raw_body: bytes) -> ParsedWebhook:
        return parse_callback(raw_body)

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        if len(str(credentials.get("sender_name") or "")) > SENDER_NAME_LIMIT:
            raise ValueError(
                f"Viber shows at most {SENDER_NAME_LIMIT} characters of a sender name."
            )

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult:
        api = ViberApi(config, str(credentials.get("auth_token") or ""))
        name = credentials.get("sender_name") or message.sender_name or "Support"
        sender: dict[str, Any] = {"name": str(name)[:SENDER_NAME_LIMIT]}
        if credentials.get("sender_avatar"):
            sender["avatar"] = credentials["sender_avatar"]
        base = {"receiver": message.recipient_id, "min_api_version": 1, "sender": sender}
        text = message.text or ""
        payloads: list[dict[str, Any]] = []
        attachments = list(message.attachments)
        if not text and not attachments:
            raise ChannelError("The message is empty.", permanent=True)
        caption = ""
        if attachments and attachments[0].kind == "image" and len(text) <= CAPTION_LIMIT:
            caption, text = text, ""
        if text:
            payloads += [
                {"type": "text", "text": text[i : i + TEXT_LIMIT]}
                for i in range(0, len(text), TEXT_LIMIT)
            ]
        for index, attachment in enumerate(attachments):
            payloads.append(self._media_payload(attachment, caption if index == 0 else ""))
        sent: list[str] = []
        for payload in payloads:
            try:
                answer = api.call("send_message", {**base, **payload})
            except ChannelError as exc:
                if not sent:
                    raise
                return SendResult(sent[0], {"external_ids": sent, "incomplete": exc.reason})
            sent.append(str(answer["message_token"]))
        return SendResult(sent[0], {"external_ids": sent} if len(sent) > 1 else {})

    @staticmethod
    def _media_payload(attachment: OutboundAttachment, caption: str) -> dict[str, Any]:
        if not attachment.url.startswith(("https://", "http://")):
            # Viber downloads media itself: an upload of bytes is not possible.
            raise ChannelError(
                "Viber fetches files itself, so they need a public URL.", permanent=True
            )
        if attachment.kind == "image":
            return {"type": "picture", "media": attachment.url, "text": caption}
        size = attachment.size if attachment.size is not None else len(attachment.data or b"")
        if not size:
            raise ChannelError("Viber needs the size of a file to send it.", permanent=True)
        return {
            "type": "file",
            "media": attachment.url,
            "size": size,
            "file_name": attachment.filename,
        }

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        # The media URL is public and lives for an hour: fetch it straight away.
        data, mime = http.download(media.ref, platform="Viber", timeout=config.timeout, limit=limit)
        return FetchedMedia(data, mime or media.mime_type, media.filename)

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api = ViberApi(config, str(credentials.get("auth_token") or ""))
        # Viber calls the URL before answering; status 0 means our endpoint answered 200.
        api.call(
            "set_webhook",
            {"url": webhook_url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": True},
        )
        return f"Viber now delivers the bot's messages to {webhook_url}."

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        return check_connection(config, credentials, webhook_url)
