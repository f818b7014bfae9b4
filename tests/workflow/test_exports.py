"""The library's exports: rows and CSV, the calendar, the backup and its restore (SQLite, and PostgreSQL
when PREINCUB_TEST_DATABASE_URL is set, through the db_url fixture)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.conftest import PG_URL, ready_team, seed
from workflow.errors import Forbidden, Invalid, StoreError
from workflow.formats.dump import dumps, import_all, parse
from workflow.formats.exports import neutralised, to_csv


def test_neutralised_only_formula_starts():
    assert neutralised("=1+2") == "'=1+2" and neutralised("+33") == "'+33" and neutralised("-x") == "'-x"
    assert neutralised("@a") == "'@a" and neutralised("\tx") == "'\tx"
    assert neutralised("Équipe = 1") == "Équipe = 1" and neutralised("") == ""


def test_rows_csv_and_calendar(wf):
    prog = seed(wf)
    ready_team(wf, "=cmd|' /C calc'!A0")
    wf.transitions.advance("=cmd|' /C calc'!A0", "select")
    rows = wf.exports.rows(prog, "teams")
    assert [r["team"] for r in rows.records()] == ["=cmd|' /C calc'!A0"]
    text = to_csv(rows, "fr", ";", bom=True)
    assert text.startswith("\ufeffÉquipe;")
    body = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))[1]
    assert body[0] == "'=cmd|' /C calc'!A0"
    with pytest.raises(Invalid):
        wf.exports.rows(prog, "nothing")
    with pytest.raises(Invalid):
        to_csv(rows, "fr", "|")
    from icalendar import Calendar

    cal = Calendar.from_ical(wf.calendars.ics(prog, "en"))
    uids = sorted(str(e["UID"]) for e in cal.walk("VEVENT"))
    assert any(u.startswith("coaching-") for u in uids) and any(u.startswith("deadline-") for u in uids)
    assert uids == sorted(str(e["UID"]) for e in Calendar.from_ical(wf.calendars.ics(prog, "fr")).walk("VEVENT"))


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
