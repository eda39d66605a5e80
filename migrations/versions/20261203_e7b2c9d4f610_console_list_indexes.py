"""Console list at scale: partial indexes for unread, mine and unassigned

Revision ID: e7b2c9d4f610
Revises: 5e7a9b1c3d42
Create Date: 2026-12-03 18:00:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision.

At 100,000 conversations and 1,000,000 messages (``bench/console_filters.py``) the unread
filter and counts read every message row of each conversation they looked at, "marked unread"
was found by scanning all read states, and an admin's "mine" walked the whole conversations
table. Five indexes make each of them an index walk or probe:

* customer messages by (conversation, id): "customer messages after the last read one";
* read states marked unread, by (manager, conversation);
* active participants (``left_at IS NULL``) by (conversation, manager) and (manager,
  conversation): "unassigned" probes per conversation, "mine" starts from the manager;
* every conversation by (last_activity_at, id): an admin's "mine" walks it newest first (the
  other lists have partial ones; "mine" includes visits a manager joined).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "e7b2c9d4f610"
down_revision: str | None = "5e7a9b1c3d42"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_conversations_activity"), ["last_activity_at", "id"], unique=False
        )
    with op.batch_alter_table("chats_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_messages_customer_conv_id"),
            ["conversation_id", "id"],
            unique=False,
            postgresql_where=sa.text("kind = 'customer'"),
            sqlite_where=sa.text("kind = 'customer'"),
        )
    with op.batch_alter_table("chats_read_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_read_states_marked"),
            ["manager_id", "conversation_id"],
            unique=False,
            postgresql_where=sa.text("marked_unread IS TRUE"),
            sqlite_where=sa.text("marked_unread IS TRUE"),
        )
    with op.batch_alter_table("chats_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_participants_active_conv"),
            ["conversation_id", "manager_id"],
            unique=False,
            postgresql_where=sa.text("left_at IS NULL"),
            sqlite_where=sa.text("left_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_chats_participants_active_manager"),
            ["manager_id", "conversation_id"],
            unique=False,
            postgresql_where=sa.text("left_at IS NULL"),
            sqlite_where=sa.text("left_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("chats_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_participants_active_manager"))
        batch_op.drop_index(batch_op.f("ix_chats_participants_active_conv"))
    with op.batch_alter_table("chats_read_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_read_states_marked"))
    with op.batch_alter_table("chats_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_messages_customer_conv_id"))
    with op.batch_alter_table("chats_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_conversations_activity"))
