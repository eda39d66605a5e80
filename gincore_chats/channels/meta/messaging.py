"""The ``messaging[]`` event shape Messenger (§4.2) and Instagram (§5.2) share.

Semantics worth knowing:

* Echoes (``message.is_echo``): our page/account wrote it, so Meta's ``sender`` is us and
  ``recipient`` is the customer. We return ``InboundMessage(is_echo=True)`` whose ``sender``
  is the **customer** (the echo's recipient): ``sender`` always names the conversation's
  counterpart, and ``is_echo`` says who wrote. The job must never treat an echo as the
  customer speaking (bots would answer themselves).
* Receipts name the customer as ``sender``; our ``DeliveryUpdate.recipient_id`` is therefore
  that sender (the recipient of *our* message).
"""

from __future__ import annotations

from typing import Any

from ..base import DeliveryUpdate, InboundEdit, InboundMedia, InboundMessage, ParsedWebhook, Sender
from .payload import (
    as_dict,
    as_list,
    as_str,
    from_unix,
    load_body,
    location_text,
    sort_into,
    unsupported_text,
)

# Attachment type -> InboundMedia.kind for what is a file we can download.
MEDIA_KINDS = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
# Attachment types that are links to something on the platform, not files.
LINK_LABELS = {
    "share": "Shared a post",
    "story_mention": "Mentioned you in their story",
    "reel": "Shared a reel",
    "ig_reel": "Shared a reel",
    "fallback": "Shared a link",
}


class _Collector:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.edits: list[InboundEdit] = []
        self.deliveries: list[DeliveryUpdate] = []
        self.ignored: list[str] = []

    def result(self) -> ParsedWebhook:
        return ParsedWebhook(
            messages=tuple(self.messages),
            edits=tuple(self.edits),
            deliveries=tuple(self.deliveries),
            ignored=tuple(self.ignored),
        )


def parse_messaging_webhook(
    raw_body: bytes, *, platform: str, expected_object: str, account_id: str | None = None
) -> ParsedWebhook:
    """Every event of every ``entry[]`` / ``messaging[]`` item.

    ``account_id``: when given (page id / Instagram account id), entries for other pages or
    accounts served by the same app callback are ignored.
    """
    body = load_body(raw_body)
    out = _Collector()
    if body.get("object") != expected_object:
        return ParsedWebhook(ignored=(f"object:{body.get('object')}",))
    for entry in as_list(body.get("entry")):
        entry = as_dict(entry)
        entry_id = as_str(entry.get("id"))
        if account_id and entry_id != str(account_id):
            out.ignored.append(f"other_account:{entry_id}")
            continue
        for event in as_list(entry.get("messaging")):
            _event(as_dict(event), platform, out)
        # Handover-protocol copies and feed/comment changes are not conversations we own.
        out.ignored.extend("standby" for _ in as_list(entry.get("standby")))
        for change in as_list(entry.get("changes")):
            out.ignored.append(f"field:{as_dict(change).get('field')}")
    return out.result()


def _event(event: dict[str, Any], platform: str, out: _Collector) -> None:
    sender_id = as_str(as_dict(event.get("sender")).get("id"))
    recipient_id = as_str(as_dict(event.get("recipient")).get("id"))
    if not sender_id or not recipient_id:
        out.ignored.append("event_without_ids")
        return
    timestamp = event.get("timestamp")
    if "message" in event:
        _message(as_dict(event["message"]), sender_id, recipient_id, timestamp, platform, out)
    elif "message_edit" in event:
        edit = as_dict(event["message_edit"])
        mid, text = as_str(edit.get("mid")), as_str(edit.get("text"))
        if mid and text is not None:
            out.edits.append(InboundEdit(external_id=mid, text=text))
        else:
            out.ignored.append("message_edit")
    elif "delivery" in event or "read" in event:
        _receipt(event, sender_id, out)
    elif "reaction" in event:
        _reaction(as_dict(event["reaction"]), sender_id, timestamp, out)
    elif "postback" in event:
        postback = as_dict(event["postback"])
        # Postbacks (button taps) carry no mid on older versions; sender + time is stable
        # across redeliveries, so it still deduplicates.
        external_id = as_str(postback.get("mid")) or f"postback:{sender_id}:{timestamp}"
        title = as_str(postback.get("title")) or as_str(postback.get("payload"))
        out.messages.append(
            InboundMessage(
                external_id=external_id,
                sender=Sender(id=sender_id),
                text=title,
                fallback_text=None if title else "Tapped a button",
                sent_at=from_unix(timestamp, millis=True),
            )
        )
    else:
        known = (
            "optin",
            "referral",
            "account_linking",
            "pass_thread_control",
            "policy_enforcement",
        )
        kind = next((k for k in known if k in event), "unknown")
        out.ignored.append(kind)


