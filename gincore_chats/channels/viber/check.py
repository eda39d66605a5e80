"""Test connection for Viber: ``get_account_info`` tells whether the auth token is right and
which URL the bot's one webhook points at."""

from __future__ import annotations

from typing import Any

from ..base import ChannelConfig, ChannelError, ConnectionCheck, webhook_problem
from .api import ViberApi

PLATFORM = "Viber"
INVALID_AUTH_TOKEN = 2


def check_connection(
    config: ChannelConfig, credentials: dict[str, Any], webhook_url: str
) -> ConnectionCheck:
    try:
        info = ViberApi(config, str(credentials.get("auth_token") or "")).account_info()
    except ChannelError as exc:
        if exc.code == INVALID_AUTH_TOKEN:
            problem = (
                f"Viber refused the auth token ({exc.reason}): copy it again from the Viber "
                "admin panel (your bot → Token) and save it here."
            )
        else:
            problem = f"Could not ask Viber about the bot: {exc.reason}"
        return ConnectionCheck(problems=(problem,))
    name = str(info.get("name") or "")
    uri = str(info.get("uri") or "")
    account = f"{name} (viber://pa?chatURI={uri})" if name and uri else (name or None)
    reported = str(info.get("webhook") or "") or None
    facts: list[tuple[str, str]] = []
    if info.get("subscribers_count") is not None:
        facts.append(("Subscribers", str(info["subscribers_count"])))
    if info.get("event_types"):
        facts.append(("Callbacks", ", ".join(map(str, info["event_types"]))))
    wrong = webhook_problem(PLATFORM, reported, webhook_url)
    return ConnectionCheck(
        account=account,
        webhook_url=reported,
        facts=tuple(facts),
        problems=(wrong,) if wrong else (),
    )
