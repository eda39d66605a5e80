"""The Facebook Messenger adapter: the :class:`~..base.Channel` protocol over parse and api."""

from __future__ import annotations

from typing import Any, ClassVar

from ..base import ChannelConfig, ConnectionCheck, ParsedWebhook
from ..meta import connection_check
from ..meta.channel import MessagingChannel, MessagingClient, webhook_credentials
from ..meta.credentials import HUMAN_AGENT_LABEL, dashboard_steps
from . import api
from .parse import parse_webhook


class MessengerChannel(MessagingChannel):
    kind: ClassVar[str] = "messenger"
    client: ClassVar[MessagingClient] = api
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "page_access_token": ("Page access token", True),
        **webhook_credentials(),
        "page_id": ("Page ID", False),
        "human_agent_tag": (HUMAN_AGENT_LABEL, False),
    }
    # One app callback serves all the app's Pages: parse keeps this Page's events.
    account_credential: ClassVar[str] = "page_id"
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"human_agent_tag"})
    id_credentials: ClassVar[dict[str, str]] = {"page_id": "The Page ID"}

    def parse(self, raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
        """``account_id``: this source's page id, to drop other pages' events."""
        return parse_webhook(raw_body, page_id=account_id)

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api.subscribe_page(config, credentials)
        return f"The app is installed on Page {credentials['page_id']}. " + dashboard_steps(
            "Messenger → Settings → Webhooks", webhook_url, api.WEBHOOK_FIELDS.replace(",", ", ")
        )

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        page, problem = connection_check.ask(api.CHANNEL, lambda: api.fetch_me(config, credentials))
        name = f"Page {page.get('name')} ({page.get('id')})" if page else None
        wrong = connection_check.mismatch(
            "Page ID", credentials.get("page_id"), page.get("id"), f"Page {page.get('name')}"
        )
        return connection_check.result(name, webhook_url, [problem, wrong])
