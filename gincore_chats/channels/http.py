"""HTTP calls to platform APIs that fail as :class:`ChannelError`, never leaking the URL.

Telegram puts the bot token in the URL path, so a ``requests`` exception text (which quotes the
URL) must never reach a log line, a stored error or the console: only the exception's class does.
"""

from __future__ import annotations

from typing import Any

import requests

from .base import ChannelError

USER_AGENT = "gincore-chats"


def call(method: str, url: str, *, platform: str, timeout: float, **kwargs: Any) -> Any:
    """``requests.request`` with the timeout; network failures become retryable errors."""
    headers = {"User-Agent": USER_AGENT, **(kwargs.pop("headers", None) or {})}
    try:
        return requests.request(method, url, timeout=timeout, headers=headers, **kwargs)
    except requests.Timeout:
        raise ChannelError(
            f"{platform} did not answer within {timeout:g} s.", code="timeout"
        ) from None
    except requests.RequestException as exc:
        raise ChannelError(
            f"Could not reach {platform} ({type(exc).__name__}).", code="network"
        ) from None


def json_of(response: Any) -> Any:
    """The decoded JSON body, or None when there is none (a proxy's HTML error page)."""
    try:
        return response.json()
    except ValueError:
        return None


def retry_after(response: Any) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (dates are rare; ignored)."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def status_error(platform: str, response: Any, reason: str | None = None) -> ChannelError:
    """An error for a non-2xx answer: 408/429/5xx are worth retrying, other 4xx are not."""
    status = int(response.status_code)
    transient = status in (408, 425, 429) or status >= 500
    return ChannelError(
        reason or f"{platform} answered HTTP {status}.",
        code=status,
        retry_after=retry_after(response) if status in (429, 503) else None,
        permanent=not transient,
    )


def download(
    url: str,
    *,
    platform: str,
    timeout: float,
    limit: int,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str | None]:
    """GET a file, streaming, refusing more than ``limit`` bytes: (bytes, content type)."""
    response = call("GET", url, platform=platform, timeout=timeout, stream=True, headers=headers)
    with response:
        if response.status_code != 200:
            raise status_error(platform, response)
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(64 * 1024):
            total += len(chunk)
            if total > limit:
                raise ChannelError(f"The file is larger than {limit} bytes.", permanent=True)
            chunks.append(chunk)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return b"".join(chunks), content_type or None
