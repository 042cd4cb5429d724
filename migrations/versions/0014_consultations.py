"""consultations: the consultations between two states about a denial, their messages, grant
notices; and the alert topic "consultations" (the CHECK constraint of alert_topic columns widens)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


OLD_TOPICS = ('threat_notices', 'denials', 'documents', 'meetings')
NEW_TOPICS = (*OLD_TOPICS, 'consultations')


def _topic_type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='alert_topic', native_enum=False, create_constraint=True, length=32)


def _topics(wanted: tuple[str, ...], existing: tuple[str, ...]) -> None:
    """alert_topic is a VARCHAR with a CHECK constraint (portal.models.base.str_enum): changing the
    type in batch mode drops the old constraint and creates the new one (SQLite rebuilds the table)."""
    for table in ('subscriptions', 'notifications'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('topic', type_=_topic_type(wanted), existing_type=_topic_type(existing),
                                  existing_nullable=False)


def upgrade() -> None:
    op.create_table('consultations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('denial_id', sa.Uuid(), nullable=False),
    sa.Column('denying_code', sa.String(length=2), nullable=False),
    sa.Column('consulting_code', sa.String(length=2), nullable=False),
    sa.Column('tlp', sa.Enum('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED', name='tlp', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', 'closed', name='consultation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('applicant', sa.String(length=300), nullable=False),
    sa.Column('consignee', sa.String(length=300), nullable=False),
    sa.Column('end_user', sa.String(length=300), nullable=False),
    sa.Column('item_description', sa.Text(), nullable=False),
    sa.Column('control_entries', sa.JSON(), nullable=False),
    sa.Column('destination', sa.String(length=2), nullable=False),
    sa.Column('end_use', sa.Text(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('position', sa.Enum('no_objection', 'objection', 'more_information_needed', name='consultation_position', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('outcome', sa.Enum('denied', 'granted', 'application_withdrawn', name='consultation_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('opened_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('answered_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', portal.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consulting_code'], ['countries.code'], name=op.f('fk_consultations_consulting_code_countries')),
    sa.ForeignKeyConstraint(['denial_id'], ['items.id'], name=op.f('fk_consultations_denial_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['denying_code'], ['countries.code'], name=op.f('fk_consultations_denying_code_countries')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_consultations_opened_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_consulting_status', ['consulting_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultations_denial_id'), ['denial_id'], unique=False)
        batch_op.create_index('ix_consultations_denying_status', ['denying_code', 'status'], unique=False)

    op.create_table('consultation_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('consultation_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('message', 'answer', 'closing', name='consultation_message_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('position', sa.Enum('no_objection', 'objection', 'more_information_needed', name='consultation_position', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('outcome', sa.Enum('denied', 'granted', 'application_withdrawn', name='consultation_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_consultation_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_messages_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'], name=op.f('fk_consultation_messages_country_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_messages'))
    )
    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_messages_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('grant_notices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('denial_id', sa.Uuid(), nullable=False),
    sa.Column('consultation_id', sa.Uuid(), nullable=False),
    sa.Column('granting_code', sa.String(length=2), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_grant_notices_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['denial_id'], ['items.id'], name=op.f('fk_grant_notices_denial_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granting_code'], ['countries.code'], name=op.f('fk_grant_notices_granting_code_countries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_notices')),
    sa.UniqueConstraint('consultation_id', name=op.f('uq_grant_notices_consultation_id'))
    )
    with op.batch_alter_table('grant_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_notices_denial_id'), ['denial_id'], unique=False)

    _topics(NEW_TOPICS, OLD_TOPICS)


def downgrade() -> None:
    # Rows of the new topic would break the narrower constraint.
    op.execute("DELETE FROM subscriptions WHERE topic = 'consultations'")
    op.execute("DELETE FROM notifications WHERE topic = 'consultations'")
    _topics(OLD_TOPICS, NEW_TOPICS)
    with op.batch_alter_table('grant_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_notices_denial_id'))

    op.drop_table('grant_notices')
    with op.batch_alter_table('consultation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_messages_consultation_id'))

    op.drop_table('consultation_messages')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_denying_status')
        batch_op.drop_index(batch_op.f('ix_consultations_denial_id'))
        batch_op.drop_index('ix_consultations_consulting_status')

    op.drop_table('consultations')
