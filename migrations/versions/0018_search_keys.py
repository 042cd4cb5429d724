"""items: search that costs about the same for a common word as for a rare one

SQLite: the FTS5 table found matches by item_id, a column that lives in the FTS content rows,
so every match cost a content read (a word in one item of six over 200,000 items: ~160 ms
before the first row). Items now carry their FTS row's rowid in `search_key`: the index
answers a MATCH with rowids alone, the newest-first list index covers `search_key` (walk it,
test each entry against the matches, stop at the page), and `ix_items_search_key` looks up
the few items of a rare word. Unmodelled on purpose (SQLite only), like the FTS table.
PostgreSQL needs no schema change: its capped count runs from the GIN index
(portal.sharing.search.counting). bench/listing.py, 200,000 items, p95 of a word in one item
of six / of a rare word, same run (a machine loaded by other jobs): SQLite 722 / 70 ms before,
145 / 118 ms after; PostgreSQL 320 / 133 ms before, 212 / 168 ms after.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

NEWEST_0017 = ("CREATE INDEX ix_items_newest ON items (coalesce(published_at, updated_at) DESC, id, "
               "status, originator_code, all_subscribing, tlp)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE items ADD COLUMN search_key INTEGER")
    # One pass over the FTS rows (item_id is not indexed there, so no lookup per item).
    op.execute("CREATE TEMPORARY TABLE search_keys (item_id CHAR(32) PRIMARY KEY, search_key INTEGER NOT NULL)")
    op.execute("INSERT OR IGNORE INTO search_keys SELECT item_id, rowid FROM item_fts")
    op.execute("UPDATE items SET search_key = "
               "(SELECT search_key FROM search_keys WHERE search_keys.item_id = items.id)")
    op.execute("DROP TABLE search_keys")
    op.execute("CREATE UNIQUE INDEX ix_items_search_key ON items (search_key)")
    op.execute("DROP INDEX ix_items_newest")
    op.execute("CREATE INDEX ix_items_newest ON items (coalesce(published_at, updated_at) DESC, id, "
               "status, originator_code, all_subscribing, tlp, search_key)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX ix_items_newest")
    op.execute(NEWEST_0017)
    op.execute("DROP INDEX ix_items_search_key")
    op.execute("ALTER TABLE items DROP COLUMN search_key")
