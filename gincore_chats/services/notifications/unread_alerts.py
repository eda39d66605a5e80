"""Emails about unread messages, after a per-source timeout.

Two scenarios share one mechanism:

* **employees**: customer messages that no employee of the source (nor a manager in the chat)
  has read or answered within ``employee_email_timeout_seconds`` are mailed to the managers
  responsible for the chat (services.recipients), once per window;
* **customers**: manager replies the visitor has not seen (the widget reports what it showed)
  within ``customer_email_timeout_seconds`` are mailed to the customer, if their email is known
  and the corporate mailbox is usable.

A *window* is the run of unread messages after the last one mailed. Its first message fixes the
due time (message time + timeout) and the job id, so a burst of messages schedules one job and
one email covers them all. Scheduling happens after commit; reading discards the waiting job, but
that is only an optimisation: cancelling races with the scheduler (rq#1669, #2160), so the job
re-reads the database when it fires, and ``NotificationLog``'s unique (conversation, kind,
newest message) key is claimed and committed before the email leaves, so a window is never
mailed twice (a worker killed between the claim and the SMTP call loses that one email).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rq import Retry
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ...host import Host
from ...models import (
    Conversation,
    Message,
    MessageKind,
    NotificationKind,
    NotificationLog,
    ReadState,
    Source,
    VisitorContext,
    utcnow,
)
from ...queue import discard, job_id, schedule_once
from ...state import ChatsState
from ..hours import settings as hours_settings
from ..unit_of_work import after_commit, unit_of_work
from . import alert_emails, links, mailbox, recipients

log = logging.getLogger(__name__)

EMPLOYEE_TIMEOUT = "employee_email_timeout_seconds"
CUSTOMER_TIMEOUT = "customer_email_timeout_seconds"
#: Clocks of the app servers and workers differ a little; a job this early still sends.
EARLY = timedelta(seconds=1)
#: An SMTP server that is briefly down: try again after 30 s, 2 min and 10 min.
RETRY = Retry(max=3, interval=[30, 120, 600])


def timeout(source: Source, key: str) -> timedelta | None:
    """The source's timeout for a scenario; None (off) when unset or not positive."""
    raw = (source.settings or {}).get(key)
    try:
        seconds = float(raw) if raw is not None else 0.0
    except (TypeError, ValueError):
        return None
    return timedelta(seconds=seconds) if seconds > 0 else None


def due_at(source: Source, scenario: Scenario, since: datetime, wait: timedelta) -> datetime:
    """When a window that started at ``since`` is due: plain time, or for employees of a
    source that counts business time, ``wait`` of open hours (a message on Friday evening
    is mailed on Monday morning, a few minutes after opening)."""
    if scenario.kind == NotificationKind.EMPLOYEE_UNREAD:
        hours = hours_settings.of(source)
        if hours.enabled and hours.alerts_business_time:
            return hours.schedule.add_business_time(since, wait)
    return since + wait


def do_set_timeouts(
    state: ChatsState,
    source: Source,
    *,
    employee_seconds: float | None,
    customer_seconds: float | None,
) -> None:
    """Set (a positive number of seconds) or clear (None, 0) the source's two timeouts.

    Jobs already waiting keep their time; each re-reads the timeout when it fires.
    """
    settings = dict(source.settings or {})
    for key, value in ((EMPLOYEE_TIMEOUT, employee_seconds), (CUSTOMER_TIMEOUT, customer_seconds)):
        if value is not None and value < 0:
            raise ValueError("A timeout cannot be negative.")
        if value:
            settings[key] = round(float(value), 3)
        else:
            settings.pop(key, None)
    # A new dict, so the JSON column is seen as changed.
    source.settings = settings


def _notified_upto(state: ChatsState, conv_id: int, kind: str) -> int:
    return int(
        state.session.scalar(
            select(func.max(NotificationLog.upto_message_id)).where(
                NotificationLog.conversation_id == conv_id, NotificationLog.kind == kind
            )
        )
        or 0
    )


def _employee_pending(state: ChatsState, conv: Conversation) -> list[Message]:
    """Customer messages nobody who answers the chat has read or replied to, not yet mailed."""
    read = state.session.scalar(
        select(func.max(ReadState.last_read_message_id)).where(
            ReadState.conversation_id == conv.id,
            ReadState.manager_id.in_(recipients.watcher_ids(conv)),
        )
    )
    # A reply answers what came before it, whoever wrote it and whatever they marked read.
    answered = state.session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conv.id, Message.kind == MessageKind.MANAGER
        )
    )
    notified = _notified_upto(state, conv.id, NotificationKind.EMPLOYEE_UNREAD)
    floor = max(read or 0, answered or 0, notified)
    return list(
        state.session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conv.id,
                Message.kind == MessageKind.CUSTOMER,
                Message.id > floor,
            )
            .order_by(Message.id)
        ).unique()
    )


