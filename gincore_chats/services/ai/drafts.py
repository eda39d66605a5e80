"""The "AI draft" of humans-only mode: a reply the manager edits before sending.

:func:`do_request_draft` (from a console view, phase 2) checks the permission and queues
``jobs.ai.draft`` after commit; :func:`run_draft` builds the same prompt as a reply turn
(visible messages and published entries only), calls the provider outside any transaction,
logs the call, and publishes the text to that manager's consoles only (``route: manager``,
``type: ai.draft``). Nothing is stored as a message: the manager sends it, edited or not.
Without a provider there is no draft (:class:`DraftUnavailable` says so).
"""

from __future__ import annotations

from ...ai import ProviderError, client_for
from ...identity import Manager
from ...models import AIOutcome, Conversation
from ...permissions import Permission, PermissionDenied
from ...queue import enqueue
from ...state import ChatsState
from ..unit_of_work import after_commit, unit_of_work
from . import calls, prompt
from .settings import snapshot

JOB = "gincore_chats.jobs.ai.draft"


class DraftUnavailable(ValueError):
    """No draft can be made; the text is shown to the manager."""


NO_PROVIDER = "AI drafts need an AI provider; none is configured (see CHATS_AI_BASE_URL)."


def do_request_draft(state: ChatsState, manager: Manager, conv: Conversation) -> None:
    if not manager.can(Permission.REPLY):
        raise PermissionDenied("You need the chats.reply permission.", Permission.REPLY)
    if snapshot(state, conv.source_id).provider is None:
        raise DraftUnavailable(NO_PROVIDER)
    conv_id, manager_id = conv.id, manager.id
    after_commit(state.session, lambda: enqueue(state, JOB, conv_id, manager_id))


def draft_text(state: ChatsState, conversation_id: int) -> str:
    """The draft for the conversation's current question; raises :class:`DraftUnavailable`."""
    with unit_of_work(state.session):
        conv = state.session.get(Conversation, conversation_id)
        if conv is None:
            raise DraftUnavailable("The conversation is gone.")
        config = snapshot(state, conv.source_id)
        if config.provider is None:
            raise DraftUnavailable(NO_PROVIDER)
        history = prompt.visible_history(state, conv)
        question = prompt.current_question(history)
        if not question:
            raise DraftUnavailable("The customer has asked nothing since the last reply.")
        matches = prompt.find_matches(state, config, conv, question)
        built = prompt.build(state, config, conv, history, matches, company=conv.source.name)
    try:
        done = client_for(config.provider).complete_json(
            built.messages, prompt.ReplyDecision, name="reply_decision", max_tokens=700
        )
    except ProviderError as exc:
        with unit_of_work(state.session):
            calls.do_record(state, config, conversation_id, AIOutcome.FAILED, detail=str(exc))
        raise DraftUnavailable(f"The AI provider failed: {exc}") from exc
    with unit_of_work(state.session):
        calls.do_record(
            state, config, conversation_id, AIOutcome.DRAFTED,
            model=done.model, usage=done.usage, latency=done.latency,
        )  # fmt: skip
    text = done.data.answer.strip()[: prompt.MAX_ANSWER]
    if not text:
        raise DraftUnavailable("The AI found nothing to answer from; write the reply yourself.")
    return text


def run_draft(state: ChatsState, conversation_id: int, manager_id: str) -> str:
    try:
        payload = {"type": "ai.draft", "conversation_id": conversation_id}
        payload["text"] = draft_text(state, conversation_id)
        outcome = "drafted"
    except DraftUnavailable as exc:
        payload["error"] = str(exc)
        outcome = f"no draft: {exc}"
    state.hub.publish({"route": "manager", "manager_id": manager_id, "data": payload})
    return outcome
