"""single sign-on: a state's OpenID Connect provider and accounts' bindings to its subjects

Revision ID: 0020
Revises: 0017
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('state_identity_providers',
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('secret_env', sa.String(length=100), nullable=True),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('secret_master_key_id', sa.String(length=40), nullable=True),
    sa.Column('email_claim', sa.String(length=64), nullable=False),
    sa.Column('mfa_amr', sa.Text(), nullable=False),
    sa.Column('mfa_acr', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(secret_env IS NULL) <> (secret_sealed IS NULL)', name=op.f('ck_state_identity_providers_one_secret_source')),
    sa.CheckConstraint('(secret_sealed IS NULL) = (secret_master_key_id IS NULL)', name=op.f('ck_state_identity_providers_sealed_names_its_key')),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_state_identity_providers_country_code_countries')),
    sa.PrimaryKeyConstraint('country_code', name=op.f('pk_state_identity_providers'))
    )
    op.create_table('identity_bindings',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('bound_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_identity_bindings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_identity_bindings')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_identity_bindings_issuer'))
    )


def downgrade() -> None:
    op.drop_table('identity_bindings')
    op.drop_table('state_identity_providers')
