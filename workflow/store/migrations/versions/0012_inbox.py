"""Check-ins by e-mail reply: inbound_mail (each e-mail received, once, by the digest of its Message-ID, and
what became of it), inbox_poll (how the mailbox poller fares); outbox.in_reply_to (an answer's thread).
reminder_plan: what the last full look at the reminders saw, so that an idle tick costs one row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

import workflow.store.models


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = workflow.store.models.UTCDateTime(timezone=True)
    op.add_column('outbox', sa.Column('in_reply_to', sa.String(), nullable=True))
    op.create_table('inbound_mail',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('digest', sa.String(), nullable=False),
                    sa.Column('received_at', when, nullable=False),
                    sa.Column('via', sa.String(), nullable=False),
                    sa.Column('outcome', sa.String(), nullable=False),
                    sa.Column('reason', sa.String(), nullable=True),
                    sa.Column('person_id', sa.Integer(), nullable=True),
                    sa.Column('team_id', sa.Integer(), nullable=True),
                    sa.Column('week', sa.String(), nullable=True),
                    sa.Column('checkin_id', sa.Integer(), nullable=True),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], ),
                    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
                    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('digest'))
    op.create_index('ix_inbound_mail_received', 'inbound_mail', ['received_at'])
    op.create_table('inbox_poll',
                    sa.Column('name', sa.String(), nullable=False),
                    sa.Column('polled_at', when, nullable=True),
                    sa.Column('ok_at', when, nullable=True),
                    sa.Column('error', sa.String(), nullable=True),
                    sa.Column('handled', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    op.create_table('reminder_plan',
                    sa.Column('name', sa.String(), nullable=False),
                    sa.Column('events', sa.Integer(), nullable=False),
                    sa.Column('head', sa.String(), nullable=False),
                    sa.Column('settings', sa.String(), nullable=False),
                    sa.Column('computed_at', when, nullable=False),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('reminder_plan')
    op.drop_table('inbox_poll')
    op.drop_index('ix_inbound_mail_received', table_name='inbound_mail')
    op.drop_table('inbound_mail')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('in_reply_to')