def _customer_pending(state: ChatsState, conv: Conversation) -> list[Message]:
    """Manager replies the widget has not shown to the visitor, not yet mailed."""
    floor = max(
        conv.customer_last_read_message_id or 0,
        _notified_upto(state, conv.id, NotificationKind.CUSTOMER_UNREAD),
    )
    return list(
        state.session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conv.id,
                Message.kind == MessageKind.MANAGER,
                Message.deleted_at.is_(None),
                Message.id > floor,
            )
            .order_by(Message.id)
        ).unique()
    )


#: Either a reason not to send (kept as the job's outcome) or a function that sends and returns
#: how many recipients it reached.
Sender = Callable[[], int] | str


def _employee_sender(
    state: ChatsState, conv: Conversation, pending: list[Message], box: mailbox.Mailbox, host: Host
) -> Sender:
    wanted = recipients.responsible_ids(conv)
    to = sorted(set(recipients.email_addresses(state, wanted, host.load_user).values()))
    link = links.console_url(state, conv.id, host)
    # Rendered now, while the rows are loaded: the email leaves after the claim's commit.
    email = alert_emails.employee_unread(conv, pending, link) if to else None

    def send() -> int:
        if email is not None:
            mailbox.send(box, to=to, subject=email.subject, text=email.text, html=email.html)
        return len(to)

    return send


def _customer_sender(
    state: ChatsState, conv: Conversation, pending: list[Message], box: mailbox.Mailbox, host: Host
) -> Sender:
    address = conv.contact.email
    if not address:
        return "no customer email"
    context = state.session.get(VisitorContext, conv.id)
    page = context.current_page if context is not None else None
    page_url = page if page and page.startswith(("https://", "http://")) else None
    email = alert_emails.customer_unread(conv, pending, box.from_name or conv.source.name, page_url)

    def send() -> int:
        mailbox.send(
            box,
            to=[address],
            subject=email.subject,
            text=email.text,
            html=email.html,
            reply_to=box.from_address,
        )
        return 1

    return send


@dataclass(frozen=True)
class Scenario:
    kind: str
    setting: str
    job_name: str
    func: str
    pending: Callable[[ChatsState, Conversation], list[Message]]
    sender: Callable[[ChatsState, Conversation, list[Message], mailbox.Mailbox, Host], Sender]


EMPLOYEES = Scenario(
    kind=NotificationKind.EMPLOYEE_UNREAD,
    setting=EMPLOYEE_TIMEOUT,
    job_name="unread",
    func="gincore_chats.jobs.notifications.employee_unread",
    pending=_employee_pending,
    sender=_employee_sender,
)
CUSTOMERS = Scenario(
    kind=NotificationKind.CUSTOMER_UNREAD,
    setting=CUSTOMER_TIMEOUT,
    job_name="reply",
    func="gincore_chats.jobs.notifications.customer_unread",
    pending=_customer_pending,
    sender=_customer_sender,
)


# -- scheduling (after-commit effects) -----------------------------------------------------------


def _current_key(state: ChatsState, scenario: Scenario, conv_id: int) -> str:
    """Redis key holding the id of the job waiting for the conversation's current window."""
    return state.key("alert", scenario.job_name, conv_id)


def _schedule(state: ChatsState, scenario: Scenario, conv_id: int, *, retry_id: str = "") -> None:
    """Schedule the job for the current window, if there is one (idempotent)."""
    conv = state.session.get(Conversation, conv_id)
    if conv is None:
        return
    wait = timeout(conv.source, scenario.setting)
    if wait is None:
        return
    pending = scenario.pending(state, conv)
    if not pending:
        return
    first = pending[0]
    # Whole seconds, rounded up: RQ's scheduler stores scores in seconds, and a job must not
    # run before its window is due.
    due_time = due_at(conv.source, scenario, first.created_at, wait)
    due = datetime.fromtimestamp(math.ceil(due_time.timestamp()), UTC)
    # The due time is part of the id, so shortening a source's timeout schedules anew.
    parts: list[object] = [scenario.job_name, conv_id, first.id, int(due.timestamp())]
    jid = job_id(state, *parts, *([retry_id] if retry_id else []))
    schedule_once(state, scenario.func, conv_id, first.id, job_id=jid, at=due, retry=RETRY)
    ttl = int(max(wait.total_seconds(), (due - utcnow()).total_seconds())) + 86400
    state.redis.set(_current_key(state, scenario, conv_id), jid, ex=ttl)


