"""notifications: subscriptions, outbox, in-portal notifications, digest cursors

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TOPIC = sa.Enum('threat_notices', 'denials', 'documents', 'meetings', name='alert_topic', native_enum=False,
                create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table('digest_cursors',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('last_sent_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_cursors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_digest_cursors'))
    )
    op.create_table('subscriptions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('topic', TOPIC, nullable=False),
    sa.Column('mode', sa.Enum('immediate', 'digest', 'off', name='delivery_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('min_severity', sa.String(length=16), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic', name=op.f('pk_subscriptions'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipient_id', sa.Uuid(), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('renderer', sa.String(length=40), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sent', 'skipped', 'failed', name='outbox_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('sent_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('recipient_id', 'event_key', name='uq_outbox_recipient_event')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('topic', TOPIC, nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=400), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('read_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_notifications_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'event_key', name='uq_notifications_user_event')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')
    op.drop_table('notifications')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_recipient_id'))
        batch_op.drop_index('ix_outbox_due')
    op.drop_table('outbox')
    op.drop_table('subscriptions')
    op.drop_table('digest_cursors')
