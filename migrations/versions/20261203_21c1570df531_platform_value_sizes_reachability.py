"""Platform-provided values sized for real payloads; unreachable customers

Revision ID: 21c1570df531
Revises: bf95d8920200
Create Date: 2026-12-03 09:21:50.253679

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision. Use
``op.batch_alter_table`` for ALTERs so hosts on SQLite can apply it.

Columns that hold what a platform, a visitor's browser or the geolocation database sends
become ``TEXT`` where no maximum is documented (Instagram message ids are ~300 characters, which
``VARCHAR(200)`` refused on PostgreSQL); a content type gets RFC 6838's 255. Downgrading on
PostgreSQL fails while a longer value is stored: cutting ids short would corrupt them.

Contacts get ``unreachable_at`` / ``unreachable_reason`` (they blocked the bot, unsubscribed)
and ``reachability_changed_at`` (the platform's time of the last such change).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "21c1570df531"
down_revision: str | None = "bf95d8920200"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

#: (table, column, type before, type after, nullable)
RESIZED: list[tuple[str, str, sa.types.TypeEngine, sa.types.TypeEngine, bool]] = [
    ("chats_attachments", "filename", sa.String(255), sa.Text(), False),
    ("chats_attachments", "content_type", sa.String(100), sa.String(255), False),
    ("chats_contacts", "external_id", sa.String(200), sa.Text(), True),
    ("chats_contacts", "name", sa.String(200), sa.Text(), True),
    ("chats_contacts", "username", sa.String(200), sa.Text(), True),
    ("chats_contacts", "avatar_url", sa.String(1000), sa.Text(), True),
    ("chats_contacts", "language", sa.String(16), sa.Text(), True),
    ("chats_conversations", "language", sa.String(16), sa.Text(), True),
    ("chats_inbound_events", "summary", sa.String(200), sa.Text(), True),
    ("chats_managers", "avatar_url", sa.String(1000), sa.Text(), True),
    ("chats_messages", "external_id", sa.String(200), sa.Text(), True),
    ("chats_messages", "author_name", sa.String(200), sa.Text(), True),
    ("chats_messages", "author_avatar_url", sa.String(1000), sa.Text(), True),
    ("chats_visitor_contexts", "country", sa.String(100), sa.Text(), True),
    ("chats_visitor_contexts", "city", sa.String(200), sa.Text(), True),
    ("chats_visitor_contexts", "current_page", sa.String(2000), sa.Text(), True),
    ("chats_visitor_contexts", "page_title", sa.String(500), sa.Text(), True),
    ("chats_visitor_contexts", "referrer", sa.String(2000), sa.Text(), True),
    ("chats_visitor_contexts", "user_agent", sa.String(1000), sa.Text(), True),
    ("chats_visitor_contexts", "browser", sa.String(100), sa.Text(), True),
    ("chats_visitor_contexts", "os", sa.String(100), sa.Text(), True),
]

#: New columns of chats_contacts (all nullable).
REACHABILITY: list[tuple[str, sa.types.TypeEngine]] = [
    ("unreachable_at", sa.DateTime(timezone=True)),
    ("unreachable_reason", sa.Text()),
    ("reachability_changed_at", sa.DateTime(timezone=True)),
]


def _resize(backwards: bool) -> None:
    tables = dict.fromkeys(table for table, *_ in RESIZED)
    for table in tables:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, before, after, nullable in RESIZED:
                if name != table:
                    continue
                old, new = (after, before) if backwards else (before, after)
                batch_op.alter_column(
                    column, existing_type=old, type_=new, existing_nullable=nullable
                )


def upgrade() -> None:
    _resize(backwards=False)
    with op.batch_alter_table("chats_contacts", schema=None) as batch_op:
        for column, type_ in REACHABILITY:
            batch_op.add_column(sa.Column(column, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats_contacts", schema=None) as batch_op:
        for column, _ in reversed(REACHABILITY):
            batch_op.drop_column(column)
    _resize(backwards=True)