def _reconsider(state: ChatsState, scenario: Scenario, conv_id: int) -> None:
    """After a read or a reply: drop the waiting job, and schedule what is still unread."""
    current = state.redis.get(_current_key(state, scenario, conv_id))
    if current:
        discard(state, current.decode() if isinstance(current, bytes) else str(current))
    _schedule(state, scenario, conv_id)


def _later(state: ChatsState, scenario: Scenario, conv_id: int) -> None:
    after_commit(state.session, lambda: _schedule(state, scenario, conv_id))


def after_customer_message(state: ChatsState, conv: Conversation) -> None:
    """A customer wrote: employees hear about it if it stays unread."""
    if timeout(conv.source, EMPLOYEE_TIMEOUT) is not None:
        _later(state, EMPLOYEES, conv.id)


def after_manager_message(state: ChatsState, conv: Conversation) -> None:
    """A manager replied: that answers the customer, and the customer may not see the reply."""
    conv_id = conv.id
    if timeout(conv.source, EMPLOYEE_TIMEOUT) is not None:
        after_commit(state.session, lambda: _reconsider(state, EMPLOYEES, conv_id))
    if timeout(conv.source, CUSTOMER_TIMEOUT) is not None:
        _later(state, CUSTOMERS, conv_id)


def after_employee_read(state: ChatsState, conv: Conversation) -> None:
    if timeout(conv.source, EMPLOYEE_TIMEOUT) is not None:
        conv_id = conv.id
        after_commit(state.session, lambda: _reconsider(state, EMPLOYEES, conv_id))


def after_customer_read(state: ChatsState, conv: Conversation) -> None:
    if timeout(conv.source, CUSTOMER_TIMEOUT) is not None:
        conv_id = conv.id
        after_commit(state.session, lambda: _reconsider(state, CUSTOMERS, conv_id))


# -- the job ----------------------------------------------------------------------------------


def run(state: ChatsState, scenario: Scenario, conv_id: int, host: Host) -> str:
    """Re-check the conversation and send the window's email if it is still due and unsent.

    ``host``: the host's user loader and root URL (for recipients and links), from the job.

    Returns what happened (the worker logs it). Serialised per conversation with a Redis lock,
    so two workers never build overlapping windows; the log's unique key is the last guard.
    """
    lock = state.redis.lock(
        state.key("alert-lock", scenario.job_name, conv_id), timeout=120, blocking_timeout=60
    )
    with lock:
        outcome = _claim(state, scenario, conv_id, host)
        if isinstance(outcome, str):
            return outcome
        claim_id, send = outcome
        # The window's log row is committed before the email leaves: a re-run of this job (a
        # database reset after the SMTP call, a killed worker's job retried) finds it and sends
        # nothing. A worker killed between the two loses this one email, never doubles it.
        try:
            recipients = send()
        except Exception:
            # Nothing left: give the window back, so RQ's retry sends it.
            with unit_of_work(state.session):
                state.session.execute(delete(NotificationLog).where(NotificationLog.id == claim_id))
            raise
        with unit_of_work(state.session):
            claim = state.session.get(NotificationLog, claim_id)
            if claim is not None:
                claim.recipients = recipients
            # Messages that arrived while this job worked start the next window.
            after_commit(state.session, lambda: _schedule(state, scenario, conv_id))
        return f"sent to {recipients}" if recipients else "nobody to send to"


def _claim(
    state: ChatsState, scenario: Scenario, conv_id: int, host: Host
) -> str | tuple[int, Callable[[], int]]:
    """Re-check the window and claim it: why not to send, or (log row id, the send)."""
    with unit_of_work(state.session):
        conv = state.session.get(Conversation, conv_id)
        if conv is None:
            return "conversation deleted"
        wait = timeout(conv.source, scenario.setting)
        if wait is None:
            return "switched off"
        pending = scenario.pending(state, conv)
        if not pending:
            return "read or already sent"
        if due_at(conv.source, scenario, pending[0].created_at, wait) - EARLY > utcnow():
            # Not due (the window moved on after a partial read, or the timeout grew): one job
            # per check, with an id of its own, since this job's id is still taken.
            retry_id = f"r{int(utcnow().timestamp())}"
            after_commit(
                state.session, lambda: _schedule(state, scenario, conv_id, retry_id=retry_id)
            )
            return "not due yet"
        box = mailbox.load(state)
        if not box.usable:
            return f"corporate email unusable: {box.inactive_reason}"
        send = scenario.sender(state, conv, pending, box, host)
        if isinstance(send, str):
            return send
        claim = NotificationLog(
            conversation_id=conv.id,
            kind=scenario.kind,
            upto_message_id=pending[-1].id,
            recipients=0,
            sent_at=utcnow(),
        )
        try:
            with state.session.begin_nested():
                state.session.add(claim)
                state.session.flush()
        except IntegrityError:
            return "already sent"
        return claim.id, send
