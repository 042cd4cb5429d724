"""meetings: meetings, invited states, agendas and their versions, delegations, minutes,
minutes versions and comments, actions and decisions, private calendar-feed tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_tokens_token_hash'))
    )
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('plenary', 'working_group', 'expert_meeting', name='meeting_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'announced', 'registration_closed', 'held', 'minutes_adopted', 'cancelled', name='meeting_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('ends_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('registration_deadline', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('invite_all_subscribing', sa.Boolean(), nullable=False),
    sa.Column('invite_observers', sa.Boolean(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('announced_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('cancellation_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("online_url IS NULL OR online_url LIKE 'https://%'", name=op.f('ck_meetings_online_url_https')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meetings_ends_after_start')),
    sa.CheckConstraint('registration_deadline <= starts_at', name=op.f('ck_meetings_deadline_before_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meetings_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('meeting_actions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('action', 'decision', name='action_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_state_code', sa.String(length=2), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('open', 'done', 'dropped', name='action_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meeting_actions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_actions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_state_code'], ['countries.code'], name=op.f('fk_meeting_actions_owner_state_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_actions'))
    )
    with op.batch_alter_table('meeting_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_actions_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_meeting_actions_owner_status', ['owner_state_code', 'status'], unique=False)

    op.create_table('meeting_agenda_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('ends_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('lead_state_code', sa.String(length=2), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_state_code'], ['countries.code'], name=op.f('fk_meeting_agenda_items_lead_state_code_countries')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_agenda_items_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_agenda_items'))
    )
    with op.batch_alter_table('meeting_agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_agenda_items_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_agenda_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('published_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('published_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_agenda_versions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_meeting_agenda_versions_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_agenda_versions')),
    sa.UniqueConstraint('meeting_id', 'version', name='uq_meeting_agenda_versions_meeting_version')
    )
    with op.batch_alter_table('meeting_agenda_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_agenda_versions_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_delegates',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('attendance', sa.Enum('in_person', 'remote', name='attendance', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_head', sa.Boolean(), nullable=False),
    sa.Column('registered_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_meeting_delegates_country_code_countries')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_delegates_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_meeting_delegates_registered_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_delegates')),
    sa.UniqueConstraint('meeting_id', 'email', name='uq_meeting_delegates_meeting_email')
    )
    with op.batch_alter_table('meeting_delegates', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_delegates_meeting_country', ['meeting_id', 'country_code'], unique=False)
        batch_op.create_index('uq_meeting_delegates_head', ['meeting_id', 'country_code'], unique=True, sqlite_where=sa.text('is_head'), postgresql_where=sa.text('is_head'))

    op.create_table('meeting_invited_states',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_meeting_invited_states_country_code_countries')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_invited_states_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'country_code', name=op.f('pk_meeting_invited_states'))
    )
    with op.batch_alter_table('meeting_invited_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_invited_states_country_code'), ['country_code'], unique=False)

    op.create_table('meeting_minutes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'circulated', 'adopted', name='minutes_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('adopted_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('adopted_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['adopted_by_id'], ['users.id'], name=op.f('fk_meeting_minutes_adopted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_minutes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_minutes')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_meeting_minutes_meeting_id'))
    )

    op.create_table('meeting_agenda_links',
    sa.Column('agenda_item_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['meeting_agenda_items.id'], name=op.f('fk_meeting_agenda_links_agenda_item_id_meeting_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_meeting_agenda_links_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agenda_item_id', 'item_id', name=op.f('pk_meeting_agenda_links'))
    )
    with op.batch_alter_table('meeting_agenda_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_agenda_links_item_id'), ['item_id'], unique=False)

    op.create_table('meeting_minutes_comments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('minutes_id', sa.Uuid(), nullable=False),
    sa.Column('minutes_version', sa.Integer(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_meeting_minutes_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_meeting_minutes_comments_country_code_countries')),
    sa.ForeignKeyConstraint(['minutes_id'], ['meeting_minutes.id'], name=op.f('fk_meeting_minutes_comments_minutes_id_meeting_minutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_minutes_comments'))
    )
    with op.batch_alter_table('meeting_minutes_comments', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_minutes_comments_minutes_country', ['minutes_id', 'country_code'], unique=False)

    op.create_table('meeting_minutes_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('minutes_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'circulated', 'adopted', name='minutes_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meeting_minutes_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_id'], ['meeting_minutes.id'], name=op.f('fk_meeting_minutes_versions_minutes_id_meeting_minutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_minutes_versions')),
    sa.UniqueConstraint('minutes_id', 'version', name='uq_meeting_minutes_versions_minutes_version')
    )
    with op.batch_alter_table('meeting_minutes_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_minutes_versions_minutes_id'), ['minutes_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_minutes_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_minutes_versions_minutes_id'))
    op.drop_table('meeting_minutes_versions')
    with op.batch_alter_table('meeting_minutes_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_minutes_comments_minutes_country')
    op.drop_table('meeting_minutes_comments')
    with op.batch_alter_table('meeting_agenda_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_agenda_links_item_id'))
    op.drop_table('meeting_agenda_links')

    op.drop_table('meeting_minutes')
    with op.batch_alter_table('meeting_invited_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_invited_states_country_code'))
    op.drop_table('meeting_invited_states')
    with op.batch_alter_table('meeting_delegates', schema=None) as batch_op:
        batch_op.drop_index('uq_meeting_delegates_head', sqlite_where=sa.text('is_head'), postgresql_where=sa.text('is_head'))
        batch_op.drop_index('ix_meeting_delegates_meeting_country')
    op.drop_table('meeting_delegates')
    with op.batch_alter_table('meeting_agenda_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_agenda_versions_meeting_id'))
    op.drop_table('meeting_agenda_versions')
    with op.batch_alter_table('meeting_agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_agenda_items_meeting_id'))
    op.drop_table('meeting_agenda_items')
    with op.batch_alter_table('meeting_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_actions_owner_status')
        batch_op.drop_index(batch_op.f('ix_meeting_actions_meeting_id'))
    op.drop_table('meeting_actions')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_status_starts_at')
    op.drop_table('meetings')
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_tokens_user_id'))
    op.drop_table('calendar_tokens')
