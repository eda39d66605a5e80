"""One Graph API call: the Graph error envelope becomes :class:`GraphError`.

Transport goes through ``channels.http`` like every adapter: its errors name the platform, never
the URL, because Messenger's Page token travels in the query string.
"""

from __future__ import annotations

from typing import Any

from .. import http
from ..base import ChannelConfig
from .errors import GraphError, error_from_response

PLATFORM = "Meta"


def graph_url(base: str, version: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), version.strip("/"), *(p.strip("/") for p in parts)])


def facebook_url(config: ChannelConfig, *parts: str) -> str:
    """A ``graph.facebook.com`` URL (every Meta call but Instagram Login's)."""
    return graph_url(config.graph_api_base, config.graph_api_version, *parts)


def graph_call(
    config: ChannelConfig,
    method: str,
    url: str,
    *,
    bearer: str | None = None,
    params: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> dict[str, Any]:
    """The decoded JSON object of a successful call; :class:`ChannelError` otherwise."""
    response = http.call(
        method,
        url,
        platform=PLATFORM,
        timeout=config.timeout,
        headers={"Authorization": f"Bearer {bearer}"} if bearer else None,
        params=params,
        json=json_body,
        data=data,
        files=files,
    )
    body = http.json_of(response)
    if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
        raise error_from_response(response.status_code, body, response.headers)
    if not isinstance(body, dict):
        raise GraphError(
            f"Meta answered HTTP {response.status_code} with an unreadable body.",
            http_status=response.status_code,
        )
    return body


def fetch_fields(config: ChannelConfig, url: str, token: str, fields: str) -> dict[str, Any]:
    """GET a node's ``fields`` with a Page or Instagram token in the query (User Profile API)."""
    return graph_call(config, "GET", url, params={"fields": fields, "access_token": token})


def post_subscribed_apps(
    config: ChannelConfig,
    url: str,
    platform: str,
    *,
    bearer: str | None = None,
    params: dict[str, str] | None = None,
) -> None:
    """POST ``<node>/subscribed_apps``; without Meta's ``success: true`` no webhooks arrive."""
    body = graph_call(config, "POST", url, bearer=bearer, params=params)
    if body.get("success") is not True:
        raise GraphError(f"{platform} did not confirm the webhook subscription.")
