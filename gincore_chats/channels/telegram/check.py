"""Test connection for Telegram: ``getMe`` (is the token right?) and ``getWebhookInfo``
(does Telegram deliver to us, and did its last delivery fail?)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..base import ChannelConfig, ChannelError, ConnectionCheck, webhook_problem
from .api import TelegramApi

PLATFORM = "Telegram"


def _when(timestamp: Any) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def token_problem(exc: ChannelError) -> str:
    if exc.code in (401, 404):
        # Telegram answers 401 for an unknown or revoked token, 404 for a malformed one.
        return (
            f"Telegram refused the bot token ({exc.reason}): copy it again from @BotFather "
            "(/mybots → API Token) and save it here."
        )
    return f"Could not ask Telegram who the bot is: {exc.reason}"


def check_connection(
    config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
) -> ConnectionCheck:
    try:
        api = TelegramApi(config, str(credentials.get("bot_token") or ""))
        me = api.me()
    except ChannelError as exc:
        return ConnectionCheck(problems=(token_problem(exc),))
    name = str(me.get("first_name") or "")
    account = f"@{me['username']} ({name})" if me.get("username") else name or None
    try:
        info = api.webhook_info()
    except ChannelError as exc:
        return ConnectionCheck(
            account=account, problems=(f"Telegram did not report the webhook: {exc.reason}",)
        )
    reported = str(info.get("url") or "") or None
    pending = int(info.get("pending_update_count") or 0)
    facts: list[tuple[str, str]] = [("Pending updates", str(pending))]
    problems: list[str] = []
    wrong_url = webhook_problem(PLATFORM, reported, webhook_url)
    if wrong_url:
        problems.append(wrong_url)
    if info.get("last_error_date"):
        when = _when(info["last_error_date"])
        message = str(info.get("last_error_message") or "no message")
        facts.append(("Last delivery error", f"{when}: {message}"))
        problems.append(
            f"Telegram's last delivery to the webhook failed at {when}: {message}. "
            f"{pending} updates are waiting; Telegram keeps them for 24 hours and retries."
        )
    if info.get("last_synchronization_error_date"):
        facts.append(("Last synchronisation error", _when(info["last_synchronization_error_date"])))
    return ConnectionCheck(
        account=account, webhook_url=reported, facts=tuple(facts), problems=tuple(problems)
    )
