"""countries: when a state's attachment wraps need re-syncing after a status change

The register edit marks the state; the outbox worker (or `keys sync-wraps`) walks every file
and clears the mark, so no web request re-wraps the whole store.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("countries") as batch:
        batch.add_column(sa.Column("wraps_stale_since", portal.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("countries") as batch:
        batch.drop_column("wraps_stale_since")
