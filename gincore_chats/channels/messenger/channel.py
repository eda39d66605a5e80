"""The Facebook Messenger adapter: the :class:`~..base.Channel` protocol over parse and api."""

from __future__ import annotations

from typing import Any, ClassVar

from ..base import (
    ChannelConfig,
    ConnectionCheck,
    FetchedMedia,
    InboundMedia,
    OutboundMessage,
    ParsedWebhook,
    Sender,
    SendResult,
)
from ..meta import connection_check
from ..meta.credentials import HUMAN_AGENT_LABEL, check_flag, check_ids, dashboard_steps
from ..meta.signature import MetaWebhook
from . import api
from .parse import parse_webhook


class MessengerChannel(MetaWebhook):
    kind: ClassVar[str] = "messenger"
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "page_access_token": ("Page access token", True),
        "app_secret": ("App secret (signs the webhooks)", True),
        "verify_token": ("Webhook verify token", True),
        "page_id": ("Page ID", False),
        "human_agent_tag": (HUMAN_AGENT_LABEL, False),
    }
    # One app callback serves all the app's Pages: parse keeps this Page's events.
    account_credential: ClassVar[str] = "page_id"
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"human_agent_tag"})

    def parse(self, raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
        """``account_id``: this source's page id, to drop other pages' events."""
        return parse_webhook(raw_body, page_id=account_id)

    def send(
        self, config: ChannelConfig, credentials: dict[str, Any], message: OutboundMessage
    ) -> SendResult:
        return api.send_message(config, credentials, message)

    def fetch_media(
        self, config: ChannelConfig, credentials: dict[str, Any], media: InboundMedia, limit: int
    ) -> FetchedMedia:
        """Bytes of an inbound attachment; ``media.ref`` is its CDN URL (expires: fetch soon)."""
        return api.fetch_media(config, media.ref, limit=limit)

    def profile(self, config: ChannelConfig, credentials: dict[str, Any], user_id: str) -> Sender:
        return api.fetch_profile(config, credentials, user_id)

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api.subscribe_page(config, credentials)
        return f"The app is installed on Page {credentials['page_id']}. " + dashboard_steps(
            "Messenger → Settings → Webhooks", webhook_url, api.WEBHOOK_FIELDS.replace(",", ", ")
        )

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        check_ids(credentials, {"page_id": "The Page ID"})
        check_flag(credentials, "human_agent_tag", "HUMAN_AGENT tag")

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        page, problem = connection_check.ask(api.CHANNEL, lambda: api.fetch_me(config, credentials))
        name = f"Page {page.get('name')} ({page.get('id')})" if page else None
        wrong = connection_check.mismatch(
            "Page ID", credentials.get("page_id"), page.get("id"), f"Page {page.get('name')}"
        )
        return connection_check.result(name, webhook_url, [problem, wrong])
