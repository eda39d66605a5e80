"""Webhook deliveries from messenger platforms: stored first, processed in an RQ job.

The webhooks blueprint verifies a delivery and stores it as an :class:`InboundEvent` (the raw
body, so nothing is lost if processing fails), then this module's job turns it into rows:
every message of a batch, each at most once per (source, platform message id); contacts per
platform user, enriched with what the platform tells; receipts move delivery states.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import select

from ...channels.base import (
    Channel,
    ChannelError,
    FetchedMedia,
    InboundMedia,
    InboundMessage,
    ParsedWebhook,
    Sender,
)
from ...channels.registry import get_adapter
from ...json_input import storable
from ...models import Contact, Conversation, InboundEvent, Message, MessageKind, Source, utcnow
from ...queue import enqueue
from ...state import ChatsState
from ..contacts.customers import do_upsert_channel_contact, find_channel_contact
from ..conversations.lifecycle import do_open_conversation
from ..conversations.message_events import publish_message_update
from ..conversations.message_lookup import find_by_external_id
from ..conversations.messages import (
    do_edit_customer_message,
    do_receive_channel_message,
    do_record_platform_reply,
)
from ..files.attachments import UploadError, do_attach_inbound
from ..hooks import inbound_failed
from ..ratings import prompts as rating_prompts
from ..ratings import scores as rating_scores
from ..secrets import SecretUnreadable, decrypt
from ..unit_of_work import after_commit, unit_of_work
from .delivery import do_apply_receipt
from .outbound import was_sent_by_us
from .reachability import do_apply_reachability, do_customer_wrote
from .sources import read_credentials

log = logging.getLogger(__name__)

PROCESS_JOB = "gincore_chats.jobs.inbound.process"
MEDIA_JOB = "gincore_chats.jobs.inbound.fetch_media"
#: A database hiccup while processing: RQ tries the job again after these delays (seconds).
PROCESS_RETRY_INTERVALS = [10, 60, 300]
#: Headers kept with a stored event (never secrets such as Telegram's token header).
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "x-forwarded-for",
    "x-remote-addr",
)
MEDIA_LABELS = {
    "image": "[image]",
    "video": "[video]",
    "audio": "[audio]",
    "sticker": "[sticker]",
}

#: Seconds a delivery's bytes are remembered, so an identical retry stores nothing.
REPEAT_WINDOW = 24 * 3600


def _delivery_key(state: ChatsState, source: Source, body: bytes) -> str:
    return state.key("delivery", source.id, hashlib.sha256(body).hexdigest())


def do_store_event(
    state: ChatsState, source: Source, headers: dict[str, str], body: bytes
) -> tuple[int, bool]:
    """Keep a verified delivery and process it after commit (the webhook answers 200 now).

    Returns (event id, stored?). Platforms retry a delivery with the very same bytes; a repeat
    within :data:`REPEAT_WINDOW` seconds is answered with the first event's id and stores
    nothing. Beyond that (or without Redis) it is stored, and processing drops its messages by
    their platform ids, so the check only saves work and never decides correctness.
    """
    key = _delivery_key(state, source, body)
    try:
        seen = state.redis.get(key)
    except RedisError:
        seen = None
    if seen is not None:
        return int(seen), False
    kept = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
    event = InboundEvent(
        source_id=source.id, headers=kept, body=body, received_at=utcnow(), attempts=0
    )
    state.session.add(event)
    state.session.flush()
    event_id = event.id
    queue_processing(state, event_id)
    # Remembered only once the event is durable: a repeat is never dropped for a lost one.
    after_commit(state.session, lambda: state.redis.set(key, event_id, ex=REPEAT_WINDOW))
    return event_id, True


def queue_processing(state: ChatsState, event_id: int) -> None:
    retry = Retry(max=len(PROCESS_RETRY_INTERVALS), interval=PROCESS_RETRY_INTERVALS)
    after_commit(state.session, lambda: enqueue(state, PROCESS_JOB, event_id, retry=retry))


def unprocessed_event_ids(
    state: ChatsState, limit: int = 1000, *, source_id: int | None = None
) -> list[int]:
    """Events never processed (the worker was down, or Redis lost the job) or that failed."""
    query = select(InboundEvent.id).where(InboundEvent.processed_at.is_(None))
    if source_id is not None:
        query = query.where(InboundEvent.source_id == source_id)
    return list(state.session.scalars(query.order_by(InboundEvent.id).limit(limit)))


def _parse(adapter: Channel, credentials: dict[str, Any], body: bytes) -> ParsedWebhook:
    name = getattr(adapter, "account_credential", None)
    if name and "account_id" in inspect.signature(adapter.parse).parameters:
        # Events for other accounts of a shared Meta app are dropped by the adapter.
        account = str(credentials.get(name) or "") or None
        return adapter.parse(body, account_id=account)  # type: ignore[call-arg]
    return adapter.parse(body)


def _unnamed_senders(state: ChatsState, source_id: int, parsed: ParsedWebhook) -> list[str]:
    """Customers of this delivery whose name neither the webhook nor their contact row tells."""
    wanted = dict.fromkeys(
        item.sender.id for item in parsed.messages if not item.is_echo and not item.sender.name
    )
    unnamed = []
    for sender_id in wanted:
        contact = find_channel_contact(state, source_id, sender_id)
        if contact is None or not contact.name:
            unnamed.append(sender_id)
    return unnamed


def _ask_profiles(
    state: ChatsState, kind: str, adapter: Channel, credentials: dict[str, Any], ids: list[str]
) -> dict[str, Sender]:
    """Ask the platform who these customers are (Messenger sends no name). Called with no
    transaction open: a slow platform must not hold a pooled connection or row locks."""
    profile = getattr(adapter, "profile", None)
    found: dict[str, Sender] = {}
    if profile is None:
        return found
    for sender_id in ids:
        try:
            found[sender_id] = storable(profile(state.config.channels, credentials, sender_id))
        except Exception as exc:  # a profile is a nicety; the message matters
            log.info("gincore_chats: no profile for %s: %s", kind, exc)
    return found


def _with_profiles(parsed: ParsedWebhook, found: dict[str, Sender]) -> ParsedWebhook:
    """The delivery with each unnamed sender completed from the profile found for them."""
    messages = tuple(
        dataclasses.replace(item, sender=_merge(item.sender, found[item.sender.id]))
        if not item.is_echo and not item.sender.name and item.sender.id in found
        else item
        for item in parsed.messages
    )
    return dataclasses.replace(parsed, messages=messages)


def _merge(sender: Sender, profile: Sender) -> Sender:
    values = {
        f.name: getattr(sender, f.name) or getattr(profile, f.name)
        for f in dataclasses.fields(Sender)
    }
    values["id"] = sender.id
    return Sender(**values)


#: How many earlier deliveries of the same source one job catches up on before its own.
CATCH_UP_LIMIT = 50


def process_event(state: ChatsState, event_id: int) -> None:
    """Turn one stored delivery into rows (the processing job), after any earlier delivery of
    the same source that no job has got to yet. Safe to run twice.

    A platform delivers in order (Telegram waits for our answer before the next update), but
    the job of an earlier delivery may be late: its worker killed mid-job, the job found
    abandoned and retried a minute or more later. Processed by the next job instead, the
    customer's messages keep their order in the conversation; the late job then finds its
    delivery done. Deliveries that already failed are left to their own retries.
    """
    with unit_of_work(state.session):
        event = state.session.get(InboundEvent, event_id)
        earlier = (
            list(
                state.session.scalars(
                    select(InboundEvent.id)
                    .where(
                        InboundEvent.source_id == event.source_id,
                        InboundEvent.id < event_id,
                        InboundEvent.processed_at.is_(None),
                        InboundEvent.attempts == 0,
                    )
                    .order_by(InboundEvent.id)
                    .limit(CATCH_UP_LIMIT)
                )
            )
            if event is not None and event.processed_at is None
            else []
        )
    for earlier_id in earlier:
        try:
            _process_one(state, earlier_id)
        except Exception:
            # Recorded on the event; its own job retries it. This delivery must not wait.
            log.warning("gincore_chats: earlier inbound event %s failed", earlier_id)
    _process_one(state, event_id)


def _process_one(state: ChatsState, event_id: int) -> None:
    session = state.session
    with unit_of_work(session):
        event = session.get(InboundEvent, event_id)
        if event is None or event.processed_at is not None:
            return
        source = session.get(Source, event.source_id)
        adapter = get_adapter(source.kind) if source is not None else None
        if source is None or adapter is None:
            event.error = "The source no longer exists or has no channel adapter."
            event.attempts += 1
            return
        try:
            credentials = decrypt(state, source.credentials_encrypted)
        except SecretUnreadable:
            credentials = {}
        body, source_id, kind = event.body, source.id, source.kind
    try:
        # Strings made storable: a NUL or a lone surrogate in one field must not lose the
        # whole delivery (PostgreSQL refuses both).
        parsed = storable(_parse(adapter, credentials, body))
    except Exception as exc:
        # A body this version cannot read stays stored (raw) for a fixed version to reprocess.
        log.warning("gincore_chats: inbound event %s unreadable: %s", event_id, exc)
        _record_failure(state, event_id, f"Unreadable: {type(exc).__name__}: {exc}")
        return
    if getattr(adapter, "profile", None) is not None:
        # Read, commit, then ask the platform: no transaction stays open during the call.
        with unit_of_work(session):
            unnamed = _unnamed_senders(state, source_id, parsed)
        if unnamed:
            parsed = _with_profiles(
                parsed, _ask_profiles(state, kind, adapter, credentials, unnamed)
            )
    try:
        with unit_of_work(session):
            # The row lock makes two runs of the same event (a retried job) take turns.
            event = session.get(InboundEvent, event_id, with_for_update=True)
            if event is None or event.processed_at is not None:
                return
            source = session.get(Source, event.source_id)
            assert source is not None
            labels = apply(state, source, parsed)
            event.processed_at = utcnow()
            event.attempts += 1
            event.error = None
            event.summary = summarize(labels)
    except Exception as exc:
        _record_failure(state, event_id, f"{type(exc).__name__}: {exc}")
        raise  # RQ retries the job (PROCESS_RETRY_INTERVALS)


#: Longest event summary kept: a batch of 1000 items is told in counts, not listed.
SUMMARY_LIMIT = 1000


def summarize(labels: list[str]) -> str:
    """``message, message, receipt`` -> ``message x2, receipt`` (first-seen order)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    text = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items()) or "nothing"
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def _record_failure(state: ChatsState, event_id: int, error: str) -> None:
    with unit_of_work(state.session):
        event = state.session.get(InboundEvent, event_id)
        if event is not None:
            event.attempts += 1
            event.error = error[:2000]
            # The admins hear of a source that starts failing (source_alerts listens).
            inbound_failed.send(state, event=event)


