"""Manager replies that leave through a messenger platform, from RQ jobs, with retries.

A reply in a channel conversation is stored as ``pending`` and a send job is enqueued after
commit. The job calls the adapter outside any transaction, then records the outcome:

* success: the platform's message id and ``sent`` (receipts later move it to delivered/read);
* a rate limit (``ChannelError.retry_after``: Telegram 429, Meta codes): the next attempt is
  scheduled no earlier than the platform asked;
* another passing error (network, 5xx, Viber status 12): exponential back-off,
  ``CHATS_SEND_BACKOFF`` * 2**(attempt-1) seconds, up to ``CHATS_SEND_MAX_ATTEMPTS`` attempts;
* a permanent error (blocked bot, WhatsApp's 24-hour window, bad token): ``failed`` with the
  platform's reason, which the console shows; the manager may retry.

Edits and deletes of sent messages follow the same pattern where the platform supports them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from rq import Retry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import metrics
from ...channels.base import (
    Channel,
    ChannelError,
    OutboundAttachment,
    OutboundMessage,
    SendResult,
)
from ...channels.registry import get_adapter, label
from ...identity import Manager
from ...models import Attachment, Conversation, Message, MessageKind, Source, SourceKind, utcnow
from ...permissions import Permission, PermissionDenied
from ...queue import enqueue
from ...state import ChatsState
from ..contacts.customers import platform_contact
from ..conversations.message_events import publish_message_update
from ..errors import MessageError
from ..files.attachments import outbound_attachment
from ..secrets import SecretUnreadable, decrypt
from ..unit_of_work import after_commit, unit_of_work
from .delivery import FAILED, PENDING, SENT, apply_parked, do_set_delivery
from .reachability import do_set_reachability, not_sent_reason

log = logging.getLogger(__name__)

SEND_JOB = "gincore_chats.jobs.outbound.send"
EDIT_JOB = "gincore_chats.jobs.outbound.edit"
DELETE_JOB = "gincore_chats.jobs.outbound.delete"
#: Longest back-off between two attempts.
MAX_DELAY = 3600.0
#: Shown while a send waits for its next attempt, before the platform's reason.
RETRYING = "Retrying: "
EDIT_FAILED = "The edit did not reach the customer: "
DELETE_FAILED = "The customer may still see this message: "
#: A job that dies for a reason of its own (a database connection reset, a worker killed with
#: kill -9, found abandoned by RQ) runs again; the platform's answer is kept meanwhile
#: (:func:`_remember_result`), so a second run never sends twice.
JOB_RETRY = Retry(max=5, interval=[1, 5, 15, 60, 300])


def channel_for(source: Source) -> Channel | None:
    return None if source.kind == SourceKind.WIDGET else get_adapter(source.kind)


def _schedule(state: ChatsState, job: str, message_id: int, attempt: int, delay: float) -> None:
    # RQ's scheduler keeps whole seconds and rounds down, so one second more guarantees the
    # job never runs before ``delay`` (a platform's retry_after) has passed.
    wait = timedelta(seconds=delay + 1) if delay > 0 else None
    after_commit(
        state.session,
        lambda: enqueue(state, job, message_id, attempt, delay=wait, retry=JOB_RETRY),
    )


def retry_delay(state: ChatsState, exc: ChannelError, attempt: int) -> float:
    if exc.retry_after is not None:
        return max(0.0, float(exc.retry_after))
    return min(MAX_DELAY, state.config.send_backoff * 2 ** (attempt - 1))


# -- hooks called by services.messages -----------------------------------------------------------


def queue_send(state: ChatsState, conv: Conversation, message: Message) -> None:
    """Mark a new public reply in a channel conversation pending and send it after commit.

    To a customer marked unreachable it is not sent at all: it fails at once with the reason.
    """
    if not _to_platform(message) or channel_for(conv.source) is None:
        return
    if conv.contact.unreachable_at is not None:
        message.delivery_status = FAILED
        message.delivery_error = not_sent_reason(conv.contact)
        message.delivery_updated_at = utcnow()
        return
    message.delivery_status = PENDING
    message.delivery_error = None
    message.delivery_updated_at = message.created_at
    _schedule(state, SEND_JOB, message.id, 1, 0)


def _to_platform(message: Message) -> bool:
    """Replies, the AI assistant's answers, and notices for the customer (an AI hand-off)."""
    if message.kind == MessageKind.SYSTEM:
        return bool((message.system_data or {}).get("to_customer"))
    return message.kind in (MessageKind.MANAGER, MessageKind.ASSISTANT)


