"""A small Viber REST client: ``POST <base>/<method>`` with ``X-Viber-Auth-Token``.

Viber answers HTTP 200 for application errors too; the JSON ``status`` tells (0 = ok).
"""

from __future__ import annotations

from typing import Any

from .. import http
from ..base import ChannelConfig, ChannelError

PLATFORM = "Viber"
TOO_MANY_REQUESTS = 12
#: Statuses worth retrying: 12 tooManyRequests (the per-user hourly limit resets when the user
#: replies, so back off and try again); everything else cannot succeed unchanged.
RETRYABLE = {TOO_MANY_REQUESTS}
#: receiverNotRegistered, receiverNotSubscribed: the user has to write (subscribe) first.
UNREACHABLE = {5, 6}
NAMES = {
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
}


class ViberApi:
    def __init__(self, config: ChannelConfig, token: str) -> None:
        if not token:
            raise ChannelError("The Viber auth token is missing.", code=2, permanent=True)
        self._base = config.viber_api_base
        self._token = token
        self._timeout = config.timeout

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = http.call(
            "POST",
            f"{self._base}/{method}",
            platform=PLATFORM,
            timeout=self._timeout,
            json=payload,
            headers={"X-Viber-Auth-Token": self._token},
        )
        body = http.json_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise http.status_error(PLATFORM, response)
        status = body.get("status")
        if status == 0:
            return body
        message = str(body.get("status_message") or NAMES.get(status or -1, "error"))
        raise ChannelError(
            f"Viber: {message} (status {status})",
            code=status,
            permanent=status not in RETRYABLE,
            unreachable=status in UNREACHABLE,
        )

    def account_info(self) -> dict[str, Any]:
        """``get_account_info``: the bot's ``name``, ``uri``, ``webhook``, ``subscribers_count``."""
        return self.call("get_account_info", {})