def apply(state: ChatsState, source: Source, parsed: ParsedWebhook) -> list[str]:
    """Apply every item of one delivery; returns a label per item for the event's summary."""
    labels: list[str] = []
    for item in parsed.messages:
        labels.append(_message(state, source, item))
    for press in parsed.button_presses:
        labels.append(rating_prompts.do_apply_button(state, source, press))
    for edit in parsed.edits:
        message = find_by_external_id(state, source.id, edit.external_id)
        if message is None:
            labels.append("edit:unknown")
            continue
        conv = state.session.get(Conversation, message.conversation_id)
        assert conv is not None
        do_edit_customer_message(state, conv, message, edit.text)
        labels.append("edit")
    for receipt in parsed.deliveries:
        labels.append(do_apply_receipt(state, source, receipt))
    for change in parsed.reachability:
        labels.append(do_apply_reachability(state, source, change))
    labels.extend(f"ignored:{what}" for what in parsed.ignored)
    return labels


def _conversation_for(
    state: ChatsState, source: Source, contact: Contact, language: str | None
) -> Conversation:
    """The customer's latest conversation on this source, or a new one. The contact's row lock
    makes the first messages of a new customer, processed by two workers at once, share one.
    (A merged contact has conversations on other sources too: those stay where they are.)"""
    state.session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update())
    conv = state.session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id, Conversation.source_id == source.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conv is None:
        conv = do_open_conversation(state, source, contact, language)
    return conv


