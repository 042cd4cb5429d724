"""the public side: guidance published publicly, and the "Contact the Initiative" inbox

`public_items` marks items their originating state published on the public side (an explicit,
audited act); `public_consultations` are states' public calls for input; `contact_messages` holds
messages from outside (and responses to those calls), deleted after the retention period.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_consultations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('originator_code', sa.String(length=2), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('to_secretariat', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('closed_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('summary_published_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_public_consultations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['originator_code'], ['countries.code'], name=op.f('fk_public_consultations_originator_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_consultations'))
    )
    with op.batch_alter_table('public_consultations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_consultations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_consultations_originator_code'), ['originator_code'], unique=False)

    op.create_table('contact_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_type', sa.Enum('company', 'university', 'civil_society', 'other', name='organisation_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('country', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('unconfirmed', 'open', 'handled', name='contact_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mail_due', sa.Enum('confirm', 'acknowledge', name='contact_mail', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('mail_attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('handled_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('forwarded_to_code', sa.String(length=2), nullable=True),
    sa.Column('forwarded_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('consultation_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['public_consultations.id'], name=op.f('fk_contact_messages_consultation_id_public_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['forwarded_to_code'], ['countries.code'], name=op.f('fk_contact_messages_forwarded_to_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_messages'))
    )
    with op.batch_alter_table('contact_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_messages_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_messages_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_messages_forwarded_to_code'), ['forwarded_to_code'], unique=False)
        batch_op.create_index('ix_contact_messages_status_created', ['status', 'created_at'], unique=False)

    op.create_table('public_items',
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('published_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('published_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_public_items_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_public_items_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_public_items'))
    )
    with op.batch_alter_table('public_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_items_published_at'), ['published_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('public_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_items_published_at'))

    op.drop_table('public_items')
    with op.batch_alter_table('contact_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_messages_status_created')
        batch_op.drop_index(batch_op.f('ix_contact_messages_forwarded_to_code'))
        batch_op.drop_index(batch_op.f('ix_contact_messages_email'))
        batch_op.drop_index(batch_op.f('ix_contact_messages_created_at'))
        batch_op.drop_index(batch_op.f('ix_contact_messages_consultation_id'))

    op.drop_table('contact_messages')
    with op.batch_alter_table('public_consultations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_consultations_originator_code'))
        batch_op.drop_index(batch_op.f('ix_public_consultations_created_at'))

    op.drop_table('public_consultations')
