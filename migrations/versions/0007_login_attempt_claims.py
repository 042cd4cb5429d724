"""users: mfa_attempt_until, so one code check per account runs at a time

The sign-in steps reserve attempts in SQL before checking them (finding 2 of the security
review); the code step also claims this column so replays of one pending-login cookie are
checked one after another, never in parallel.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_attempt_until', portal.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_attempt_until')
