"""The adapter classes the Meta channels share; each platform package keeps what differs.

:class:`MetaChannel` (WhatsApp, Messenger, Instagram): the signed webhook and verify-token
handshake (:class:`.signature.MetaWebhook`), the two credentials every Meta app has, ``send``
through the platform's client module and the id checks of the settings page.
:class:`MessagingChannel` (Messenger, Instagram): inbound files are signed CDN links, and a
customer's name comes from a profile lookup. Parsing stays in each package (``parse``), because
each platform names its account differently.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from ..base import (
    ChannelConfig,
    FetchedMedia,
    InboundMedia,
    OutboundMessage,
    Sender,
    SendResult,
)
from .credentials import check_flag, check_ids
from .download import fetch_bytes
from .signature import MetaWebhook

HUMAN_AGENT_CREDENTIAL = "human_agent_tag"


class SendingClient(Protocol):
    """What a platform's ``api`` module offers every Meta adapter (a module satisfies it)."""

    def send_message(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage, /
    ) -> SendResult: ...


class MessagingClient(SendingClient, Protocol):
    def fetch_profile(
        self, config: ChannelConfig, credentials: dict[str, Any], user_id: str, /
    ) -> Sender: ...


def webhook_credentials(
    app_secret_label: str = "App secret (signs the webhooks)",
) -> dict[str, tuple[str, bool]]:
    """``app_secret`` (signs every delivery) and ``verify_token`` (the GET handshake)."""
    return {
        "app_secret": (app_secret_label, True),
        "verify_token": ("Webhook verify token", True),
    }


class MetaChannel(MetaWebhook):
    #: The platform's ``api`` module.
    client: ClassVar[SendingClient]
    #: Credentials that hold Meta ids (digits), with the label an error names them by.
    id_credentials: ClassVar[dict[str, str]] = {}

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult:
        return self.client.send_message(config, credentials, message)

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        check_ids(credentials, self.id_credentials)


class MessagingChannel(MetaChannel):
    client: ClassVar[MessagingClient]

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        """``media.ref`` is a signed CDN URL (it expires: fetch soon). It is fetched without our
        token, which must not leak to a CDN."""
        return fetch_bytes(config, media.ref, limit=limit)

    def profile(self, config: ChannelConfig, credentials: dict[str, Any], user_id: str) -> Sender:
        return self.client.fetch_profile(config, credentials, user_id)

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        super().validate_credentials(credentials)
        check_flag(credentials, HUMAN_AGENT_CREDENTIAL, "HUMAN_AGENT tag")
