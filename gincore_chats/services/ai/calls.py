"""The AI call log: every turn's model, tokens, latency, outcome and estimated cost.

The daily limit is the sum of today's (UTC) estimated costs of a source's calls; reaching it
hands conversations to people until midnight UTC.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from ...ai import Usage
from ...models import AICall, utcnow
from ...state import ChatsState
from .settings import Snapshot


def cost_of(config: Snapshot, usage: Usage) -> float:
    return (
        usage.prompt_tokens * config.price_input_per_million
        + usage.completion_tokens * config.price_output_per_million
    ) / 1_000_000


def do_record(
    state: ChatsState,
    config: Snapshot,
    conversation_id: int | None,
    outcome: str,
    *,
    model: str = "",
    usage: Usage | None = None,
    latency: float = 0.0,
    detail: str | None = None,
) -> AICall:
    used = usage or Usage()
    row = AICall(
        source_id=config.source_id,
        conversation_id=conversation_id,
        model=model,
        tokens_in=used.prompt_tokens,
        tokens_out=used.completion_tokens,
        latency_ms=int(latency * 1000),
        outcome=outcome,
        detail=(detail or None) and str(detail)[:1000],
        cost=cost_of(config, used),
        created_at=utcnow(),
    )
    state.session.add(row)
    return row


def spent_today(state: ChatsState, source_id: int) -> float:
    midnight = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
    total = state.session.scalar(
        select(func.coalesce(func.sum(AICall.cost), 0.0)).where(
            AICall.source_id == source_id, AICall.created_at >= midnight
        )
    )
    return float(total or 0.0)


def limit_reached(state: ChatsState, config: Snapshot) -> bool:
    if config.daily_limit is None:
        return False
    return spent_today(state, config.source_id) >= config.daily_limit


def recent(state: ChatsState, source_id: int, limit: int = 20) -> list[AICall]:
    """The source's latest calls, newest first (the settings page's table)."""
    return list(
        state.session.scalars(
            select(AICall)
            .where(AICall.source_id == source_id)
            .order_by(AICall.created_at.desc(), AICall.id.desc())
            .limit(limit)
        )
    )
