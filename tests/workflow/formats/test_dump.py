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


def _tampered(doc: dict, table: str, changes: dict[tuple[int, str], object]) -> dict:
    """``doc`` with values of ``table`` changed: {(row number from 1, column): value}."""
    import copy

    doc = copy.deepcopy({k: v for k, v in doc.items() if k != "signature"})
    part = doc["tables"][table]
    part["rows"] = [list(r) for r in part["rows"]]
    for (row, column), value in changes.items():
        part["rows"][row - 1][part["columns"].index(column)] = value
    return doc


def test_rows_are_checked_column_by_column_but_the_first_wrong_row_is_named(wf):
    """Whole columns are checked at once; when one is wrong, the error names the first wrong value in row
    order, as a row-by-row check would (here row 2's date, not row 3's e-mail, an earlier column)."""
    import json

    from workflow.formats.dump import _value, rows_of
    from workflow.store.dump import kind, tables

    seed(wf)
    ready_team(wf, "Équipe « un »")
    doc = json.loads(dumps(wf.dump.export()))
    data = rows_of(doc)
    for table in tables():  # the same values as each one checked alone
        part = doc["tables"][table.name]
        cols = [table.columns[c] for c in part["columns"]]
        assert data[table.name] == [{c.name: _value(v, c, kind(c), table.name, i) for v, c in zip(r, cols)}
                                    for i, r in enumerate(part["rows"], 1)], table.name
    assert len(doc["tables"]["person"]["rows"]) >= 3
    cases = [
        ({(2, "created_at"): "nope", (3, "email"): 5}, "person", (2, "created_at")),
        ({(3, "email"): doc["tables"]["person"]["rows"][0][doc["tables"]["person"]["columns"].index("email")]},
         "person", (3, "email")),
        ({(2, "created_at"): "2020-07-01T10:00:00"}, "person", (2, "created_at")),  # no time zone
        ({(1, "programme_id"): 999}, "team", (1, "programme_id")),
        ({(1, "lang"): "fr\x00"}, "person", (1, "lang")),
    ]
    for changes, table, (row, column) in cases:
        with pytest.raises(Invalid) as exc:
            rows_of(_tampered(doc, table, changes))
        assert exc.value.code == "bad_backup"
        assert (exc.value.params["table"], exc.value.params["row"], exc.value.params["column"]) == (table, row, column)
