"""screenings: each screening run, kept for the screener's state (counts and results)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('screenings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('screener_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('source', sa.Enum('page', 'csv', 'api', 'cli', name='screening_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('include_inactive', sa.Boolean(), nullable=False),
    sa.Column('party_count', sa.Integer(), nullable=False),
    sa.Column('flagged_count', sa.Integer(), nullable=False),
    sa.Column('match_count', sa.Integer(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_screenings_country_code_countries')),
    sa.ForeignKeyConstraint(['screener_id'], ['users.id'], name=op.f('fk_screenings_screener_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screenings'))
    )
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.create_index('ix_screenings_country_code_created_at', ['country_code', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_screener_id'), ['screener_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screenings_screener_id'))
        batch_op.drop_index('ix_screenings_country_code_created_at')
    op.drop_table('screenings')
