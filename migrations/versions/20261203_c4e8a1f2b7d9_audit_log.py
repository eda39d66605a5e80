"""Audit log of admin actions (secrets of a source revealed, set, rotated)

Revision ID: c4e8a1f2b7d9
Revises: 71dcd1ee4db1
Create Date: 2026-12-03 14:40:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision. Use
``op.batch_alter_table`` for ALTERs so hosts on SQLite can apply it.

A new table only: ``chats_audit_log`` (who, what, on which row, details without secret values).
Downgrading drops it and the history it holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4e8a1f2b7d9"
down_revision: str | None = "71dcd1ee4db1"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "chats_audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_audit_log")),
    )
    with op.batch_alter_table("chats_audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_audit_log_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_chats_audit_log_target"), ["target_type", "target_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chats_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_audit_log_target"))
        batch_op.drop_index(batch_op.f("ix_chats_audit_log_created_at"))
    op.drop_table("chats_audit_log")
