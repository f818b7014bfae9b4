"""person_mute: the reminder kinds a person chose not to receive; web_session: signed-in browsers, ended on
the server by sign-out and ``person revoke-links``; spent_link: single-use links already used.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import workflow.store.models


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = workflow.store.models.UTCDateTime(timezone=True)
    op.create_table('person_mute',
                    sa.Column('person_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(), nullable=False),
                    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
                    sa.PrimaryKeyConstraint('person_id', 'kind'))
    op.create_table('web_session',
                    sa.Column('id_hash', sa.String(), nullable=False),
                    sa.Column('person_id', sa.Integer(), nullable=False),
                    sa.Column('created_at', when, nullable=False),
                    sa.Column('seen_at', when, nullable=False),
                    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
                    sa.PrimaryKeyConstraint('id_hash'))
    op.create_index('ix_web_session_person', 'web_session', ['person_id'])
    op.create_table('spent_link',
                    sa.Column('digest', sa.String(), nullable=False),
                    sa.Column('until', when, nullable=False),
                    sa.PrimaryKeyConstraint('digest'))


def downgrade() -> None:
    op.drop_table('spent_link')
    op.drop_index('ix_web_session_person', table_name='web_session')
    op.drop_table('web_session')
    op.drop_table('person_mute')
