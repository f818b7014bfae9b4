"""person_grant: roles held in the instance (admin), a programme (coordinator, committee) or a partner
body of a programme (partner reader). The global coordinator and committee roles become grants in every
programme there is, the first coordinator also administrator: nobody can do more or less than before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person_grant',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('person_id', sa.Integer(), nullable=False),
                    sa.Column('role', sa.String(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=True),
                    sa.Column('partner_id', sa.Integer(), nullable=True),
                    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ),
                    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('uq_person_grant', 'person_grant', ['person_id', 'role', 'programme_id', 'partner_id'],
                    unique=True)
    op.create_index('ix_person_grant_programme', 'person_grant', ['programme_id', 'role'])
    from workflow.store import events, people

    changed = people.grants_from_roles(op.get_bind())
    # Every person's roles recorded again (those left with none, e.g. a committee member when there is no
    # programme yet: recorded as gone), so the chain holds the grants and not the roles of before.
    events.seal_existing(op.get_bind(), "preincub (schema 0009)", names=[events.ROLES_FIGURE],
                         also={events.ROLES_FIGURE: changed})


def downgrade() -> None:
    bind = op.get_bind()
    grant, role = sa.table('person_grant', sa.column('person_id'), sa.column('role')), \
        sa.table('person_role', sa.column('person_id'), sa.column('role'))
    # Back to global roles: a coordinator or committee member anywhere is one everywhere, and an
    # administrator (who added programmes, as a coordinator could) becomes a coordinator.
    rows = bind.execute(sa.select(grant.c.person_id, grant.c.role).where(grant.c.role.in_(("coordinator", "committee",
                                                                                         "admin")))).all()
    back = sorted({(p, "coordinator" if r == "admin" else r) for p, r in rows})
    if back:
        bind.execute(sa.insert(role), [{"person_id": p, "role": r} for p, r in back])
    op.drop_index('ix_person_grant_programme', table_name='person_grant')
    op.drop_index('uq_person_grant', table_name='person_grant')
    op.drop_table('person_grant')
