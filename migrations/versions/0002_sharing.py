"""sharing

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('threat_notice', 'denial', 'document', name='item_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'published', 'withdrawn', name='item_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('originator_code', sa.String(length=2), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('tlp', sa.Enum('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED', name='tlp', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('all_subscribing', sa.Boolean(), nullable=False),
    sa.Column('to_secretariat', sa.Boolean(), nullable=False),
    sa.Column('to_observers', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('national_ref', sa.String(length=80), nullable=True),
    sa.Column('denial_status', sa.Enum('active', 'amended', 'revoked', 'lapsed', name='denial_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('published_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("NOT to_observers OR tlp IN ('CLEAR', 'GREEN')", name=op.f('ck_items_observers_clear_green')),
    sa.CheckConstraint("tlp <> 'RED' OR NOT all_subscribing", name=op.f('ck_items_red_not_to_all')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_items_created_by_id_users')),
    sa.ForeignKeyConstraint(['originator_code'], ['countries.code'], name=op.f('fk_items_originator_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('originator_code', 'national_ref', name='uq_items_originator_national_ref')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_category'), ['category'], unique=False)
        batch_op.create_index('ix_items_kind_status_published', ['kind', 'status', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_originator_code'), ['originator_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_severity'), ['severity'], unique=False)

    op.create_table('item_audience_countries',
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_item_audience_countries_country_code_countries')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_audience_countries_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'country_code', name=op.f('pk_item_audience_countries'))
    )
    with op.batch_alter_table('item_audience_countries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_audience_countries_country_code'), ['country_code'], unique=False)

    op.create_table('item_categories',
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_categories_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'slug', name=op.f('pk_item_categories'))
    )
    with op.batch_alter_table('item_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_categories_slug'), ['slug'], unique=False)

    op.create_table('item_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('created', 'submitted', 'published', 'amended', 'withdrawn', 'revoked', 'renewed', 'lapsed', name='item_event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_item_events_actor_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_events_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_events'))
    )
    with op.batch_alter_table('item_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_events_item_id'), ['item_id'], unique=False)

    op.create_table('item_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('tlp', sa.Enum('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED', name='tlp', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=True),
    sa.Column('published_by_id', sa.Uuid(), nullable=False),
    sa.Column('published_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_versions_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_item_versions_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_versions')),
    sa.UniqueConstraint('item_id', 'version', name='uq_item_versions_item_version')
    )
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_versions_item_id'), ['item_id'], unique=False)



    # Full-text search: FTS5 on SQLite (kept in step by portal.sharing.search), an expression
    # GIN index on PostgreSQL. Neither is part of the models' metadata.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE item_fts USING fts5(item_id UNINDEXED, content, tokenize='porter unicode61')")
    else:
        op.execute("CREATE INDEX ix_items_search ON items USING gin (to_tsvector('english', search_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE item_fts")
    else:
        op.execute("DROP INDEX ix_items_search")
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_versions_item_id'))

    op.drop_table('item_versions')
    with op.batch_alter_table('item_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_events_item_id'))

    op.drop_table('item_events')
    with op.batch_alter_table('item_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_categories_slug'))

    op.drop_table('item_categories')
    with op.batch_alter_table('item_audience_countries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_audience_countries_country_code'))

    op.drop_table('item_audience_countries')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_severity'))
        batch_op.drop_index(batch_op.f('ix_items_published_at'))
        batch_op.drop_index(batch_op.f('ix_items_originator_code'))
        batch_op.drop_index('ix_items_kind_status_published')
        batch_op.drop_index(batch_op.f('ix_items_category'))

    op.drop_table('items')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
