"""team: an index on (programme_id, name), the order of every listing (``status``, ``team list``)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite walks the programmes by name and each one's teams by name through it: no sort of every
    # team (a fifth of `status` at 100,000 teams), and a listing of one programme reads only its rows.
    op.create_index('ix_team_programme_name', 'team', ['programme_id', 'name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_team_programme_name', table_name='team')
