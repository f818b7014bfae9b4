"""The library's exports: rows and CSV, the calendar (the backup and its restore: test_dump.py)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import ready_team, seed
from workflow.errors import Invalid
from workflow.formats.exports import neutralised, to_csv, unguarded


def test_neutralised_only_formula_starts():
    assert neutralised("=1+2") == "'=1+2" and neutralised("+33") == "'+33" and neutralised("-x") == "'-x"
    assert neutralised("@a") == "'@a" and neutralised("\tx") == "'\tx"
    assert neutralised("Équipe = 1") == "Équipe = 1" and neutralised("") == ""


def test_unguarded_takes_off_exactly_the_guard_the_export_adds():
    for typed in ("=1+2", "+33", "-x", "@a", "\tx", "\rx", "'=x", "''=x", "'abc", "'", "", "Équipe = 1", "it's"):
        assert unguarded(neutralised(typed)) == typed, typed
    assert unguarded("'abc") == "'abc" and unguarded("'") == "'"  # never guarded: kept as typed
    assert neutralised("'=x") == "''=x"  # so that it reads back with its own apostrophe


def test_csv_cells_translate_ids_and_write_event_data_as_json():
    from workflow.formats.exports import Column, Rows

    rows = Rows("teams", "P", (Column("agreements", "Agreements", "parties"),
                               Column("partner_kind", "Partner kind", "partner_kind"),
                               Column("data", "Details", "json")),
                ((["partner", "operator"], "region", {"b": 1, "a": "=é"}), ([], None, None)))
    body = list(csv.reader(io.StringIO(to_csv(rows, "en"))))[1:]
    assert body == [["the partner body, the operator", "region", '{"a": "=é", "b": 1}'], ["", "", ""]]
    assert list(csv.reader(io.StringIO(to_csv(rows, "fr"))))[1][0] == "la collectivité, l'opérateur"


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




def test_each_exports_only_what_they_read_of_a_programme(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    ca = wf.acting_as(sc.COORD_A)
    assert [r["team"] for r in ca.exports.rows(sc.A).records()] == ["Alpha"]
    events = ca.exports.rows(sc.A, "events").records()
    about = {e["data"].get("programme") for e in events if e["team"] is None and e["data"]}
    assert "programme.add" in {e["action"] for e in events} and about == {sc.A}  # its own events, not B's
    reader = wf.acting_as(sc.PARTNER_X)  # X's teams; not the programme's own events (funding of Y…)
    assert [r["team"] for r in reader.exports.rows(sc.A).records()] == ["Alpha"]
    assert {e["team"] for e in reader.exports.rows(sc.A, "events").records()} == {"Alpha"}
    for who, other in ((sc.COORD_B, sc.A), (sc.COMMITTEE_A, sc.B), (sc.PARTNER_X, sc.B), (sc.COACH_A, sc.B)):
        for what in ("teams", "checkins", "events"):
            sc.refused_in(wf.acting_as(who).exports.rows, other, other, what)
