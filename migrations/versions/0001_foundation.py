"""foundation: countries, users, sessions, tokens, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('actor_label', sa.String(length=300), nullable=True),
    sa.Column('actor_country', sa.String(length=2), nullable=True),
    sa.Column('target_type', sa.String(length=40), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('entry_hash', name=op.f('uq_audit_log_entry_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_log_prev_hash'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_target_id'), ['target_id'], unique=False)

    op.create_table('countries',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('subscribing', 'observer', name='country_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('endorsed_on', sa.Date(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(code) = 2', name=op.f('ck_countries_code_two_letters')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_countries')),
    sa.UniqueConstraint('name', name=op.f('uq_countries_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=True),
    sa.Column('role', sa.Enum('spoc', 'officer', 'reader', 'secretariat', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('is_designated_poc', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('invited', 'active', 'disabled', name='user_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_changed_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_enrolled_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('totp_last_counter', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('invited_by_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("(role IN ('spoc', 'officer', 'reader')) = (country_code IS NOT NULL)", name=op.f('ck_users_state_role_has_country')),
    sa.CheckConstraint("NOT is_designated_poc OR role = 'spoc'", name=op.f('ck_users_designated_is_spoc')),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_users_country_code_countries')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_users_invited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_country_code'), ['country_code'], unique=False)
        batch_op.create_index('uq_users_designated_poc_per_country', ['country_code'], unique=True, sqlite_where=sa.text('is_designated_poc'), postgresql_where=sa.text('is_designated_poc'))

    op.create_table('account_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.Enum('invitation', 'password_reset', name='token_purpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))

    op.drop_table('account_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_designated_poc_per_country', sqlite_where=sa.text('is_designated_poc'), postgresql_where=sa.text('is_designated_poc'))
        batch_op.drop_index(batch_op.f('ix_users_country_code'))

    op.drop_table('users')
    op.drop_table('countries')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_target_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
