"""A circuit breaker per provider: after repeated failures, stop calling it for a while.

Failures in a row are counted in Redis (shared by every worker) per provider base URL. At
``CHATS_AI_BREAKER_FAILURES`` the breaker opens for ``CHATS_AI_BREAKER_SECONDS``: turns then
hand off at once instead of making each customer wait for a timeout, and the admins get one
email per opening. A success closes it.
"""

from __future__ import annotations

import hashlib
import logging

from ...ai import ProviderSettings
from ...state import ChatsState
from ..notifications import mailbox
from ..notifications.recipients import admin_addresses

log = logging.getLogger(__name__)


def _keys(state: ChatsState, provider: ProviderSettings) -> tuple[str, str]:
    name = hashlib.sha256(provider.base_url.encode()).hexdigest()[:16]
    return state.key("ai-breaker", name, "failures"), state.key("ai-breaker", name, "open")


def is_open(state: ChatsState, provider: ProviderSettings) -> bool:
    return bool(state.redis.exists(_keys(state, provider)[1]))


def record_success(state: ChatsState, provider: ProviderSettings) -> None:
    failures, opened = _keys(state, provider)
    state.redis.delete(failures, opened)


def record_failure(state: ChatsState, provider: ProviderSettings) -> bool:
    """Count a failure; True when this one opened the breaker (the caller emails the admins)."""
    failures, opened = _keys(state, provider)
    seconds = max(1, int(state.config.ai_breaker_seconds))
    pipe = state.redis.pipeline()
    pipe.incr(failures)
    pipe.expire(failures, seconds * 4)
    count = int(pipe.execute()[0])
    if count < state.config.ai_breaker_failures:
        return False
    return bool(state.redis.set(opened, "1", nx=True, ex=seconds))


def email_admins(state: ChatsState, provider: ProviderSettings, reason: str) -> None:
    """Tell the admins the provider keeps failing. Network I/O: never inside a transaction."""
    box = mailbox.load(state)
    recipients = admin_addresses(state)
    if not box.configured or not recipients:
        log.warning("gincore_chats: the AI provider keeps failing; no admin could be emailed")
        return
    minutes = max(1, int(state.config.ai_breaker_seconds) // 60)
    try:
        mailbox.send(
            box,
            to=recipients,
            subject="The AI assistant is handing chats to people",
            text=(
                f"The AI provider at {provider.base_url} failed "
                f"{state.config.ai_breaker_failures} times in a row. For the next {minutes} "
                "minutes the assistant hands every conversation to your team instead of "
                f"answering.\n\nLast error: {reason}\n\nCheck the provider (its status page, "
                "the API key, the model name and CHATS_AI_* settings); the assistant resumes "
                "by itself after the first successful call.\n"
            ),
        )
    except mailbox.MailError:
        log.exception("gincore_chats: the AI-provider-failing email could not be sent")
