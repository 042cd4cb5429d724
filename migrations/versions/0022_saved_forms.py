"""saved forms: what someone typed into a form posted after their session had ended, kept
encrypted under their account for a short while and given back when they sign in again

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_forms',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_forms_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_forms'))
    )
    with op.batch_alter_table('saved_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_forms_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_forms_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_forms_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_forms_expires_at'))

    op.drop_table('saved_forms')