def queue_edit(state: ChatsState, conv: Conversation, message: Message) -> None:
    adapter = channel_for(conv.source)
    if adapter is not None and adapter.supports_edit and message.external_id:
        _schedule(state, EDIT_JOB, message.id, 1, 0)


def queue_delete(state: ChatsState, conv: Conversation, message: Message) -> None:
    adapter = channel_for(conv.source)
    if adapter is not None and adapter.supports_delete and message.external_id:
        _schedule(state, DELETE_JOB, message.id, 1, 0)


def do_retry(state: ChatsState, manager: Manager, conv: Conversation, message: Message) -> Message:
    """A manager sends a failed reply again.

    Asked to, the send is attempted even to a customer marked unreachable (they may have come
    back without the platform saying so): the mark is lifted, and the platform's answer sets
    it again if they are still out of reach.
    """
    if not manager.can(Permission.REPLY):
        raise PermissionDenied("You need the chats.reply permission to write.", Permission.REPLY)
    if (
        message.kind != MessageKind.MANAGER
        or message.delivery_status != FAILED
        or message.deleted_at is not None
    ):
        raise MessageError("Only a reply that failed to send can be sent again.")
    if conv.contact.unreachable_at is not None:
        do_set_reachability(state, conv.contact, True)
    # The platform's answer to the earlier send (kept against a crash before our commit) is
    # what it later reported as failed: the new send must not mistake it for its own. Dropped
    # after commit and before the send job is queued (after-commit effects run in order).
    message_id = message.id
    after_commit(state.session, lambda: state.redis.delete(_result_key(state, message_id)))
    queue_send(state, conv, message)
    publish_message_update(state, conv, message)
    return message


# -- the jobs' work ----------------------------------------------------------------------------


def _attachments(state: ChatsState, message: Message) -> tuple[OutboundAttachment, ...]:
    files: list[Attachment] = [a for a in message.attachments if a.deleted_at is None]
    if not files:
        return ()
    return tuple(outbound_attachment(state, a) for a in files)


