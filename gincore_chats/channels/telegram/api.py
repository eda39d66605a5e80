"""A small Telegram Bot API client: ``POST <base>/bot<token>/<method>`` and its error envelope."""

from __future__ import annotations

from typing import Any

from .. import http
from ..base import ChannelConfig, ChannelError

PLATFORM = "Telegram"

# error_code values after which the same request cannot succeed (bad request, bad token,
# blocked by the user, unknown chat, webhook/getUpdates conflict).
_PERMANENT = {400, 401, 403, 404, 409}
# 403 descriptions that mean the chat is closed to the bot until the user comes back
# ("Forbidden: bot was blocked by the user", "... user is deactivated", "... bot was kicked").
_UNREACHABLE = ("blocked by the user", "user is deactivated", "bot was kicked")


class TelegramApi:
    def __init__(self, config: ChannelConfig, token: str) -> None:
        if not token:
            raise ChannelError("The bot token is missing.", code=401, permanent=True)
        self._base = f"{config.telegram_api_base}/bot{token}"
        self._file_base = f"{config.telegram_api_base}/file/bot{token}"
        self._timeout = config.timeout

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """The ``result`` of a successful call; :class:`ChannelError` otherwise."""
        url = f"{self._base}/{method}"
        if files:
            # Multipart for uploads: every plain field travels as text.
            form = {
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in (params or {}).items()
            }
            response = http.call(
                "POST", url, platform=PLATFORM, timeout=self._timeout, data=form, files=files
            )
        else:
            response = http.call(
                "POST", url, platform=PLATFORM, timeout=self._timeout, json=params or {}
            )
        body = http.json_of(response)
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        if not isinstance(body, dict):
            raise http.status_error(PLATFORM, response)
        raise error_from(body, response.status_code)

    def me(self) -> dict[str, Any]:
        """``getMe``: the bot behind the token (a 401 means the token is wrong)."""
        return dict(self.call("getMe") or {})

    def webhook_info(self) -> dict[str, Any]:
        """``getWebhookInfo``: ``url``, ``pending_update_count``, ``last_error_date`` ..."""
        return dict(self.call("getWebhookInfo") or {})

    def download(self, file_path: str, limit: int) -> bytes:
        """A file's bytes by the ``file_path`` getFile returned (at most ``limit`` bytes)."""
        url = f"{self._file_base}/{file_path}"
        data, _ = http.download(url, platform=PLATFORM, timeout=self._timeout, limit=limit)
        return data


def error_from(body: dict[str, Any], http_status: int) -> ChannelError:
    code = body.get("error_code") or http_status
    description = str(body.get("description") or f"Telegram error {code}")
    parameters = body.get("parameters") or {}
    retry_after = parameters.get("retry_after")
    if isinstance(retry_after, int | float):
        return ChannelError(description, code=code, retry_after=float(retry_after))
    if parameters.get("migrate_to_chat_id"):
        # The group became a supergroup with a new id; the customer must write again.
        return ChannelError(description, code=code, permanent=True)
    permanent = isinstance(code, int) and code in _PERMANENT
    unreachable = code == 403 and any(s in description.lower() for s in _UNREACHABLE)
    return ChannelError(description, code=code, permanent=permanent, unreachable=unreachable)