def body_of(item: InboundMessage) -> str:
    if item.text:
        return item.text
    if item.fallback_text:
        return item.fallback_text
    labels = [
        f"[file: {m.filename}]"
        if m.kind == "file" and m.filename
        else MEDIA_LABELS.get(m.kind, "[file]")
        for m in item.media
    ]
    return " ".join(labels) or "[empty message]"


def _sending(state: ChatsState, conv: Conversation, body: str) -> bool:
    """Is a reply containing this text still being sent (pending, no platform id yet)? An echo
    may carry one part of a long reply, so containment, not equality, decides."""
    pending = state.session.scalars(
        select(Message.body).where(
            Message.conversation_id == conv.id,
            Message.kind == MessageKind.MANAGER,
            Message.delivery_status == "pending",
            Message.external_id.is_(None),
        )
    )
    return any(body.strip() and body.strip() in text for text in pending)


def _message(state: ChatsState, source: Source, item: InboundMessage) -> str:
    if find_by_external_id(state, source.id, item.external_id) is not None:
        return "echo:ours" if item.is_echo else "message:duplicate"
    if item.is_echo and was_sent_by_us(state, source.id, item.external_id):
        return "echo:ours"  # a later part of a reply we sent in several parts
    if item.is_echo:
        # Sent from the platform's own inbox, not through us: show it, never re-send it.
        contact = find_channel_contact(state, source.id, item.sender.id)
        if contact is None:
            return "echo:unknown-customer"
        conv = _conversation_for(state, source, contact, None)
        body = body_of(item)
        if _sending(state, conv, body):
            # Our own reply, echoed before the send job stored its platform id.
            return "echo:ours"
        do_record_platform_reply(state, conv, body, item.external_id, source.name)
        return "echo"
    contact = do_upsert_channel_contact(state, source, item.sender)
    conv = _conversation_for(state, source, contact, item.sender.language)
    do_customer_wrote(state, contact, item.sent_at)
    if not item.media and rating_scores.take_numbered_reply(state, conv, item.text):
        return "rating"  # the answer to the rating prompt, not a message that reopens the chat
    quoted = (
        find_by_external_id(state, source.id, item.reply_to_external_id)
        if item.reply_to_external_id
        else None
    )
    media = [dataclasses.asdict(m) for m in item.media]
    message, created = do_receive_channel_message(
        state,
        conv,
        body_of(item),
        item.external_id,
        system_data={"media": media} if media else None,
        quoted_message_id=quoted.id
        if quoted is not None and quoted.conversation_id == conv.id
        else None,
    )
    if not created:
        return "message:duplicate"
    if item.media:
        store_inbound_media(state, source, message, item.media)
    return "message"


