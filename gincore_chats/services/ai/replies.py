"""The reply turn: answer the customer, or hand the conversation to people.

:func:`after_customer_message` hears (through ``services.hooks.customer_message``, sent by
``notifications.customer_wrote``) when a customer message is stored; in an AI mode it queues
``jobs.ai.reply_turn`` after commit and tells the caller the assistant answers (managers are
then told at a hand-off, not now).

:func:`run_turn` is that job's work, in three steps so no network call happens inside a
transaction: read and decide what can be decided without the provider (a request for a
person, too many turns, the daily limit, the circuit breaker), commit; call the provider
(typing indicator on); then, in a new unit of work, check that nobody took over meanwhile and
store the answer or the hand-off, with the call in the log.

Without a provider the assistant answers with the best published entry when retrieval is
confident (marked as from the knowledge base) and hands off otherwise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from rq import Retry
from sqlalchemy import or_, select

from ...ai import ProviderError, Usage, client_for
from ...ai.human_request import asks_for_person
from ...babel import _
from ...models import AIMode, AIOutcome, AIStatus, Conversation, Message, MessageKind, utcnow
from ...queue import enqueue, job_id
from ...state import ChatsState
from .. import hooks
from ..channels.outbound import queue_send
from ..conversations.events import publish_inbox_update
from ..conversations.lifecycle import touch
from ..conversations.message_events import publish_message_created
from ..conversations.typing_status import publish_assistant_typing
from ..notifications.alert_emails import language
from ..unit_of_work import after_commit, unit_of_work
from . import assistant_state, breaker, calls, handoff, prompt
from .settings import Snapshot, mode_of, snapshot

log = logging.getLogger(__name__)

JOB = "gincore_chats.jobs.ai.reply_turn"


def after_customer_message(state: ChatsState, conv: Conversation, message: Message) -> bool:
    """Queue the assistant's turn; True when the assistant (not people) answers this message."""
    # Most sources are humans only: the cached mode says so without reading the settings row.
    if mode_of(state, conv.source_id) == AIMode.HUMANS:
        return False
    config = snapshot(state, conv.source_id)
    if config.mode == AIMode.HUMANS:
        return False
    if assistant_state.status_of(state, conv.id) != AIStatus.ACTIVE:
        return False
    conv_id, message_id = conv.id, message.id
    # Retried for a passing failure (a database hiccup); a turn never answers twice.
    after_commit(
        state.session,
        lambda: enqueue(
            state, JOB, conv_id, message_id, job_id=job_id(state, "ai", conv_id, message_id),
            retry=Retry(max=2, interval=[5, 30]),
        ),
    )  # fmt: skip
    return True


@hooks.customer_message.connect
def _customer_message(state: ChatsState, *, conversation: Conversation, message: Message) -> bool:
    return after_customer_message(state, conversation, message)


@dataclass
class Turn:
    """What the first step read, for the provider call and the last step."""

    config: Snapshot
    conversation_id: int
    message_id: int
    language: str
    prompt: prompt.Prompt


@dataclass
class Result:
    outcome: str
    answer: str = ""
    entry_ids: tuple[int, ...] = ()
    reason: str | None = None
    model: str = ""
    usage: Usage | None = None
    latency: float = 0.0
    detail: str | None = None
    from_knowledge_base: bool = False


def _newest_customer_id(state: ChatsState, conv: Conversation) -> int | None:
    return state.session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conv.id, Message.kind == MessageKind.CUSTOMER)
        .order_by(Message.id.desc())
        .limit(1)
    )


def _still_ours(state: ChatsState, conv: Conversation | None, message_id: int) -> bool:
    """The assistant still answers, and this is still the newest customer message (a newer
    one has its own turn, which answers both)."""
    if conv is None:
        return False
    if assistant_state.status_of(state, conv.id) != AIStatus.ACTIVE:
        return False
    if _newest_customer_id(state, conv) != message_id:
        return False
    # A retried job whose first run stored its answer (or hand-off) must not repeat it.
    answered = state.session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conv.id,
            Message.id > message_id,
            or_(Message.kind == MessageKind.ASSISTANT, Message.system_code == handoff.SYSTEM_CODE),
        )
        .limit(1)
    )
    return answered is None


