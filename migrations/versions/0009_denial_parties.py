"""denial parties: one row per party of a published denial, with its names and lookup keys

Backfills the parties of denials already published, with the same normalisation the
sharing service uses (portal.screening.normalise is pure, so importing it here is safe).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('denial_parties',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_denial_parties_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_denial_parties'))
    )
    with op.batch_alter_table('denial_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_denial_parties_item_id'), ['item_id'], unique=False)

    op.create_table('denial_party_names',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('is_alias', sa.Boolean(), nullable=False),
    sa.Column('normalised', sa.String(length=600), nullable=False),
    sa.Column('raw', sa.String(length=600), nullable=False),
    sa.Column('sorted_key', sa.String(length=600), nullable=False),
    sa.Column('phonetic_key', sa.String(length=600), nullable=False),
    sa.Column('consonant_key', sa.String(length=600), nullable=False),
    sa.Column('abjad', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_denial_party_names_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['denial_parties.id'], name=op.f('fk_denial_party_names_party_id_denial_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_denial_party_names'))
    )
    with op.batch_alter_table('denial_party_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_denial_party_names_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_denial_party_names_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_denial_party_names_sorted_key'), ['sorted_key'], unique=False)

    op.create_table('denial_party_keys',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('name_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_denial_party_keys_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['name_id'], ['denial_party_names.id'], name=op.f('fk_denial_party_keys_name_id_denial_party_names'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'item_id', 'name_id', name=op.f('pk_denial_party_keys'))
    )
    with op.batch_alter_table('denial_party_keys', schema=None) as batch_op:
        batch_op.create_index('ix_denial_party_keys_name_id', ['name_id'], unique=False)

    _backfill()


def _backfill() -> None:
    from portal.screening.parties import name_fields, party_names

    bind = op.get_bind()
    meta = sa.MetaData()
    items = sa.Table('items', meta, sa.Column('id', sa.Uuid()), sa.Column('kind', sa.String()),
                     sa.Column('status', sa.String()), sa.Column('details', sa.JSON()))
    parties = sa.Table('denial_parties', meta, autoload_with=bind)
    names = sa.Table('denial_party_names', meta, autoload_with=bind)
    keys = sa.Table('denial_party_keys', meta, autoload_with=bind)
    rows = bind.execute(sa.select(items.c.id, items.c.details).where(
        items.c.kind == 'denial', items.c.status == 'published')).all()
    for item_id, details in rows:
        for position, party in enumerate((details or {}).get('parties') or []):
            party_id = bind.execute(parties.insert().returning(parties.c.id).values(
                item_id=item_id, position=position, role=party.get('role'), name=party.get('name') or '',
                aliases=list(party.get('aliases') or []), address=party.get('address') or '',
                country=party.get('country') or None)).scalar_one()
            for text, is_alias in party_names(party):
                fields, lookup = name_fields(text)
                name_id = bind.execute(names.insert().returning(names.c.id).values(
                    party_id=party_id, item_id=item_id, name=text, is_alias=is_alias, **fields)).scalar_one()
                key_rows: list[dict[str, Any]] = [{'key': k, 'item_id': item_id, 'name_id': name_id} for k in lookup]
                if key_rows:
                    bind.execute(keys.insert(), key_rows)


def downgrade() -> None:
    with op.batch_alter_table('denial_party_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_denial_party_keys_name_id')
    op.drop_table('denial_party_keys')
    with op.batch_alter_table('denial_party_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_denial_party_names_sorted_key'))
        batch_op.drop_index(batch_op.f('ix_denial_party_names_party_id'))
        batch_op.drop_index(batch_op.f('ix_denial_party_names_item_id'))
    op.drop_table('denial_party_names')
    with op.batch_alter_table('denial_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_denial_parties_item_id'))
    op.drop_table('denial_parties')
