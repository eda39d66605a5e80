"""Knowledge base: GIN search indexes without a pending list (fastupdate off)

Revision ID: 94eff7246599
Revises: c4e8a1f2b7d9
Create Date: 2026-12-03 14:50:00.000000

A revision of the gincore_chats branch. It uses plain SQLAlchemy types and never imports
gincore_chats: the installed library may be newer than this revision.

PostgreSQL only (SQLite has no GIN indexes; nothing to do there). With the default
``fastupdate`` a GIN index queues new rows in a pending list that every search reads
linearly until a vacuum merges it; after a bulk import of entries searches took 10-20 ms per
query instead of 0.1 ms. The revision turns it off for the full-text indexes of phrasings and
answers and for the trigram index of the term statistics (where pg_trgm made it exist), and
merges what is pending now. Downgrading restores the default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "94eff7246599"
down_revision: str | None = "c4e8a1f2b7d9"
branch_labels: tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

INDEXES = (
    "ix_chats_kb_phrasings_search",
    "ix_chats_kb_entries_answer_search",
    "ix_chats_kb_terms_trigram",
)


def _present() -> list[str]:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return []
    # to_regclass follows the search path, as the names in the ALTERs below do.
    return [
        name
        for name in INDEXES
        if bind.execute(sa.text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None
    ]


def upgrade() -> None:
    for name in _present():
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        # Merge the rows already queued: turning the option off does not.
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def downgrade() -> None:
    for name in _present():
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
