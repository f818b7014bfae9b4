"""the audit chain covers the figures (event.figures, hashed; one ``audit.seal`` event for the rows already
there); the daemon lease's heartbeat (daemon_lease.heartbeat_at)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import workflow.store.models
from workflow.store.migrations.triggers import append_only, drop_append_only


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The hashed columns of 0007, and ``figures``: UPDATE of any of them is refused.
HASHED_0007 = ("id", "at", "actor_id", "team_id", "action", "trigger", "from_phase", "to_phase", "forced", "digest",
               "hash")
HASHED = HASHED_0007 + ("figures",)


def upgrade() -> None:
    op.add_column('daemon_lease', sa.Column('heartbeat_at', workflow.store.models.UTCDateTime(timezone=True), nullable=True))
    drop_append_only()
    op.add_column('event', sa.Column('figures', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    append_only(HASHED)
    from workflow.store import events

    # The roles' figure is sealed by 0009, which moves coordinators and committee members to grants.
    events.seal_existing(op.get_bind(), names=[n for n in events.FIGURES if n != events.ROLES_FIGURE])


def downgrade() -> None:
    drop_append_only()
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('figures')
    append_only(HASHED_0007)
    with op.batch_alter_table('daemon_lease', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
