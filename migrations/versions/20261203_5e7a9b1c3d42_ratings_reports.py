"""Ratings and reports: chats_ratings, first response and close times on conversations

Revision ID: 5e7a9b1c3d42
Revises: d7c3b9e1a4f6
Create Date: 2026-12-03 17:40:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision.

``chats_ratings`` holds one rating per conversation (pending while ``score`` is NULL).
``chats_conversations`` gains ``first_response_at``, ``closed_at`` and ``closed_by`` (NULL for
the rows already there: reports count them as not answered / not closed), and an index on
``created_at`` for the reports' date ranges. Downgrading drops all of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "5e7a9b1c3d42"
down_revision: str | None = "d7c3b9e1a4f6"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chats_ratings",
        sa.Column("conversation_id", BIGID, nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transcript_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chats_conversations.id"],
            name=op.f("fk_chats_ratings_conversation_id_chats_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chats_ratings")),
    )
    op.create_index(op.f("ix_chats_ratings_rated_at"), "chats_ratings", ["rated_at"])
    with op.batch_alter_table("chats_conversations") as batch:
        batch.add_column(sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_chats_conversations_created_at"), "chats_conversations", ["created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chats_conversations_created_at"), table_name="chats_conversations")
    with op.batch_alter_table("chats_conversations") as batch:
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
        batch.drop_column("first_response_at")
    op.drop_index(op.f("ix_chats_ratings_rated_at"), table_name="chats_ratings")
    op.drop_table("chats_ratings")
