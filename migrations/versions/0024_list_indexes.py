"""list indexes for a million items: (country_code, item_id) instead of (country_code), so the
access filter's "every item naming this state" and the category filter read an index alone; and a
state's unreleased items by status and last change (the home page), instead of by state alone

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# (table, old single-column index, its column, new covering index, its columns)
INDEXES = (
    ('item_audience_countries', 'ix_item_audience_countries_country_code', 'country_code',
     'ix_item_audience_countries_country_item', ['country_code', 'item_id']),
    ('item_categories', 'ix_item_categories_slug', 'slug',
     'ix_item_categories_slug_item', ['slug', 'item_id']),
    ('item_version_audience_countries', 'ix_item_version_audience_countries_country_code', 'country_code',
     'ix_item_version_audience_countries_country_version', ['country_code', 'version_id']),
    ('items', 'ix_items_originator_code', 'originator_code',
     'ix_items_originator_status_updated', ['originator_code', 'status', 'updated_at']),
)


def upgrade() -> None:
    for table, old, _column, new, columns in INDEXES:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, column, new, _columns in INDEXES:
        op.create_index(old, table, [column])
        op.drop_index(new, table_name=table)
