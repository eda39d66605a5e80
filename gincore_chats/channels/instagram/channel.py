"""The Instagram Messaging adapter: the :class:`~..base.Channel` protocol over parse and api."""

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


class InstagramChannel(MetaWebhook):
    kind: ClassVar[str] = "instagram"
    credential_fields: ClassVar[dict[str, tuple[str, bool]]] = {
        "access_token": (
            "Access token (Instagram user token; the Page token with Facebook Login)",
            True,
        ),
        # Integrators report Instagram Login apps sign with the Instagram app secret (§5.1).
        "app_secret": ("App secret (the Instagram app secret with Instagram Login)", True),
        "verify_token": ("Webhook verify token", True),
        "instagram_account_id": ("Instagram professional account ID", False),
        "page_id": ("Facebook Page ID (Facebook Login only; empty for Instagram Login)", False),
        "human_agent_tag": (HUMAN_AGENT_LABEL, False),
    }
    # entry[].id is the professional account in both setups: parse keeps this account's events.
    account_credential: ClassVar[str] = "instagram_account_id"
    optional_credentials: ClassVar[frozenset[str]] = frozenset({"page_id", "human_agent_tag"})

    def parse(self, raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
        """``account_id``: this source's Instagram account id, to drop other accounts' events."""
        return parse_webhook(raw_body, account_id=account_id)

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

    def validate_credentials(self, credentials: dict[str, Any]) -> None:
        check_ids(
            credentials,
            {
                "instagram_account_id": "The Instagram professional account ID",
                "page_id": "The Facebook Page ID",
            },
        )
        check_flag(credentials, "human_agent_tag", "HUMAN_AGENT tag")

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
