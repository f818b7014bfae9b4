"""The audit trail's append-only triggers, as the migrations that changed the hashed columns create them
(0007, 0008): DELETE refused, and UPDATE of any hashed column, at the database level too."""

from __future__ import annotations

from alembic import op


def append_only(hashed: tuple[str, ...]) -> None:
    """Create the triggers that refuse DELETE on ``event`` and UPDATE of the columns ``hashed``."""
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event "
                   "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
        op.execute(f"CREATE TRIGGER event_append_only_update BEFORE UPDATE OF {', '.join(hashed)} ON event "
                   "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
    elif dialect == "postgresql":
        changed = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in hashed)
        op.execute(
            "CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' OR {changed} THEN RAISE EXCEPTION 'the audit trail is append-only'; END IF; "
            "RETURN NEW; END $$")
        op.execute("CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
                   "FOR EACH ROW EXECUTE FUNCTION event_append_only()")


def drop_append_only() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS event_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS event_append_only_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_append_only ON event")
        op.execute("DROP FUNCTION IF EXISTS event_append_only()")
