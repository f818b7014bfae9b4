"""agreements, money, personal data and audit: signatures, funding, expenses, statements, payments,
formal notices; person.erased_at; the events' hash chain (actor_id, salt, digest, hash) and its head

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import workflow.store.models
from workflow.store.migrations.triggers import append_only, drop_append_only


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, workflow.store.models.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=nullable)


def upgrade() -> None:
    op.create_table('signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_signature_programme', 'signature', ['programme_id', 'signed_on'], unique=False)
    # Every existing programme was signed once, on the day it takes effect.
    op.execute("INSERT INTO signature (programme_id, signed_on) SELECT id, signed_on FROM programme ORDER BY id")

    op.create_table('funding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('cap_cents', sa.BigInteger(), nullable=False),
        sa.Column('share_bp', sa.Integer(), nullable=False),
        _text('payment'),
        _when('created_at'),
        _when('updated_at'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'partner_id'))
    op.create_table('expense',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        _text('label'),
        _when('created_at'),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_expense_programme', 'expense', ['programme_id', 'on'], unique=False)
    op.create_table('statement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('funding_id', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('expenses_cents', sa.BigInteger(), nullable=False),
        sa.Column('due_cents', sa.BigInteger(), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['funding_id'], ['funding.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_statement_funding', 'statement', ['funding_id', 'id'], unique=False)
    op.create_table('payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('funding_id', sa.Integer(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        _when('created_at'),
        sa.ForeignKeyConstraint(['funding_id'], ['funding.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('funding_id'))
    op.create_table('notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        _text('breach'),
        sa.Column('answered_on', sa.Date(), nullable=True),
        _text('answer', nullable=True),
        _when('created_at'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_notice_programme', 'notice', ['programme_id', 'on'], unique=False)

    op.add_column('person', _when('erased_at', nullable=True))

    op.create_table('audit_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        _text('hash'),
        sa.PrimaryKeyConstraint('id'))
    drop_append_only()
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.add_column(_text('salt', nullable=True))
        batch_op.add_column(_text('digest', nullable=True))
        batch_op.add_column(_text('hash', nullable=True))
        batch_op.create_foreign_key('fk_event_actor_id_person', 'person', ['actor_id'], ['id'])
    _chain_existing()
    append_only(HASHED)


def _chain_existing() -> None:
    """The existing events, chained in their order (``workflow.store.events``)."""
    from workflow.store import events

    events.chain_existing(op.get_bind())


# The hashed columns, and the id that orders the chain: UPDATE of any of them is refused; the personal
# part (actor, reason, data, salt) may be rewritten, by an erasure or a purge only.
HASHED = ("id", "at", "actor_id", "team_id", "action", "trigger", "from_phase", "to_phase", "forced", "digest", "hash")


def downgrade() -> None:
    drop_append_only()
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint('fk_event_actor_id_person', type_='foreignkey')
        batch_op.drop_column('hash')
        batch_op.drop_column('digest')
        batch_op.drop_column('salt')
        batch_op.drop_column('actor_id')
    # The append-only triggers of revision 0001.
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER event_append_only_{verb.lower()} BEFORE {verb} ON event "
                       "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$")
        op.execute("CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
                   "FOR EACH ROW EXECUTE FUNCTION event_append_only()")
    op.drop_table('audit_head')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    op.drop_index('ix_notice_programme', table_name='notice')
    op.drop_table('notice')
    op.drop_table('payment')
    op.drop_index('ix_statement_funding', table_name='statement')
    op.drop_table('statement')
    op.drop_index('ix_expense_programme', table_name='expense')
    op.drop_table('expense')
    op.drop_table('funding')
    op.drop_index('ix_signature_programme', table_name='signature')
    op.drop_table('signature')
