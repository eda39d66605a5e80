"""Messenger webhooks (reference §4.2) → :class:`ParsedWebhook`. Pure: bytes in.

Messages, attachments, echoes, edits, postbacks and reactions come from the shared
``messaging[]`` parser; delivery and read receipts are watermarks (``DeliveryUpdate.upto``).
"""

from __future__ import annotations

from ..base import ParsedWebhook
from ..meta.messaging import parse_messaging_webhook


def parse_webhook(raw_body: bytes, *, page_id: str | None = None) -> ParsedWebhook:
    return parse_messaging_webhook(
        raw_body, platform="Messenger", expected_object="page", account_id=page_id
    )
