"""The demo host's users table.

Revision ID: 3f0a9c1d2b7e
Revises:
Create Date: 2025-11-25 09:30:00

The demo's history is its own Alembic branch (label ``example_app``) beside the library's
``gincore_chats`` branch; ``flask db upgrade heads`` applies both. New host revisions go on top
with ``flask db migrate --head example_app@head``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3f0a9c1d2b7e"
down_revision = None
branch_labels = ("example_app",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )


def downgrade() -> None:
    op.drop_table("users")
