"""item versions and agenda versions keep the audience they were released to

A version is shown only to whom it was released: its own TLP (already stored) and the
audience at publication (new here). Existing versions are backfilled from the item's
current audience, narrowed by what the version's own marking allowed at the time (a RED
version never went to all subscribing states, only CLEAR/GREEN ones to observers); agenda
versions from the meeting's current invitation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_subscribing', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('to_secretariat', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('to_observers', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.execute("""
        UPDATE item_versions SET
          all_subscribing = (SELECT items.all_subscribing FROM items WHERE items.id = item_versions.item_id)
                            AND item_versions.tlp <> 'RED',
          to_secretariat = (SELECT items.to_secretariat FROM items WHERE items.id = item_versions.item_id),
          to_observers = (SELECT items.to_observers FROM items WHERE items.id = item_versions.item_id)
                         AND item_versions.tlp IN ('CLEAR', 'GREEN')
    """)
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        # The defaults only served the backfill: the application always sets the audience.
        batch_op.alter_column('all_subscribing', server_default=None)
        batch_op.alter_column('to_secretariat', server_default=None)
        batch_op.alter_column('to_observers', server_default=None)
        batch_op.create_check_constraint(op.f('ck_item_versions_version_red_not_to_all'), "tlp <> 'RED' OR NOT all_subscribing")
        batch_op.create_check_constraint(op.f('ck_item_versions_version_observers_clear_green'),
                                         "NOT to_observers OR tlp IN ('CLEAR', 'GREEN')")

    op.create_table('item_version_audience_countries',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['countries.code'],
                            name=op.f('fk_item_version_audience_countries_country_code_countries')),
    sa.ForeignKeyConstraint(['version_id'], ['item_versions.id'],
                            name=op.f('fk_item_version_audience_countries_version_id_item_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'country_code', name=op.f('pk_item_version_audience_countries'))
    )
    with op.batch_alter_table('item_version_audience_countries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_version_audience_countries_country_code'), ['country_code'],
                              unique=False)
    op.execute("""
        INSERT INTO item_version_audience_countries (version_id, country_code)
        SELECT v.id, a.country_code FROM item_versions v JOIN item_audience_countries a ON a.item_id = v.item_id
    """)

    with op.batch_alter_table('meeting_agenda_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_all_subscribing', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('invite_observers', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('invited_states', sa.JSON(), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("""
        UPDATE meeting_agenda_versions SET
          invite_all_subscribing = (SELECT m.invite_all_subscribing FROM meetings m
                                    WHERE m.id = meeting_agenda_versions.meeting_id),
          invite_observers = (SELECT m.invite_observers FROM meetings m WHERE m.id = meeting_agenda_versions.meeting_id)
    """))
    # The named states as a JSON list, built in Python: the two databases aggregate JSON differently.
    named: dict[object, list[str]] = {}
    for meeting_id, code in bind.execute(sa.text(
            "SELECT meeting_id, country_code FROM meeting_invited_states ORDER BY country_code")):
        named.setdefault(meeting_id, []).append(code)
    versions = sa.table('meeting_agenda_versions', sa.column('id', sa.Integer()), sa.column('meeting_id', sa.Uuid()),
                        sa.column('invited_states', sa.JSON()))
    for version_id, meeting_id in bind.execute(sa.select(versions.c.id, versions.c.meeting_id)).all():
        bind.execute(versions.update().where(versions.c.id == version_id)
                     .values(invited_states=named.get(meeting_id, [])))
    with op.batch_alter_table('meeting_agenda_versions', schema=None) as batch_op:
        batch_op.alter_column('invite_all_subscribing', server_default=None)
        batch_op.alter_column('invite_observers', server_default=None)
        batch_op.alter_column('invited_states', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_agenda_versions', schema=None) as batch_op:
        batch_op.drop_column('invited_states')
        batch_op.drop_column('invite_observers')
        batch_op.drop_column('invite_all_subscribing')
    with op.batch_alter_table('item_version_audience_countries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_version_audience_countries_country_code'))
    op.drop_table('item_version_audience_countries')
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_item_versions_version_observers_clear_green'), type_='check')
        batch_op.drop_constraint(op.f('ck_item_versions_version_red_not_to_all'), type_='check')
        batch_op.drop_column('to_observers')
        batch_op.drop_column('to_secretariat')
        batch_op.drop_column('all_subscribing')