def _company(conv: Conversation) -> str:
    return conv.source.name


def _prepare(state: ChatsState, conversation_id: int, message_id: int) -> Turn | str:
    """Step one (in a transaction). Returns the turn, or why the turn ended here."""
    conv = state.session.get(Conversation, conversation_id)
    config = snapshot(state, conv.source_id) if conv is not None else None
    if conv is None or config is None or config.mode == AIMode.HUMANS:
        return "no assistant"
    if not _still_ours(state, conv, message_id):
        return "not ours"
    keep = config.mode == AIMode.AI_ONLY
    history = prompt.visible_history(state, conv)
    question = prompt.current_question(history, after_id=handoff.last_notice_id(state, conv))
    reason = None
    if asks_for_person(question):
        reason = handoff.ASKED
    elif not keep and _turns(state, conv) >= config.max_unresolved_turns:
        reason = handoff.TOO_MANY_TURNS
    elif config.provider is not None and calls.limit_reached(state, config):
        reason = handoff.DAILY_LIMIT
    elif config.provider is not None and breaker.is_open(state, config.provider):
        reason = handoff.PROVIDER_UNAVAILABLE
    matches = prompt.find_matches(state, config, conv, question) if reason is None else []
    if reason is None and not matches:
        if config.provider is None:
            reason = handoff.NO_ANSWER  # without a model only an entry can answer
        elif not config.use_conversation and not keep and config.handoff_on_no_answer:
            reason = handoff.NO_ANSWER  # nothing to ground an answer in: save the call
    if reason is not None:
        _hand_off(state, config, conv, reason)
        return f"handed off: {reason}"
    built = prompt.build(state, config, conv, history, matches, company=_company(conv))
    return Turn(config, conv.id, message_id, conv.language or "en", built)


def _turns(state: ChatsState, conv: Conversation) -> int:
    row = assistant_state.get(state, conv.id)
    return row.unresolved_turns if row is not None else 0


def _hand_off(state: ChatsState, config: Snapshot, conv: Conversation, reason: str) -> None:
    keep = config.mode == AIMode.AI_ONLY
    handoff.do_hand_off(state, conv, reason, keep_assistant=keep)
    calls.do_record(state, config, conv.id, AIOutcome.HANDED_OFF, detail=reason)


def _typing(state: ChatsState, turn: Turn, active: bool) -> None:
    publish_assistant_typing(state, turn.conversation_id, turn.config.name, active)


def _from_knowledge_base(turn: Turn) -> Result:
    best = turn.prompt.matches[0]
    with language(turn.language):
        marker = _("From our knowledge base:")
    return Result(
        AIOutcome.ANSWERED,
        answer=f"{marker} {best.question}\n\n{best.answer}",
        entry_ids=(best.entry_id,),
        from_knowledge_base=True,
    )


def decide(turn: Turn) -> Result:
    """Step two (no transaction): ask the provider, validate what it says."""
    provider = turn.config.provider
    if provider is None:
        return _from_knowledge_base(turn)
    started = time.monotonic()
    try:
        done = client_for(provider).complete_json(
            turn.prompt.messages, prompt.ReplyDecision, name="reply_decision", max_tokens=700
        )
    except ProviderError as exc:
        return Result(
            AIOutcome.FAILED,
            reason=handoff.PROVIDER_FAILED,
            model=str(provider.model or ""),
            latency=time.monotonic() - started,
            detail=f"{exc.kind}: {exc}",
        )
    data: prompt.ReplyDecision = done.data
    result = Result(
        AIOutcome.ANSWERED,
        model=done.model,
        usage=done.usage,
        latency=done.latency,
        answer=data.answer.strip(),
        entry_ids=tuple(data.entry_ids),
    )
    problem = _check(turn, data)
    if problem == "malformed":
        result.outcome, result.reason = AIOutcome.FAILED, handoff.PROVIDER_FAILED
        result.detail = "malformed: the answer cites entries it was not given, or is too long"
    elif problem is not None and not (result.answer and _may_answer_anyway(turn, problem)):
        result.outcome, result.reason = AIOutcome.HANDED_OFF, problem
    return result


