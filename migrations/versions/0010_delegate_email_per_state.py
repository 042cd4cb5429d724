"""meeting delegates: an address is unique within one state's delegation, not across states

The unique constraint over (meeting, e-mail) made registering an address that another state
had already registered fail, which confirmed to a state an address in a delegation it may not
see. One person may sit in two states' delegations; each state checks only its own.

Downgrading fails if the same address is then registered by two states for one meeting.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meeting_delegates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_meeting_delegates_meeting_email', type_='unique')
        batch_op.create_unique_constraint('uq_meeting_delegates_meeting_country_email',
                                          ['meeting_id', 'country_code', 'email'])


def downgrade() -> None:
    with op.batch_alter_table('meeting_delegates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_meeting_delegates_meeting_country_email', type_='unique')
        batch_op.create_unique_constraint('uq_meeting_delegates_meeting_email', ['meeting_id', 'email'])
