"""items: an index for search results across kinds (newest first)

Search lists every kind at once, so the per-kind list index of 0006 cannot give its order: the
database had to load and sort every match before the first page (a word in one item of six over
200,000 items: hundreds of milliseconds on PostgreSQL, seconds on SQLite). With the same order
without the kind, it walks the items newest first, tests each row for the words and stops when
the page is full; a rare word still goes through the full-text index (the planner chooses by
the word's frequency). Covering the access filter's columns as 0006 does. An expression index,
so it lives here and not in the models. SQLite's planner does not use it for search yet: its
FTS5 table links to items by item_id, which must be read from the FTS content row for every
match (~160 ms for 24,000 matches), so it still looks items up by id and sorts them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_items_newest ON items ((coalesce(published_at, updated_at)) DESC, id) "
                   "INCLUDE (status, originator_code, all_subscribing, tlp)")
    else:
        op.execute("CREATE INDEX ix_items_newest ON items (coalesce(published_at, updated_at) DESC, id, "
                   "status, originator_code, all_subscribing, tlp)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_items_newest")
