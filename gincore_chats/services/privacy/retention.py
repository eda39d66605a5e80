"""Retention per source: how long conversations, visitor contexts and full IP addresses stay.

A source's policy lives in ``source.settings["retention"]`` (set on its settings page):

- ``conversation_days`` and ``conversation_action``: a conversation without activity for that
  many days (closed, or left open and silent) is deleted with its messages and files (their
  space is freed from the quota), or its customer is anonymised: their messages become
  tombstones and their details go, as an erase does (:mod:`.erasure`, without the scan of
  every table), while the team's replies and the counts stay. A contact is anonymised once all
  of their conversations on the source are that old.
- ``context_days``: the visitor context (IP, pages, user agent) goes sooner than the messages.
- ``truncate_ips``: new IPs are truncated when written (:func:`ip_for_storage`), and the run
  truncates those stored before.

The run works in batches (``BATCH`` rows per transaction, rows being written skipped, not
waited for), so a first run on a large database never holds long locks. ``dry_run`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, not_, or_, select, update

from ...babel import N_
from ...identity import Manager
from ...models import (
    Attachment,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
    MessageKind,
    Source,
    VisitorContext,
    metadata,
    utcnow,
)
from ...state import ChatsState
from .. import audit_log
from ..errors import TranslatableError
from ..files import attachments as files
from ..unit_of_work import unit_of_work
from .erasure import delete_where, do_erase
from .ip_addresses import truncate_ip

BATCH = 200
DELETE, ANONYMISE = "delete", "anonymise"
ACTIONS = (DELETE, ANONYMISE)
#: Ten years: beyond that a number is a typo.
MAX_DAYS = 3650
_KEY = "retention"


class RetentionError(TranslatableError):
    """A policy the settings form cannot save; ``field`` names the form field to fix."""

    def __init__(self, field: str, msgid: str, **params: object) -> None:
        super().__init__(msgid, **params)
        self.field = field


@dataclass(frozen=True)
class Policy:
    conversation_days: int | None = None
    conversation_action: str = DELETE
    context_days: int | None = None
    truncate_ips: bool = False

    @property
    def active(self) -> bool:
        return bool(self.conversation_days or self.context_days or self.truncate_ips)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def policy(source: Source) -> Policy:
    raw = (source.settings or {}).get(_KEY) or {}
    return Policy(
        conversation_days=raw.get("conversation_days"),
        conversation_action=raw.get("conversation_action", DELETE),
        context_days=raw.get("context_days"),
        truncate_ips=bool(raw.get("truncate_ips")),
    )


def _days(value: Any, field: str) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise RetentionError(
            field, N_("A whole number of days from 1 to %(max)d, or empty."), max=MAX_DAYS
        )
    return int(text)


def clean_policy(form: dict[str, Any]) -> Policy:
    """A policy from the settings form, or a RetentionError saying which field to fix and how."""
    days = _days(form.get("conversation_days"), "conversation_days")
    action = str(form.get("conversation_action") or DELETE)
    if action not in ACTIONS:
        raise RetentionError(
            "conversation_action", N_("Choose to delete or to anonymise old conversations.")
        )
    context = _days(form.get("context_days"), "context_days")
    if days and context and context > days:
        raise RetentionError(
            "context_days",
            N_(
                "Keep the visitor context for fewer days than the conversations "
                "(at most %(days)d days here)."
            ),
            days=days,
        )
    truncate = str(form.get("truncate_ips") or "").lower() in ("on", "true", "1", "yes")
    return Policy(days, action, context, truncate)


def do_save_policy(state: ChatsState, manager: Manager | None, source: Source, new: Policy) -> None:
    old = policy(source)
    source.settings = {**(source.settings or {}), _KEY: new.as_dict()}
    if old != new:
        audit_log.do_record(
            state,
            manager,
            "source.retention.updated",
            "source",
            source.id,
            before=old.as_dict(),
            after=new.as_dict(),
        )


# -- the run -------------------------------------------------------------------------------------


@dataclass
class SourceRun:
    source_id: int
    name: str
    policy: Policy
    conversations_deleted: int = 0
    contacts_anonymised: int = 0
    contexts_deleted: int = 0
    ips_truncated: int = 0
    bytes_freed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("policy", "name")}


@dataclass
class RunReport:
    dry_run: bool
    sources: list[SourceRun] = field(default_factory=list)


def _old_conversations(source_id: int, cutoff: datetime) -> Any:
    return and_(Conversation.source_id == source_id, Conversation.last_activity_at < cutoff)


def _identified(contact: Any) -> Any:
    """SQL: the contact still says who they are, or wrote something still stored."""
    return or_(
        contact.name.isnot(None),
        contact.email.isnot(None),
        contact.phone.isnot(None),
        contact.external_id.isnot(None),
        exists().where(
            Conversation.contact_id == contact.id,
            exists().where(
                Message.conversation_id == Conversation.id,
                Message.kind == MessageKind.CUSTOMER,
                Message.deleted_at.is_(None),
            ),
        ),
        exists().where(
            Conversation.contact_id == contact.id,
            exists().where(VisitorContext.conversation_id == Conversation.id),
        ),
    )


def _anonymisable(source_id: int, cutoff: datetime) -> Any:
    recent = exists().where(
        Conversation.contact_id == Contact.id, Conversation.last_activity_at >= cutoff
    )
    return and_(Contact.source_id == source_id, not_(recent), _identified(Contact))


def _count(state: ChatsState, query: Any) -> int:
    return int(state.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _delete_batch(state: ChatsState, source_id: int, cutoff: datetime) -> tuple[int, int]:
    ids = list(
        state.session.scalars(
            select(Conversation.id)
            .where(_old_conversations(source_id, cutoff))
            .order_by(Conversation.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return 0, 0
    rows = list(
        state.session.scalars(select(Attachment).where(Attachment.conversation_id.in_(ids)))
    )
    freed = files.do_free_attachments(state, rows)
    contact_ids = set(
        state.session.scalars(select(Conversation.contact_id).where(Conversation.id.in_(ids)))
    )
    conversations = metadata.tables["chats_conversations"]
    delete_where(state, conversations, conversations.c.id.in_(ids))
    contacts = metadata.tables["chats_contacts"]
    orphaned = and_(
        contacts.c.id.in_(contact_ids),
        ~exists().where(conversations.c.contact_id == contacts.c.id),
    )
    delete_where(state, contacts, orphaned)
    return len(ids), freed


def _anonymise_batch(state: ChatsState, source_id: int, cutoff: datetime) -> int:
    ids = list(
        state.session.scalars(
            select(Contact.id)
            .where(_anonymisable(source_id, cutoff))
            .order_by(Contact.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for contact_id in ids:
        do_erase(state, None, contact_id, thorough=False, audit=False)
    return len(ids)


def _old_contexts(source_id: int, cutoff: datetime) -> Any:
    return and_(
        VisitorContext.updated_at < cutoff,
        VisitorContext.conversation_id.in_(
            select(Conversation.id).where(Conversation.source_id == source_id)
        ),
    )


def _context_batch(state: ChatsState, source_id: int, cutoff: datetime) -> int:
    ids = list(
        state.session.scalars(
            select(VisitorContext.conversation_id)
            .where(_old_contexts(source_id, cutoff))
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return 0
    state.session.execute(delete(VisitorContext).where(VisitorContext.conversation_id.in_(ids)))
    # The event log's copies of the context go too (IP, pages): what a resync replays.
    state.session.execute(
        update(ConversationEvent)
        .where(
            ConversationEvent.conversation_id.in_(ids),
            ConversationEvent.type == "visitor.context",
        )
        .values(payload={"context": None})
    )
    return len(ids)


def _whole_ips(source_id: int) -> Any:
    return and_(
        VisitorContext.ip.isnot(None),
        VisitorContext.conversation_id.in_(
            select(Conversation.id).where(Conversation.source_id == source_id)
        ),
    )


def _truncate_batch(state: ChatsState, source_id: int, after: int) -> tuple[int, int]:
    """Truncate up to BATCH stored IPs past conversation ``after``; (changed, last id seen)."""
    rows = list(
        state.session.scalars(
            select(VisitorContext)
            .where(_whole_ips(source_id), VisitorContext.conversation_id > after)
            .order_by(VisitorContext.conversation_id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    changed = 0
    for ctx in rows:
        short = truncate_ip(ctx.ip)
        if short != ctx.ip:
            _truncate_in_events(state, ctx.conversation_id, ctx.ip or "", short)
            ctx.ip = short
            changed += 1
    return changed, rows[-1].conversation_id if rows else -1


def _truncate_in_events(state: ChatsState, conv_id: int, ip: str, short: str | None) -> None:
    events = state.session.scalars(
        select(ConversationEvent).where(
            ConversationEvent.conversation_id == conv_id,
            ConversationEvent.type == "visitor.context",
        )
    )
    for event in events:
        context = (event.payload or {}).get("context") or {}
        if context.get("ip") == ip:
            event.payload = {**event.payload, "context": {**context, "ip": short}}


def _count_ips(state: ChatsState, source_id: int) -> int:
    ips = state.session.scalars(select(VisitorContext.ip).where(_whole_ips(source_id)))
    return sum(1 for ip in ips if truncate_ip(ip) != ip)


def _drain(state: ChatsState, step: Any) -> int:
    total = 0
    while True:
        with unit_of_work(state.session):
            done = step()
        total += done
        if done < BATCH:
            return total


def _run_source(state: ChatsState, source: Source, now: datetime, dry_run: bool) -> SourceRun:
    rules = policy(source)
    run = SourceRun(source.id, source.name, rules)
    sid = source.id
    if rules.conversation_days:
        cutoff = now - timedelta(days=rules.conversation_days)
        if rules.conversation_action == DELETE:
            if dry_run:
                query = select(Conversation.id).where(_old_conversations(sid, cutoff))
                run.conversations_deleted = _count(state, query)
            else:
                while True:
                    with unit_of_work(state.session):
                        removed, freed = _delete_batch(state, sid, cutoff)
                    run.conversations_deleted += removed
                    run.bytes_freed += freed
                    if removed < BATCH:
                        break
        elif dry_run:
            query = select(Contact.id).where(_anonymisable(sid, cutoff))
            run.contacts_anonymised = _count(state, query)
        else:
            run.contacts_anonymised = _drain(state, lambda: _anonymise_batch(state, sid, cutoff))
    if rules.context_days:
        cutoff = now - timedelta(days=rules.context_days)
        if dry_run:
            query = select(VisitorContext.conversation_id).where(_old_contexts(sid, cutoff))
            run.contexts_deleted = _count(state, query)
        else:
            run.contexts_deleted = _drain(state, lambda: _context_batch(state, sid, cutoff))
    if rules.truncate_ips:
        if dry_run:
            run.ips_truncated = _count_ips(state, sid)
        else:
            after = 0
            while after >= 0:
                with unit_of_work(state.session):
                    changed, after = _truncate_batch(state, sid, after)
                run.ips_truncated += changed
    return run


def run(state: ChatsState, *, dry_run: bool = False, now: datetime | None = None) -> RunReport:
    """Apply every source's policy (or, ``dry_run``, count what it would do)."""
    when = now or utcnow()
    with unit_of_work(state.session):
        sources = [
            (s.id, s.name, policy(s))
            for s in state.session.scalars(select(Source).order_by(Source.id))
        ]
    report = RunReport(dry_run)
    for source_id, _name, rules in sources:
        if not rules.active:
            continue
        with unit_of_work(state.session):
            source = state.session.get(Source, source_id)
        if source is not None:
            report.sources.append(_run_source(state, source, when, dry_run))
    if not dry_run:
        with unit_of_work(state.session):
            audit_log.do_record(
                state,
                None,
                "retention.ran",
                "retention",
                "all",
                sources=[s.as_dict() for s in report.sources],
            )
    return report
