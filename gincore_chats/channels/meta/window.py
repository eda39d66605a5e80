"""Meta's messaging windows, checked before calling out (reference §2.3, §4.3, §5.3).

A free-form reply is allowed for 24 h after the customer's last message; Messenger and
Instagram allow 7 days with the HUMAN_AGENT tag. Refusing locally gives the manager a clear
reason at once instead of a platform error (or, on WhatsApp, a later ``failed`` status).
``customer_last_message_at`` unknown: let the platform decide.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..base import ChannelError
from .errors import WINDOW_MESSENGER, WINDOW_WHATSAPP

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
_HUMAN_AGENT_EXPIRED = (
    "The customer's last message is more than 7 days old, beyond even the HUMAN_AGENT tag. "
    "The conversation reopens when the customer writes again."
)


def _age(last: datetime, now: datetime | None) -> timedelta:
    if last.tzinfo is None:  # stored as UTC without a zone
        last = last.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - last


def check_whatsapp_window(last: datetime | None, now: datetime | None = None) -> None:
    if last is not None and _age(last, now) > CUSTOMER_SERVICE_WINDOW:
        raise ChannelError(WINDOW_WHATSAPP, code=131047, permanent=True)


def messaging_fields(
    last: datetime | None, *, human_agent: bool, page_token: bool, now: datetime | None = None
) -> dict[str, str]:
    """``messaging_type`` (and ``tag``) for a Messenger/Instagram send, or raise if closed.

    Inside 24 h a plain RESPONSE needs no approval, so the tag is used only where it is
    needed, or when the age is unknown and the admin enabled it.
    """
    tag = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    # Instagram Login's documented body has no messaging_type; Page-token sends carry one.
    plain = {"messaging_type": "RESPONSE"} if page_token else {}
    if last is None:
        return tag if human_agent else plain
    age = _age(last, now)
    if age <= CUSTOMER_SERVICE_WINDOW:
        return plain
    if human_agent and age <= HUMAN_AGENT_WINDOW:
        return tag
    reason = WINDOW_MESSENGER if not human_agent else _HUMAN_AGENT_EXPIRED
    raise ChannelError(reason, code="window", permanent=True)
