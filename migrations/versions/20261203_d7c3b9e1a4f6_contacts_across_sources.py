"""Contacts across sources: host identities, merges and suggestions, visitor time zones

Revision ID: d7c3b9e1a4f6
Revises: 8d3f6a1c4e72
Create Date: 2026-12-03 17:40:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision.

Existing contacts keep their rows, ids and conversations: ``chats_contacts.source_id`` becomes
nullable (it now means "first seen on"; a contact imported by the host has none) and its
unique (source_id, external_id) pair stays the platform id lookup. New nullable columns
``host_user_id`` (unique), ``verified_at`` and ``merged_into_id``; new tables
``chats_contact_merges`` and ``chats_contact_merge_suggestions`` (both with FKs to
``chats_contacts``, ON DELETE CASCADE); ``chats_visitor_contexts.time_zone``. No data is
rewritten. Downgrading drops the new tables and columns; it fails if a contact without a
source exists (delete or re-home those first).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d7c3b9e1a4f6"
down_revision: str | None = "8d3f6a1c4e72"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("chats_contacts") as batch:
        batch.alter_column("source_id", existing_type=BIGID, nullable=True)
        batch.add_column(sa.Column("host_user_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("verified_at", UTC_TS, nullable=True))
        batch.add_column(sa.Column("merged_into_id", BIGID, nullable=True))
        batch.create_unique_constraint(op.f("uq_chats_contacts_host_user_id"), ["host_user_id"])
        batch.create_foreign_key(
            op.f("fk_chats_contacts_merged_into_id_chats_contacts"),
            "chats_contacts",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_chats_contacts_merged_into_id"), ["merged_into_id"])
    with op.batch_alter_table("chats_visitor_contexts") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))

    op.create_table(
        "chats_contact_merges",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("survivor_id", BIGID, nullable=False),
        sa.Column("merged_id", BIGID, nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("moved", JSON, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("undone_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["chats_contacts.id"],
            name=op.f("fk_chats_contact_merges_survivor_id_chats_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"],
            ["chats_contacts.id"],
            name=op.f("fk_chats_contact_merges_merged_id_chats_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_contact_merges")),
    )
    op.create_index(
        op.f("ix_chats_contact_merges_survivor_id"), "chats_contact_merges", ["survivor_id"]
    )
    op.create_index(
        op.f("ix_chats_contact_merges_merged_id"), "chats_contact_merges", ["merged_id"]
    )

    op.create_table(
        "chats_contact_merge_suggestions",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("contact_id", BIGID, nullable=False),
        sa.Column("candidate_id", BIGID, nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("resolved_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["chats_contacts.id"],
            name=op.f("fk_chats_contact_merge_suggestions_contact_id_chats_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["chats_contacts.id"],
            name=op.f("fk_chats_contact_merge_suggestions_candidate_id_chats_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats_contact_merge_suggestions")),
        sa.UniqueConstraint(
            "contact_id",
            "candidate_id",
            name=op.f("uq_chats_contact_merge_suggestions_contact_id_candidate_id"),
        ),
    )
    op.create_index(
        op.f("ix_chats_contact_merge_suggestions_contact_id"),
        "chats_contact_merge_suggestions",
        ["contact_id"],
    )
    op.create_index(
        op.f("ix_chats_contact_merge_suggestions_candidate_id"),
        "chats_contact_merge_suggestions",
        ["candidate_id"],
    )


def downgrade() -> None:
    op.drop_table("chats_contact_merge_suggestions")
    op.drop_table("chats_contact_merges")
    with op.batch_alter_table("chats_visitor_contexts") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("chats_contacts") as batch:
        batch.drop_index(op.f("ix_chats_contacts_merged_into_id"))
        batch.drop_constraint(
            op.f("fk_chats_contacts_merged_into_id_chats_contacts"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("uq_chats_contacts_host_user_id"), type_="unique")
        batch.drop_column("merged_into_id")
        batch.drop_column("verified_at")
        batch.drop_column("host_user_id")
        batch.alter_column("source_id", existing_type=BIGID, nullable=False)
