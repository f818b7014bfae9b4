"""Démarches Simplifiées: ds_sync (where each démarche's sync stands), ds_dossier (the dossier each imported
team came from, keyed by its DS id); partner.insee (a partner body's INSEE code, which a DS département
field gives).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import workflow.store.models


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = workflow.store.models.UTCDateTime(timezone=True)
    op.add_column('partner', sa.Column('insee', sa.String(), nullable=True))
    op.create_table('ds_sync',
                    sa.Column('demarche', sa.BigInteger(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('updated_since', when, nullable=True),
                    sa.Column('cursor', sa.String(), nullable=True),
                    sa.Column('synced_at', when, nullable=True),
                    sa.Column('wanted_at', when, nullable=True),
                    sa.Column('failed_at', when, nullable=True),
                    sa.Column('error', sa.String(), nullable=True),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('demarche'))
    op.create_table('ds_dossier',
                    sa.Column('ds_id', sa.String(), nullable=False),
                    sa.Column('demarche', sa.BigInteger(), nullable=False),
                    sa.Column('number', sa.BigInteger(), nullable=False),
                    sa.Column('team_id', sa.Integer(), nullable=True),
                    sa.Column('state', sa.String(), nullable=False),
                    sa.Column('updated_at', when, nullable=False),
                    sa.Column('deleted_at', when, nullable=True),
                    sa.ForeignKeyConstraint(['demarche'], ['ds_sync.demarche'], ),
                    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
                    sa.PrimaryKeyConstraint('ds_id'),
                    sa.UniqueConstraint('team_id'))
    op.create_index('ix_ds_dossier_number', 'ds_dossier', ['demarche', 'number'])


def downgrade() -> None:
    op.drop_index('ix_ds_dossier_number', table_name='ds_dossier')
    op.drop_table('ds_dossier')
    op.drop_table('ds_sync')
    op.drop_column('partner', 'insee')
