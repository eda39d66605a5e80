"""A conversation's labels as its list row shows them, read by the statement that stores a
message (:mod:`.message_insert`) so the inbox update that follows needs no query of its own.

Labels are written by :mod:`..labels.tagging`; this module only reads them, and lives here so
that the message statement does not import the labels service (which imports this package).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from ...models import Conversation, ConversationLabel, Label
from .events import transaction_memo

_LABELS: Table = Label.__table__  # type: ignore[assignment]
_LINKS: Table = ConversationLabel.__table__  # type: ignore[assignment]
_MEMO = "gincore_chats.conversation_labels"


def labels_column(conversation_param: str = "conversation_id") -> ColumnElement[Any]:
    """A PostgreSQL scalar subquery: the labels of the conversation bound as
    ``conversation_param``, as a JSON array of ``{id, name, color}`` ordered by name, like
    :func:`..labels.tagging.labels_for`."""
    item = func.jsonb_build_object(
        "id", _LABELS.c.id, "name", _LABELS.c.name, "color", _LABELS.c.color
    )
    ordered = aggregate_order_by(item, _LABELS.c.name_key, _LABELS.c.id)
    return (
        select(func.coalesce(func.jsonb_agg(ordered), literal_column("'[]'::jsonb")))
        .select_from(_LINKS.join(_LABELS, _LABELS.c.id == _LINKS.c.label_id))
        .where(
            _LINKS.c.conversation_id
            == bindparam(conversation_param, type_=Conversation.__table__.c.id.type)
        )
        .scalar_subquery()
    )


def remember(session: Any, conversation_id: int, labels: list[dict[str, Any]]) -> None:
    """What this transaction read of the conversation's labels, for its inbox update."""
    transaction_memo(session, _MEMO)[conversation_id] = labels


def remembered(session: Any, conversation_id: int) -> list[dict[str, Any]] | None:
    return transaction_memo(session, _MEMO).get(conversation_id)


def forget(session: Any, conversation_id: int) -> None:
    """A label was added or removed in this transaction: what was read is stale."""
    transaction_memo(session, _MEMO).pop(conversation_id, None)
