"""What lists and reports read of labels: a filter clause and counts grouped by label.

Reports call :func:`conversation_counts` (or join ``chats_conversation_labels`` themselves:
its ``(label_id, conversation_id)`` index serves both the filter and the grouping).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from ...models import Conversation, ConversationLabel, Label
from ...state import ChatsState


def has_label(label_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``Conversation``: it carries this label."""
    return (
        select(ConversationLabel.conversation_id)
        .where(
            ConversationLabel.conversation_id == Conversation.id,
            ConversationLabel.label_id == label_id,
        )
        .correlate(Conversation)
        .exists()
    )


@dataclass(frozen=True)
class LabelCount:
    label_id: int
    name: str
    color: str
    conversations: int


def conversation_counts(
    state: ChatsState,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source_ids: set[int] | None = None,
) -> list[LabelCount]:
    """Conversations per label (created in [since, until), of some sources), every label
    listed, unused ones with 0; a conversation with two labels counts under both."""
    joined = select(ConversationLabel.label_id, Conversation.id.label("cid")).join(
        Conversation, Conversation.id == ConversationLabel.conversation_id
    )
    if since is not None:
        joined = joined.where(Conversation.created_at >= since)
    if until is not None:
        joined = joined.where(Conversation.created_at < until)
    if source_ids is not None:
        joined = joined.where(Conversation.source_id.in_(source_ids))
    tagged = joined.subquery()
    rows = state.session.execute(
        select(Label.id, Label.name, Label.color, func.count(tagged.c.cid))
        .outerjoin(tagged, tagged.c.label_id == Label.id)
        .group_by(Label.id, Label.name, Label.color)
        .order_by(Label.name_key)
    )
    return [LabelCount(lid, name, color, int(n)) for lid, name, color, n in rows]
