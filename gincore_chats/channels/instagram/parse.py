"""Instagram messaging webhooks (reference §5.2) → :class:`ParsedWebhook`. Pure: bytes in.

Same ``messaging[]`` shape as Messenger; differences the shared parser covers: read receipts
name one ``mid`` (no watermark, no delivery receipts), ``is_deleted`` / ``is_unsupported``
flags, and ``share`` / ``story_mention`` / reel attachments, which become link text.
"""

from __future__ import annotations

from ..base import ParsedWebhook
from ..meta.messaging import parse_messaging_webhook


def parse_webhook(raw_body: bytes, *, account_id: str | None = None) -> ParsedWebhook:
    return parse_messaging_webhook(
        raw_body, platform="Instagram", expected_object="instagram", account_id=account_id
    )
