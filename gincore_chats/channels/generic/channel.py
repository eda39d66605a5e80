"""The generic source: any system pushes customer messages in, replies go out by webhook.

Inbound requests are authenticated either by ``X-Gincore-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body with the source's secret, or by ``Authorization: Bearer <secret>``.
Outbound events are POSTed as JSON to the configured URL, signed the same way, with an
``event_id`` that stays the same across retries so the receiver can drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .. import http
from ..base import (
    ChannelConfig,
    ChannelError,
    FetchedMedia,
    InboundMedia,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
)
from .parse import parse_push

SIGNATURE_HEADER = "X-Gincore-Signature"
EVENT_HEADER = "X-Gincore-Event"
EVENT_ID_HEADER = "X-Gincore-Event-Id"
PLATFORM = "The outgoing webhook"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class GenericChannel:
    kind: ClassVar[str] = "generic"
    supports_edit: ClassVar[bool] = True
    supports_delete: ClassVar[bool] = True
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "outgoing_url": ("Outgoing webhook URL (manager replies are POSTed here)", False),
    }
    # The shared secret: the other system signs its pushes with it (or sends it as a bearer
    # token) and checks our signature with it; the admin copies it from the settings page.
    generated_credentials: ClassVar[dict[str, bool]] = {"secret": True}
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"outgoing_url"})

    def verify(self, credentials: dict[str, Any], headers: dict[str, str], raw_body: bytes) -> bool:
        secret = str(credentials.get("secret") or "")
        if not secret:
            return False
        signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
        if signature:
            given = signature.strip()
            given = given if given.startswith("sha256=") else "sha256=" + given
            return hmac.compare_digest(given.lower().encode(), sign(secret, raw_body).encode())
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), secret.encode()
        )

    def handshake(self, credentials: dict[str, Any], query: dict[str, str]) -> str | None:
        return None

    def parse(self, raw_body: bytes) -> ParsedWebhook:
        return parse_push(raw_body)

    def validate_body(self, raw_body: bytes) -> None:
        """Checked while the pushing system waits, so it gets a 400 that says what is wrong."""
        parse_push(raw_body)

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        url = str(credentials.get("outgoing_url") or "")
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise ValueError("The outgoing webhook URL must start with https:// (or http://).")

    # -- outbound ----------------------------------------------------------------------------------

    def _post(
        self, config: ChannelConfig, credentials: dict[str, Any], event: dict[str, Any]
    ) -> Any:
        url = str(credentials.get("outgoing_url") or "")
        if not url:
            raise ChannelError(
                "No outgoing webhook URL is set for this source, so replies cannot leave.",
                permanent=True,
            )
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(str(credentials.get("secret") or ""), body),
            EVENT_HEADER: event["event"],
            EVENT_ID_HEADER: event["event_id"],
        }
        response = http.call(
            "POST", url, platform=PLATFORM, timeout=config.timeout, data=body, headers=headers
        )
        if not 200 <= response.status_code < 300:
            snippet = (response.text or "").strip()[:200]
            reason = f"The outgoing webhook answered HTTP {response.status_code}"
            raise http.status_error(
                PLATFORM, response, f"{reason}: {snippet}" if snippet else reason
            )
        return http.json_of(response)

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult:
        key = message.idempotency_key or hashlib.sha256(repr(message).encode()).hexdigest()[:32]
        meta = dict(message.metadata)
        event = {
            "event": "message.created",
            "event_id": key,
            "occurred_at": _now(),
            "source_id": meta.get("source_id"),
            "conversation_id": meta.get("conversation_id"),
            "recipient": {"id": message.recipient_id},
            "message": {
                "id": key,
                "text": message.text or "",
                "author_name": message.sender_name,
                "reply_to": message.reply_to_external_id,
                "attachments": [
                    {
                        "type": a.kind,
                        "url": a.url,
                        "filename": a.filename,
                        "mime_type": a.mime_type,
                        "size": a.size,
                    }
                    for a in message.attachments
                ],
            },
        }
        answer = self._post(config, credentials, event)
        # The receiver may name the message in its own system; deliveries then use that id.
        their_id = answer.get("id") if isinstance(answer, dict) else None
        return SendResult(str(their_id) if their_id not in (None, "") else key)

    def edit(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
        text: str,
    ) -> None:
        digest = hashlib.sha256(f"{external_id}\0{text}".encode()).hexdigest()[:16]
        self._post(
            config,
            credentials,
            {
                "event": "message.edited",
                "event_id": f"edit-{external_id}-{digest}",
                "occurred_at": _now(),
                "recipient": {"id": recipient_id},
                "message": {"id": external_id, "text": text},
            },
        )

    def delete(
        self,
        config: ChannelConfig,
        credentials: dict[str, Any],
        recipient_id: str,
        external_id: str,
    ) -> None:
        self._post(
            config,
            credentials,
            {
                "event": "message.deleted",
                "event_id": f"delete-{external_id}",
                "occurred_at": _now(),
                "recipient": {"id": recipient_id},
                "message": {"id": external_id},
            },
        )

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        data, mime = http.download(
            media.ref, platform="The file host", timeout=config.timeout, limit=limit
        )
        return FetchedMedia(data, mime or media.mime_type, media.filename)