def _may_answer_anyway(turn: Turn, problem: str) -> bool:
    """AI only never hands off (its answer says it cannot help); AI first may be told to let
    the model say it does not know instead of handing off."""
    if turn.config.mode == AIMode.AI_ONLY:
        return True
    return problem == handoff.NO_ANSWER and not turn.config.handoff_on_no_answer


def _check(turn: Turn, data: prompt.ReplyDecision) -> str | None:
    """None for an answer to send; else why it is not one (a hand-off reason or malformed)."""
    if len(data.answer) > prompt.MAX_ANSWER:
        return "malformed"
    if not set(data.entry_ids) <= turn.prompt.entry_ids:
        return "malformed"  # an entry it was not given: invented grounding
    if data.customer_wants_person:
        return handoff.ASKED
    if data.action == "handoff" or not data.answer.strip():
        return handoff.MODEL_DECIDED
    if turn.config.use_knowledge and not turn.config.use_conversation and not data.entry_ids:
        return handoff.NO_ANSWER  # an answer resting on nothing it may use
    return None


def do_post_answer(
    state: ChatsState, config: Snapshot, conv: Conversation, result: Result
) -> Message:
    """Store the assistant's answer and publish it like any reply (event log, widget, push to
    the platform for messenger conversations)."""
    data: dict[str, Any] = {"entry_ids": list(result.entry_ids)}
    if result.from_knowledge_base:
        data["from_knowledge_base"] = True
    message = Message(
        conversation_id=conv.id,
        source_id=conv.source_id,
        kind=MessageKind.ASSISTANT,
        author_name=config.name,
        author_avatar_url=config.avatar_url,
        body=result.answer[: state.config.max_message_length],
        system_data=data,
        created_at=utcnow(),
    )
    state.session.add(message)
    state.session.flush()
    touch(conv, message.body)
    publish_message_created(state, conv, message)
    publish_inbox_update(state, conv)
    queue_send(state, conv, message)
    assistant_state.do_count_turn(state, conv)
    return message


def _log(
    state: ChatsState,
    turn: Turn,
    conv_id: int | None,
    outcome: str,
    result: Result,
    detail: str | None,
) -> None:
    calls.do_record(
        state, turn.config, conv_id, outcome, model=result.model, usage=result.usage,
        latency=result.latency, detail=detail,
    )  # fmt: skip


def _finish(state: ChatsState, turn: Turn, result: Result) -> str:
    """Step three (a new transaction): store what the turn came to, unless someone took over."""
    conv = state.session.get(Conversation, turn.conversation_id)
    if conv is None or not _still_ours(state, conv, turn.message_id):
        # A manager took over (or a newer message came) while the model was thinking: the
        # answer is dropped, the call still counts.
        dropped = "dropped: someone took over or the customer wrote again"
        _log(state, turn, conv.id if conv else None, result.outcome, result, dropped)
        return "dropped"
    if result.outcome == AIOutcome.ANSWERED:
        do_post_answer(state, turn.config, conv, result)
        _log(state, turn, conv.id, AIOutcome.ANSWERED, result, None)
        return "answered"
    reason = result.reason or handoff.PROVIDER_FAILED
    handoff.do_hand_off(state, conv, reason, keep_assistant=turn.config.mode == AIMode.AI_ONLY)
    _log(state, turn, conv.id, result.outcome, result, result.detail or reason)
    return f"handed off: {reason}"


def run_turn(state: ChatsState, conversation_id: int, message_id: int) -> str:
    """The job's work; returns a short outcome for the worker's log."""
    with unit_of_work(state.session):
        turn = _prepare(state, conversation_id, message_id)
    if isinstance(turn, str):
        return turn
    _typing(state, turn, True)
    try:
        result = decide(turn)
    finally:
        _typing(state, turn, False)
    provider = turn.config.provider
    opened = False
    if provider is not None and result.outcome == AIOutcome.FAILED:
        opened = breaker.record_failure(state, provider)
        log.warning("gincore_chats: AI turn failed (%s); handing off", result.detail)
    elif provider is not None:
        breaker.record_success(state, provider)
    with unit_of_work(state.session):
        outcome = _finish(state, turn, result)
    if opened and provider is not None:
        breaker.email_admins(state, provider, result.detail or "")
    return outcome
