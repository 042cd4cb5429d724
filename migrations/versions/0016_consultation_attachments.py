"""attachments: a file belongs to a shared item or to a consultation (exactly one of the two)

`item_id` and `item_version` become nullable, `consultation_id` is added, and a CHECK keeps
exactly one owner. Existing rows are item files and stay as they are (their signed manifests
are not touched).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ONE_OWNER = ("(item_id IS NOT NULL AND item_version IS NOT NULL AND consultation_id IS NULL)"
             " OR (item_id IS NULL AND item_version IS NULL AND consultation_id IS NOT NULL)")


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consultation_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('item_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column('item_version', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_attachments_consultation_id_consultations'), 'consultations',
                                    ['consultation_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_attachments_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_check_constraint('one_owner', ONE_OWNER)


def downgrade() -> None:
    # Consultation files have no place in the older schema: their rows go (their stored
    # ciphertexts stay in the store, unreferenced and undecryptable without the wraps).
    op.execute("DELETE FROM attachment_key_wraps WHERE attachment_id IN "
               "(SELECT id FROM attachments WHERE consultation_id IS NOT NULL)")
    op.execute("DELETE FROM attachments WHERE consultation_id IS NOT NULL")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint('one_owner', type_='check')
        batch_op.drop_index(batch_op.f('ix_attachments_consultation_id'))
        batch_op.drop_constraint(batch_op.f('fk_attachments_consultation_id_consultations'), type_='foreignkey')
        batch_op.alter_column('item_version', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('item_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('consultation_id')