def store_inbound_media(
    state: ChatsState, source: Source, message: Any, media: Sequence[InboundMedia]
) -> None:
    """Download the files of an inbound message in a job, after commit.

    Platform links expire (Viber after an hour, WhatsApp within minutes), so the job runs at
    once; until it lands, the body names the file and ``system_data["media"]`` keeps the refs.
    """
    if not media:
        return
    message_id = message.id
    after_commit(state.session, lambda: enqueue(state, MEDIA_JOB, message_id))


def do_fetch_media(state: ChatsState, message_id: int) -> None:
    """The job's work: fetch each file through the adapter and attach it to the message.

    Downloads are slow and large, so each runs between transactions: read the refs, commit,
    download, then a new unit of work stores the file (as :func:`.outbound.deliver` sends).
    """
    session = state.session
    with unit_of_work(session):
        message = session.get(Message, message_id)
        if message is None or message.deleted_at is not None:
            return
        conv = session.get(Conversation, message.conversation_id)
        source = conv.source if conv is not None else None
        adapter = get_adapter(source.kind) if source is not None else None
        fetch = getattr(adapter, "fetch_media", None)
        refs = [dict(r) for r in (message.system_data or {}).get("media") or []]
        if source is None or fetch is None or not refs:
            return
        credentials = read_credentials(state, source)
    for index, ref in enumerate(refs):
        if ref.get("stored") or ref.get("error"):
            continue  # a re-run after a crash does not fetch twice
        try:
            fetched: FetchedMedia | str = fetch(
                state.config.channels,
                credentials,
                InboundMedia(**_media_fields(ref)),
                state.config.max_upload_size,
            )
        except ChannelError as exc:
            fetched = str(exc)
        _store_media(state, message_id, index, fetched)


def _store_media(
    state: ChatsState, message_id: int, index: int, fetched: FetchedMedia | str
) -> None:
    """Attach one downloaded file (or note why it is missing) to ref ``index`` of the message."""
    session = state.session
    with unit_of_work(session):
        # Lock the row alone (the message loads its quote with an outer join, which FOR UPDATE
        # refuses): a second run of the job waits here, then sees the ref stored and stops.
        session.execute(select(Message.id).where(Message.id == message_id).with_for_update())
        message = session.get(Message, message_id)
        if message is None or message.deleted_at is not None:
            return
        # Copies: changed in place, the JSON column would not see a change to save.
        refs = [dict(r) for r in (message.system_data or {}).get("media") or []]
        if index >= len(refs) or refs[index].get("stored") or refs[index].get("error"):
            return
        conv = session.get(Conversation, message.conversation_id)
        assert conv is not None
        if isinstance(fetched, str):
            # The customer's message stays, naming the file; the manager sees why it is missing.
            refs[index]["error"] = fetched[:300]
        else:
            try:
                with session.begin_nested():
                    attachment = do_attach_inbound(
                        state, message, conv, fetched.data, fetched.filename
                    )
                refs[index]["stored"] = attachment.public_id
            except UploadError as exc:
                refs[index]["error"] = str(exc)[:300]
        message.system_data = {**(message.system_data or {}), "media": refs}
        publish_message_update(state, conv, message)


def _media_fields(ref: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(InboundMedia)}
    return {k: v for k, v in ref.items() if k in names}