def _outbound(state: ChatsState, conv: Conversation, message: Message) -> OutboundMessage:
    contact = conv.contact
    # After a merge the conversation's contact may be another one: the platform id is on the
    # row of the contact that wrote from this source.
    holder = platform_contact(state, contact, conv.source_id)
    if holder is None or not holder.external_id:
        raise ChannelError("This customer has no id on the platform.", permanent=True)
    # The customer-service window (WhatsApp, Meta) runs from the customer's last message in
    # any of their conversations.
    last_customer = state.session.scalar(
        select(func.max(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.contact_id == contact.id, Message.kind == MessageKind.CUSTOMER)
    )
    quoted = message.quoted if message.quoted_message_id else None
    return OutboundMessage(
        recipient_id=holder.external_id,
        text=message.body,
        attachments=_attachments(state, message),
        reply_to_external_id=quoted.external_id if quoted is not None else None,
        sender_name=message.author_name,
        idempotency_key=f"gincore-msg-{message.id}",
        customer_last_message_at=last_customer,
        metadata={
            "source_id": conv.source_id,
            "conversation_id": conv.id,
            "message_id": message.id,
            "created_at": message.created_at.isoformat(),
        },
    )


def _credentials(state: ChatsState, source: Source) -> dict[str, Any]:
    try:
        return decrypt(state, source.credentials_encrypted)
    except SecretUnreadable:
        raise ChannelError(
            "The source's credentials cannot be read; an admin must enter them again.",
            permanent=True,
        ) from None


def _call(work: Callable[[], Any]) -> tuple[Any, ChannelError | None]:
    try:
        return work(), None
    except ChannelError as exc:
        return None, exc
    except Exception:
        # A bug in an adapter must not lose the reply: log it and treat it as passing.
        log.exception("gincore_chats: channel call failed unexpectedly")
        return None, ChannelError("Unexpected error while talking to the platform.")


def deliver(state: ChatsState, message_id: int, attempt: int) -> None:
    """One send attempt (the send job)."""
    session = state.session
    with unit_of_work(session):
        message = session.get(Message, message_id)
        if message is None or message.delivery_status != PENDING:
            return  # sent, failed or deleted meanwhile; a duplicate job does nothing
        conv = session.get(Conversation, message.conversation_id)
        assert conv is not None
        source_id = conv.source_id
        adapter = channel_for(conv.source)
        if message.deleted_at is not None:
            do_set_delivery(state, conv, message, FAILED, "Deleted before it was sent.")
            return
        if conv.contact.unreachable_at is not None:
            # Marked since the reply was queued (a block came in): no call to the platform.
            do_set_delivery(state, conv, message, FAILED, not_sent_reason(conv.contact))
            return
        payload: tuple[Channel, dict[str, Any], OutboundMessage] | None = None
        problem: ChannelError | None = None
        if adapter is None:
            problem = ChannelError("This source has no channel adapter.", permanent=True)
        else:
            try:
                payload = (
                    adapter,
                    _credentials(state, conv.source),
                    _outbound(state, conv, message),
                )
            except ChannelError as exc:
                problem = exc
    result = _earlier_result(state, message_id)
    if payload is not None and result is None:
        adapter, credentials, outbound = payload
        result, problem = _call(lambda: adapter.send(state.config.channels, credentials, outbound))
        if result is not None:
            _remember_result(state, message_id, result)
    if result is not None:
        problem = None
        # Before our commit: an echo of any part may be processed while this job still runs.
        sent_ids = [result.external_id, *result.extra.get("external_ids", [])]
        remember_sent_ids(state, source_id, sent_ids)
    with unit_of_work(session):
        # Lock the row alone (the message loads its quote with an outer join, which FOR UPDATE
        # refuses), so a concurrent retry or receipt waits for this outcome.
        session.execute(select(Message.id).where(Message.id == message_id).with_for_update())
        message = session.get(Message, message_id)
        if message is None or message.delivery_status != PENDING:
            return
        conv = session.get(Conversation, message.conversation_id)
        assert conv is not None
        if problem is None and result is not None:
            _store_external_id(state, message, result.external_id)
            incomplete = result.extra.get("incomplete")
            do_set_delivery(
                state,
                conv,
                message,
                SENT,
                f"Part of the message was not delivered: {incomplete}" if incomplete else None,
            )
            source_id, external_id = conv.source_id, result.external_id
            # Receipts that came before this commit were parked; apply them now.
            after_commit(session, lambda: _apply_parked_now(state, source_id, external_id))
            return
        assert problem is not None
        final = problem.permanent or attempt >= state.config.send_max_attempts
        kind = conv.source.kind
        after_commit(session, lambda: metrics.provider_error(state, kind, final=final))
        if final:
            reason = problem.reason
            if not problem.permanent:
                reason = f"{reason} (gave up after {attempt} attempts)"
            do_set_delivery(state, conv, message, FAILED, reason)
            if problem.unreachable:
                # The platform says the customer blocked us: later replies are not attempted.
                refused = (
                    f"{label(conv.source.kind)} refused a reply: {problem.reason.rstrip('.')}."
                )
                do_set_reachability(state, conv.contact, False, refused)
            return
        do_set_delivery(state, conv, message, PENDING, RETRYING + problem.reason)
        _schedule(state, SEND_JOB, message_id, attempt + 1, retry_delay(state, problem, attempt))


SENT_IDS_TTL = 7 * 24 * 3600


def _result_key(state: ChatsState, message_id: int) -> str:
    return state.key("send-result", message_id)


def _remember_result(state: ChatsState, message_id: int, result: SendResult) -> None:
    """The platform took the message: keep that before our commit, which may never come (the
    worker killed, the database connection reset). The job's next run then records it instead
    of sending it again."""
    data = json.dumps({"external_id": result.external_id, "extra": result.extra}, default=str)
    try:
        state.redis.set(_result_key(state, message_id), data, ex=SENT_IDS_TTL)
    except Exception:
        log.warning("gincore_chats: could not keep the send result of %s", message_id)


def _earlier_result(state: ChatsState, message_id: int) -> SendResult | None:
    raw = state.redis.get(_result_key(state, message_id))
    if not raw:
        return None
    data = json.loads(raw)
    return SendResult(str(data["external_id"]), dict(data.get("extra") or {}))


def _sent_key(state: ChatsState, source_id: int, external_id: str) -> str:
    return state.key("sent", source_id, external_id)


def remember_sent_ids(state: ChatsState, source_id: int, external_ids: list[str]) -> None:
    """Every platform id a send produced (a long reply goes out in parts), so their echoes are
    recognised as ours; the message row keeps only the first id."""
    pipe = state.redis.pipeline()
    for external_id in {str(e) for e in external_ids if e}:
        pipe.set(_sent_key(state, source_id, external_id), 1, ex=SENT_IDS_TTL)
    pipe.execute()


def was_sent_by_us(state: ChatsState, source_id: int, external_id: str) -> bool:
    return bool(state.redis.exists(_sent_key(state, source_id, external_id)))


def _store_external_id(state: ChatsState, message: Message, external_id: str) -> None:
    """Keep the platform's id for receipts and edits. Should another row hold it already (an
    echo recorded as a reply typed elsewhere), the send still counts: only the id is dropped."""
    try:
        with state.session.begin_nested():
            message.external_id = external_id
            state.session.flush()
    except IntegrityError:
        log.warning("gincore_chats: platform id %s of message %s is taken", external_id, message.id)
        message.external_id = None


def _apply_parked_now(state: ChatsState, source_id: int, external_id: str) -> None:
    with unit_of_work(state.session):
        apply_parked(state, source_id, external_id)


def change_remotely(state: ChatsState, message_id: int, attempt: int, *, delete: bool) -> None:
    """Carry a manager's edit or delete of a sent message to the platform (the edit/delete jobs)."""
    session = state.session
    with unit_of_work(session):
        message = session.get(Message, message_id)
        if message is None or not message.external_id:
            return
        if (message.deleted_at is not None) != delete:
            return  # an edit job for a message deleted since: the delete job handles it
        conv = session.get(Conversation, message.conversation_id)
        assert conv is not None
        adapter = channel_for(conv.source)
        if adapter is None:
            return
        recipient = conv.contact.external_id or ""
        external_id, text = message.external_id, message.body
        problem: ChannelError | None = None
        try:
            credentials = _credentials(state, conv.source)
        except ChannelError as exc:
            credentials, problem = {}, exc
    if problem is None:
        config = state.config.channels
        editable: Any = adapter  # edit/delete exist where supports_edit/supports_delete say so
        if delete:
            _, problem = _call(lambda: editable.delete(config, credentials, recipient, external_id))
        else:
            _, problem = _call(
                lambda: editable.edit(config, credentials, recipient, external_id, text)
            )
    prefix = DELETE_FAILED if delete else EDIT_FAILED
    with unit_of_work(session):
        message = session.get(Message, message_id)
        if message is None:
            return
        conv = session.get(Conversation, message.conversation_id)
        assert conv is not None
        status = message.delivery_status or SENT
        if problem is None:
            if message.delivery_error and message.delivery_error.startswith(
                (EDIT_FAILED, DELETE_FAILED)
            ):
                do_set_delivery(state, conv, message, status, None)
            return
        if problem.permanent or attempt >= state.config.send_max_attempts:
            do_set_delivery(state, conv, message, status, prefix + problem.reason)
            return
        job = DELETE_JOB if delete else EDIT_JOB
        _schedule(state, job, message_id, attempt + 1, retry_delay(state, problem, attempt))
