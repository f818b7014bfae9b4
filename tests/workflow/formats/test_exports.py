"""The library's exports: rows and CSV, the calendar (the backup and its restore: test_dump.py)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import ready_team, seed
from workflow.errors import Invalid
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


