"""outbox: when each message goes stale, since when it has been failing, the channel it went by

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import sqlmodel

import workflow.store.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PARIS = ZoneInfo("Europe/Paris")


def _stale(kind: str, due_at: datetime) -> datetime:
    """For rows queued before 0004: a weekly reminder is current until the end of its ISO week; any
    other until a week after it was due (the usual gap between two steps of a countdown)."""
    due = due_at.astimezone(PARIS)
    if kind in ("coaching", "missed_coaching"):
        monday = due.date() - timedelta(days=due.weekday()) + timedelta(days=7)
        return datetime.combine(monday, time(0), tzinfo=PARIS)
    return due + timedelta(days=7)


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable): no rebuild of the table.
    op.add_column('outbox', sa.Column('stale_at', workflow.store.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('failing_since', workflow.store.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('sent_via', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    t = sa.table('outbox', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                 sa.column('due_at', workflow.store.models.UTCDateTime()), sa.column('stale_at', workflow.store.models.UTCDateTime()))
    conn = op.get_bind()
    rows = [{"row_id": i, "stale": _stale(kind, due)} for i, kind, due in conn.execute(sa.select(t.c.id, t.c.kind, t.c.due_at))]
    if rows:
        conn.execute(t.update().where(t.c.id == sa.bindparam("row_id")).values(stale_at=sa.bindparam("stale")), rows)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('sent_via')
        batch_op.drop_column('failing_since')
        batch_op.drop_column('stale_at')
