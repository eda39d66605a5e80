"""Empty conversations (first customer message time) and the team's read mark

Revision ID: 50ded137af61
Revises: 21c1570df531
Create Date: 2026-12-03 09:35:50.769580

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision. Use
``op.batch_alter_table`` for ALTERs so hosts on SQLite can apply it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "50ded137af61"
down_revision: str | None = "21c1570df531"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats_conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "staff_last_read_message_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("first_customer_message_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Existing conversations: when the customer first wrote, and the furthest any manager read.
    op.execute(
        "UPDATE chats_conversations SET first_customer_message_at = ("
        " SELECT MIN(m.created_at) FROM chats_messages m"
        " WHERE m.conversation_id = chats_conversations.id AND m.kind = 'customer')"
    )
    op.execute(
        "UPDATE chats_conversations SET staff_last_read_message_id = ("
        " SELECT COALESCE(MAX(r.last_read_message_id), 0) FROM chats_read_states r"
        " WHERE r.conversation_id = chats_conversations.id)"
    )
    with op.batch_alter_table("chats_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_conversations_empty_activity"),
            ["last_activity_at", "id"],
            unique=False,
            postgresql_where=sa.text("first_customer_message_at IS NULL"),
            sqlite_where=sa.text("first_customer_message_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_chats_conversations_listed_activity"),
            ["last_activity_at", "id"],
            unique=False,
            postgresql_where=sa.text("first_customer_message_at IS NOT NULL"),
            sqlite_where=sa.text("first_customer_message_at IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_chats_conversations_listed_source_activity"),
            ["source_id", "last_activity_at", "id"],
            unique=False,
            postgresql_where=sa.text("first_customer_message_at IS NOT NULL"),
            sqlite_where=sa.text("first_customer_message_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("chats_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_conversations_listed_source_activity"))
        batch_op.drop_index(batch_op.f("ix_chats_conversations_listed_activity"))
        batch_op.drop_index(batch_op.f("ix_chats_conversations_empty_activity"))
        batch_op.drop_column("first_customer_message_at")
        batch_op.drop_column("staff_last_read_message_id")
