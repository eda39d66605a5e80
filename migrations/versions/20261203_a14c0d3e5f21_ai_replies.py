"""AI replies: per-source settings, the AI call log, each conversation's AI state

Revision ID: a14c0d3e5f21
Revises: 94eff7246599
Create Date: 2026-12-03 14:40:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision.

New tables only: ``chats_ai_settings`` (one row per source with AI configured; the provider
key encrypted), ``chats_ai_calls`` (model, tokens, latency, outcome and cost of every AI turn)
and ``chats_ai_states``. The assistant's messages use the existing
``chats_messages.kind`` column (value ``assistant``). Downgrading drops the three tables; the
assistant's messages stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a14c0d3e5f21"
down_revision: str | None = "94eff7246599"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chats_ai_settings",
        sa.Column("source_id", BIGID, nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("assistant_name", sa.Text(), nullable=True),
        sa.Column("assistant_avatar_url", sa.Text(), nullable=True),
        sa.Column("instructions", JSON, nullable=False),
        sa.Column("use_knowledge", sa.Boolean(), nullable=False),
        sa.Column("use_conversation", sa.Boolean(), nullable=False),
        sa.Column("max_unresolved_turns", sa.Integer(), nullable=False),
        sa.Column("handoff_on_no_answer", sa.Boolean(), nullable=False),
        sa.Column("daily_limit", sa.Float(), nullable=True),
        sa.Column("price_input_per_million", sa.Float(), nullable=False),
        sa.Column("price_output_per_million", sa.Float(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["chats_sources.id"],
            name=op.f("fk_chats_ai_settings_source_id_chats_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_chats_ai_settings")),
    )
    op.create_table(
        "chats_ai_calls",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("source_id", BIGID, nullable=False),
        sa.Column("conversation_id", BIGID, nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chats_conversations.id"],
            name=op.f("fk_chats_ai_calls_conversation_id_chats_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["chats_sources.id"],
            name=op.f("fk_chats_ai_calls_source_id_chats_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_ai_calls")),
    )
    with op.batch_alter_table("chats_ai_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_ai_calls_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_chats_ai_calls_source_created"),
            ["source_id", "created_at"],
            unique=False,
        )
    op.create_table(
        "chats_ai_states",
        sa.Column("conversation_id", BIGID, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("unresolved_turns", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chats_conversations.id"],
            name=op.f("fk_chats_ai_states_conversation_id_chats_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chats_ai_states")),
    )


def downgrade() -> None:
    op.drop_table("chats_ai_states")
    with op.batch_alter_table("chats_ai_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_ai_calls_source_created"))
        batch_op.drop_index(batch_op.f("ix_chats_ai_calls_conversation_id"))
    op.drop_table("chats_ai_calls")
    op.drop_table("chats_ai_settings")
