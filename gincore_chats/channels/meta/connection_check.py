"""Test connection for the Meta channels: Graph ``me`` tells whether the token works and whose
it is. Meta does not report the callback URL to a Page or user token (only to the app's own
token), so the check says which URL and verify token the App Dashboard must hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base import ChannelError, ConnectionCheck
from .errors import GraphError

TOKEN_CODES = frozenset({102, 190})


def token_problem(channel: str, exc: ChannelError) -> str:
    code = exc.code
    if isinstance(exc, GraphError) and (code in TOKEN_CODES or exc.http_status == 401):
        return (
            f"Meta refused the {channel} access token ({exc.reason}): create a new one in the "
            "Meta App Dashboard or Business Settings and save it here."
        )
    return f"Could not ask Meta about the {channel} account: {exc.reason}"


def ask(channel: str, call: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """(the answer, None), or ({}, the problem) when Meta refused."""
    try:
        return call(), None
    except ChannelError as exc:
        return {}, token_problem(channel, exc)


def mismatch(what: str, configured: str | None, actual: str | None, owner: str) -> str | None:
    if configured and actual and str(configured).strip() != str(actual):
        return (
            f"The access token belongs to {owner} ({what} {actual}), but this source's {what} "
            f"is {configured}: enter the matching token or ID."
        )
    return None


def result(account: str | None, webhook_url: str, problems: list[str | None]) -> ConnectionCheck:
    facts = (
        ("Callback URL for the App Dashboard", webhook_url),
        ("Verify token", "this source's verify token (reveal it below)"),
    )
    return ConnectionCheck(account=account, facts=facts, problems=tuple(p for p in problems if p))
