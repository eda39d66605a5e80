"""The WhatsApp Cloud API adapter: the :class:`~..base.Channel` protocol over parse and api."""

from __future__ import annotations

from typing import Any, ClassVar

from ..base import ChannelConfig, ConnectionCheck, FetchedMedia, InboundMedia, ParsedWebhook
from ..meta import connection_check
from ..meta.channel import MetaChannel, SendingClient, webhook_credentials
from ..meta.credentials import dashboard_steps
from . import api
from .parse import parse_webhook


class WhatsAppChannel(MetaChannel):
    kind: ClassVar[str] = "whatsapp"
    client: ClassVar[SendingClient] = api
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "access_token": ("Access token (system user)", True),
        **webhook_credentials(),
        "phone_number_id": ("Phone number ID", False),
        "business_account_id": ("WhatsApp Business Account ID", False),
    }
    # The library makes the verify token up; the admin copies it into the App Dashboard.
    # One app callback serves all the app's numbers: parse keeps this number's events.
    account_credential: ClassVar[str] = "phone_number_id"
    optional_credentials: ClassVar[frozenset[str]] = frozenset()
    id_credentials: ClassVar[dict[str, str]] = {
        "phone_number_id": "The phone number ID",
        "business_account_id": "The WhatsApp Business Account ID",
    }

    def parse(self, raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
        """``account_id``: this source's phone number id, to drop other numbers' events."""
        return parse_webhook(raw_body, phone_number_id=account_id)

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        """Bytes of an inbound file; ``media.ref`` is WhatsApp's media id."""
        got = api.fetch_media(config, credentials, media.ref, limit=limit)
        # The webhook's document name is the one the customer saw; the lookaside URL has none.
        return FetchedMedia(
            data=got.data,
            mime_type=got.mime_type or media.mime_type,
            filename=media.filename or got.filename,
        )

    def mark_read(
        self, config: ChannelConfig, credentials: dict[str, Any], external_id: str
    ) -> None:
        api.mark_read(config, credentials, external_id)

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api.subscribe_app(config, credentials)
        return (
            f"The app is subscribed to WhatsApp Business Account "
            f"{credentials['business_account_id']}. "
            + dashboard_steps("WhatsApp → Configuration", webhook_url, "messages")
        )

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        me, problem = connection_check.ask(api.CHANNEL, lambda: api.fetch_me(config, credentials))
        if problem:
            return connection_check.result(None, webhook_url, [problem])
        number, problem = connection_check.ask(
            api.CHANNEL, lambda: api.fetch_phone_number(config, credentials)
        )
        if problem:
            problem = (
                f"The token works (user {me.get('name')}), but Meta does not give it the phone "
                f"number ID {credentials.get('phone_number_id')}: {problem}"
            )
        account = (
            f"{number.get('verified_name')} ({number.get('display_phone_number')})"
            if number
            else f"user {me.get('name')}"
        )
        return connection_check.result(account, webhook_url, [problem])