def _message(
    msg: dict[str, Any],
    sender_id: str,
    recipient_id: str,
    timestamp: Any,
    platform: str,
    out: _Collector,
) -> None:
    mid = as_str(msg.get("mid"))
    if not mid:
        out.ignored.append("message_without_mid")
        return
    if msg.get("is_deleted") is True:
        # The customer unsent it (Instagram); base.py has no deletion value object yet.
        out.ignored.append("message_deleted")
        return
    is_echo = msg.get("is_echo") is True
    customer = recipient_id if is_echo else sender_id
    text = as_str(msg.get("text"))
    media: list[InboundMedia] = []
    notes: list[str] = []
    sort_into(msg.get("attachments"), _attachment, media, notes)
    fallback = "\n".join(notes) or None
    if msg.get("is_unsupported") is True or (not text and not media and not fallback):
        fallback = unsupported_text(platform, None)
    if not fallback and media and all(m.kind == "sticker" for m in media):
        fallback = "Sticker"
    out.messages.append(
        InboundMessage(
            external_id=mid,
            sender=Sender(id=customer),
            text=text,
            media=tuple(media),
            fallback_text=fallback,
            reply_to_external_id=as_str(as_dict(msg.get("reply_to")).get("mid")),
            sent_at=from_unix(timestamp, millis=True),
            is_echo=is_echo,
        )
    )


def _attachment(attachment: dict[str, Any]) -> InboundMedia | str:
    kind = as_str(attachment.get("type")) or "unknown"
    payload = as_dict(attachment.get("payload"))
    url = as_str(payload.get("url")) or as_str(attachment.get("url"))
    if kind in MEDIA_KINDS and url:
        # Messenger's thumbs-up and stickers arrive as images with a sticker_id.
        media_kind = "sticker" if payload.get("sticker_id") is not None else MEDIA_KINDS[kind]
        return InboundMedia(kind=media_kind, ref=url)
    if kind == "location":
        coordinates = as_dict(payload.get("coordinates"))
        return location_text(
            coordinates.get("lat"), coordinates.get("long"), as_str(attachment.get("title"))
        )
    if kind in LINK_LABELS:
        title = as_str(attachment.get("title")) or as_str(payload.get("title"))
        parts = [LINK_LABELS[kind] + (f": {title}" if title else "")]
        if url:
            parts.append(url)
        return "\n".join(parts)
    return f"Sent an attachment ({kind}) that cannot be shown here."


def _receipt(event: dict[str, Any], customer_id: str, out: _Collector) -> None:
    key = "delivery" if "delivery" in event else "read"
    status = "delivered" if key == "delivery" else "read"
    receipt = as_dict(event.get(key))
    upto = from_unix(receipt.get("watermark"), millis=True)
    mids = [m for m in (as_str(x) for x in as_list(receipt.get("mids"))) if m]
    if mid := as_str(receipt.get("mid")):  # Instagram names the one message it saw
        mids.append(mid)
    if not mids and upto is None:
        out.ignored.append(status)
        return
    # A bare watermark (no mids) is still one update: "everything up to here".
    targets: list[str | None] = [*mids] or [None]
    for external_id in targets:
        out.deliveries.append(
            DeliveryUpdate(
                status=status, recipient_id=customer_id, external_id=external_id, upto=upto
            )
        )


def _reaction(reaction: dict[str, Any], sender_id: str, timestamp: Any, out: _Collector) -> None:
    mid = as_str(reaction.get("mid"))
    if reaction.get("action") == "unreact" or not mid:
        out.ignored.append("unreact" if mid else "reaction")
        return
    emoji = as_str(reaction.get("emoji")) or as_str(reaction.get("reaction")) or "a reaction"
    out.messages.append(
        InboundMessage(
            # A reaction has no id of its own; this one is stable across redeliveries.
            external_id=f"reaction:{mid}:{sender_id}:{timestamp}",
            sender=Sender(id=sender_id),
            fallback_text=f"Reacted {emoji} to a message",
            reply_to_external_id=mid,
            sent_at=from_unix(timestamp, millis=True),
        )
    )
