"""Canned responses (saved replies)

Revision ID: 8d3f6a1c4e72
Revises: 5b1e7c2d9a40
Create Date: 2026-12-03 17:55:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision. Use
``op.batch_alter_table`` for ALTERs so hosts on SQLite can apply it.

A new table only: ``chats_canned_responses`` (personal replies of a manager, shared ones of a
source or of all sources). Downgrading drops it and the replies it holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "8d3f6a1c4e72"
down_revision: str | None = "5b1e7c2d9a40"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "chats_canned_responses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["chats_sources.id"],
            name=op.f("fk_chats_canned_responses_source_id_chats_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_canned_responses")),
    )
    with op.batch_alter_table("chats_canned_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_canned_responses_owner_shortcut"),
            ["owner_id", "shortcut"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("chats_canned_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_canned_responses_owner_shortcut"))
    op.drop_table("chats_canned_responses")
