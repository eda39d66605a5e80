"""Labels on conversations

Revision ID: 5b1e7c2d9a40
Revises: a14c0d3e5f21
Create Date: 2026-12-03 17:40:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision. Use
``op.batch_alter_table`` for ALTERs so hosts on SQLite can apply it.

New tables only: ``chats_labels`` (the catalog admins define) and
``chats_conversation_labels`` (which conversation carries which label), indexed by
(label_id, conversation_id) for the list filter and reports. Downgrading drops both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e7c2d9a40"
down_revision: str | None = "a14c0d3e5f21"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chats_labels",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_key", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_labels")),
        sa.UniqueConstraint("name_key", name=op.f("uq_chats_labels_name_key")),
    )
    op.create_table(
        "chats_conversation_labels",
        sa.Column("conversation_id", BIG_ID, nullable=False),
        sa.Column("label_id", BIG_ID, nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chats_conversations.id"],
            name=op.f("fk_chats_conversation_labels_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["chats_labels.id"],
            name=op.f("fk_chats_conversation_labels_label_id_chats_labels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "label_id", name=op.f("pk_chats_conversation_labels")
        ),
    )
    with op.batch_alter_table("chats_conversation_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_conversation_labels_label"),
            ["label_id", "conversation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("chats_conversation_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_conversation_labels_label"))
    op.drop_table("chats_conversation_labels")
    op.drop_table("chats_labels")
