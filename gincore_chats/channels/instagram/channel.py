"""The Instagram Messaging adapter: the :class:`~..base.Channel` protocol over parse and api."""

from __future__ import annotations

from typing import Any, ClassVar

from ..base import ChannelConfig, ConnectionCheck, ParsedWebhook
from ..meta import connection_check
from ..meta.channel import MessagingChannel, MessagingClient, webhook_credentials
from ..meta.credentials import HUMAN_AGENT_LABEL, dashboard_steps
from . import api
from .parse import parse_webhook


class InstagramChannel(MessagingChannel):
    kind: ClassVar[str] = "instagram"
    client: ClassVar[MessagingClient] = api
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "access_token": (
            "Access token (Instagram user token; the Page token with Facebook Login)",
            True,
        ),
        # Integrators report Instagram Login apps sign with the Instagram app secret (§5.1).
        **webhook_credentials("App secret (the Instagram app secret with Instagram Login)"),
        "instagram_account_id": ("Instagram professional account ID", False),
        "page_id": ("Facebook Page ID (Facebook Login only; empty for Instagram Login)", False),
        "human_agent_tag": (HUMAN_AGENT_LABEL, False),
    }
    # entry[].id is the professional account in both setups: parse keeps this account's events.
    account_credential: ClassVar[str] = "instagram_account_id"
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"page_id", "human_agent_tag"})
    id_credentials: ClassVar[dict[str, str]] = {
        "instagram_account_id": "The Instagram professional account ID",
        "page_id": "The Facebook Page ID",
    }

    def parse(self, raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
        """``account_id``: this source's Instagram account id, to drop other accounts' events."""
        return parse_webhook(raw_body, account_id=account_id)

    def connect(self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str) -> str:
        api.subscribe(config, credentials)
        product = (
            "Messenger → Instagram settings"
            if api.uses_facebook_login(credentials)
            else "Instagram → API setup with Instagram login"
        )
        fields = "messages, messaging_seen, message_reactions, messaging_postbacks"
        return "Webhooks are turned on for the account. " + dashboard_steps(
            product, webhook_url, fields
        )

    def check(
        self, config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
    ) -> ConnectionCheck:
        me, problem = connection_check.ask(api.CHANNEL, lambda: api.fetch_me(config, credentials))
        if problem:
            return connection_check.result(None, webhook_url, [problem])
        configured = credentials.get("instagram_account_id")
        if api.uses_facebook_login(credentials):
            linked = (me.get("instagram_business_account") or {}).get("id")
            owner = f"Page {me.get('name')}"
            problems = [
                connection_check.mismatch(
                    "Page ID", credentials.get("page_id"), me.get("id"), owner
                ),
                connection_check.mismatch("Instagram account ID", configured, linked, owner),
            ]
            return connection_check.result(f"{owner} ({me.get('id')})", webhook_url, problems)
        owner = f"@{me.get('username')}"
        wrong = connection_check.mismatch(
            "Instagram account ID", configured, str(me.get("user_id") or "") or None, owner
        )
        return connection_check.result(f"{owner} ({me.get('user_id')})", webhook_url, [wrong])
