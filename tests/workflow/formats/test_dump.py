"""The whole store as JSON (export-all / import-all): a round trip on both stores, and every refusal."""

from __future__ import annotations

import uuid
import pytest
from tests.conftest import PG_URL, ready_team, seed
from workflow.errors import Forbidden, Invalid, StoreError
from workflow.formats.dump import dumps, import_all, parse


def test_backup_round_trip_and_refusals(wf, db_url, tmp_path):
    prog = seed(wf)
    ready_team(wf, "Équipe « un »")
    wf.transitions.advance("Équipe « un »", "select")
    doc = wf.dump.export()
    again = dumps(doc)
    assert parse(again)["tables"] == parse(dumps(doc))["tables"]
    # Into a second empty database of the same kind.
    if db_url.startswith("sqlite"):
        target = "sqlite:///" + str(tmp_path / "copy.db")
    else:
        import sqlalchemy as sa
        from urllib.parse import quote

        schema = "t_" + uuid.uuid4().hex[:12]
        admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
        base = admin.url.render_as_string(hide_password=False)
        target = f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    try:
        rec = import_all(target, again)
        assert rec.created and rec.rows["team"] == 1
        from workflow.api import Workflow

        copy = Workflow.open(target, clock=wf.clock, actor=wf.actor)
        try:
            assert copy.teams.status(prog) == wf.teams.status(prog)
            assert copy.transitions.history("Équipe « un »") == wf.transitions.history("Équipe « un »")
            assert dumps(copy.dump.export()) == dumps(wf.dump.export())
        finally:
            copy.close()
        with pytest.raises(StoreError) as exc:
            import_all(target, again)
        assert exc.value.code == "store_not_empty"
    finally:
        if not db_url.startswith("sqlite"):
            with admin.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


def test_backup_needs_a_coordinator(wf):
    seed(wf)
    with pytest.raises(Forbidden):
        wf.acting_as("coach@example.org").dump.export()


@pytest.mark.parametrize("source, code", [
    (b"\xff", "not_a_backup"), (b"{", "not_a_backup"), (b"[]", "not_a_backup"),
    (b'{"format": "preincub-backup", "version": 1, "schema": "9999", "tables": {}}', "backup_too_new"),
    (b'{"format": "preincub-backup", "version": 2, "schema": "0001", "tables": {}}', "not_a_backup"),
])
def test_parse_refuses(source, code):
    with pytest.raises((Invalid, StoreError)) as exc:
        parse(source)
    assert exc.value.code == code
