"""items: a stored tsvector for full-text search on PostgreSQL

The expression index on to_tsvector(search_text) finds matches, but every other plan (walk the
list index newest first and test each row; stop a capped count early) re-parses each row's
text at ~0.5 ms a row, and the planner does not know that cost. A stored, generated tsvector
makes the per-row test cheap whichever plan is chosen, so a search for a common word costs
about what a rare one does. SQLite keeps its FTS5 table. Unmodelled on purpose (PostgreSQL only).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE items ADD COLUMN search_vector tsvector "
               "GENERATED ALWAYS AS (to_tsvector('english', coalesce(search_text, ''))) STORED")
    op.execute("CREATE INDEX ix_items_search_vector ON items USING gin (search_vector)")
    op.execute("DROP INDEX ix_items_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_items_search ON items USING gin (to_tsvector('english', search_text))")
    op.execute("DROP INDEX ix_items_search_vector")
    op.execute("ALTER TABLE items DROP COLUMN search_vector")
