"""export csv|json|ics and import-all, driven through the real command on real stores."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from tests.cli_helpers import DEMO_TEAMS, PROG, data, dump_hash, fails, invoke, ok

from tests.conftest import pg_schema

PG_URL = os.environ.get("PREINCUB_TEST_DATABASE_URL")
COACH = "julien.moreau@beta.example"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- CSV -------------------------------------------------------------------------------------------


def test_csv_to_a_file_opens_in_french_excel(demo_ro, tmp_path):
    out = tmp_path / "équipes.csv"
    r = ok(invoke("export", "csv", "--programme", PROG, "--sep", ";", "-o", str(out), db=demo_ro))
    assert "10" in r.stdout and _mode(out) == 0o600
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    head, body = rows[0], rows[1:]
    assert head[:4] == ["Équipe", "Programme", "Collectivité", "Problème"]
    assert {r[0] for r in body} == set(DEMO_TEAMS)
    rsa = next(r for r in body if r[0] == "Insertion RSA")
    assert rsa[head.index("Phase")] == "Investigation"
    assert "Julien Moreau <julien.moreau@beta.example>" in rsa[head.index("Coach")]
    assert any("é" in c for c in rsa)  # accents as typed
    assert all(len(r) == len(head) for r in body)


def test_csv_neutralises_formulas_and_keeps_numbers(demo_db, tmp_path):
    ok(invoke("team", "add", "=HYPERLINK(\"http://evil.example\";\"x\")", "--programme", PROG, "--partner", "Somme",
              "--problem", "+33 6 00 00 00 00 @SUM(A1)", db=demo_db))
    ok(invoke("team", "add", "@cmd", "--programme", PROG, "--partner", "Somme", "--problem", "-2+3", db=demo_db))
    out = tmp_path / "t.csv"
    ok(invoke("export", "csv", "--programme", PROG, "--sep", ";", "-o", str(out), db=demo_db))
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig")), delimiter=";"))
    head = rows[0]
    cells = [c for r in rows[1:] for c in r]
    assert "'=HYPERLINK(\"http://evil.example\";\"x\")" in cells
    assert "'+33 6 00 00 00 00 @SUM(A1)" in cells and "'@cmd" in cells and "'-2+3" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    left = rows[1][head.index("Jours restants")]  # numbers written here are never neutralised
    assert left == "" or left.lstrip("-").isdigit()


def _teams(db: Path) -> dict[str, tuple]:
    """Each team of the programme: partner, partner's kind, problem, people, agreements."""
    kinds = {p["name"]: p["kind"] for p in data(invoke("programme", "show", PROG, "--json", db=db))["partners"]}
    return {t["team"]: (t["partner"], t["partner_kind"], kinds[t["partner"]], t["problem"], t["intrapreneur"],
                        t["days_per_week"], t["coach"], t["sponsor"], t["agreements"])
            for t in data(invoke("export", "json", "--programme", PROG, db=db))}


@pytest.mark.parametrize("lang, sep", [("fr", ";"), ("en", ",")])
def test_csv_round_trip_through_team_import(demo_db, tmp_path, lang, sep):
    """export csv, then team import into a fresh store: the same teams, names (a guarded one as typed,
    one that really began with an apostrophe too), partners and their kinds, people and agreements."""
    ok(invoke("partner", "add", "Grand Est", "--programme", PROG, "--kind", "region", db=demo_db))
    ok(invoke("team", "add", "=cmd|' /C calc'!A0", "--programme", PROG, "--partner", "Grand Est",
              "--problem", "-2+3", db=demo_db))
    ok(invoke("team", "add", "'=already quoted", "--programme", PROG, "--partner", "Somme",
              "--problem", "'plain", db=demo_db))
    out = tmp_path / "teams.csv"
    ok(invoke("export", "csv", "--programme", PROG, "--sep", sep, "-o", str(out), db=demo_db, lang=lang))
    text = out.read_text("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text and "''=already quoted" in text  # guarded in the file
    head = next(csv.reader(io.StringIO(text), delimiter=sep))
    agreements = head.index({"fr": "Accords", "en": "Agreements"}[lang])
    rsa = next(r for r in csv.reader(io.StringIO(text), delimiter=sep) if r[0] == "Insertion RSA")
    assert rsa[agreements] == {"fr": "la collectivité, l'opérateur", "en": "the partner body, the operator"}[lang] \
        or rsa[agreements] == {"fr": "l'opérateur, la collectivité", "en": "the operator, the partner body"}[lang]
    fresh = tmp_path / "fresh.db"
    ok(invoke("init", db=fresh))
    ok(invoke("programme", "add", PROG, "--signed-on", "2020-06-23", "--capacity", "20", db=fresh))
    r = data(invoke("team", "import", str(out), "--programme", PROG, "--json", db=fresh))
    assert set(r["teams"]) == set(_teams(demo_db))
    assert _teams(fresh) == _teams(demo_db)
    names = set(_teams(fresh))
    assert "=cmd|' /C calc'!A0" in names and "'=already quoted" in names
    assert _teams(fresh)["=cmd|' /C calc'!A0"][:4] == ("Grand Est", "region", "region", "-2+3")
    ok(invoke("audit", "verify", db=fresh))  # the agreements recorded as `team agree` records them


def test_team_import_reads_agreements_as_ids_or_in_either_language(demo_db, tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("Team;Partner;Agreements\nA1;Nord;partner, operator\nA2;Nord;\"La Collectivité ; L'Opérateur\"\n"
                   "A3;Nord;the operator\nA4;Nord;\n", encoding="utf-8")
    ok(invoke("team", "import", str(src), "--programme", PROG, db=demo_db))
    got = {t["team"]: t["agreements"] for t in data(invoke("export", "json", "--programme", PROG, db=demo_db))}
    assert got["A1"] == got["A2"] == ["operator", "partner"] and got["A3"] == ["operator"] and got["A4"] == []
    bad = tmp_path / "b.csv"
    bad.write_text("Team;Partner;Agreements\nB1;Nord;the mayor\n", encoding="utf-8")
    r = invoke("team", "import", str(bad), "--programme", PROG, db=demo_db, lang="en")
    assert r.exit_code == 1 and "the mayor" in r.stderr and "Traceback" not in r.stderr
    assert "B1" not in {t["team"] for t in data(invoke("export", "json", "--programme", PROG, db=demo_db))}


def test_csv_to_stdout_has_no_bom_and_english_headers(demo_ro):
    r = ok(invoke("export", "csv", "--programme", PROG, "--what", "checkins", db=demo_ro, lang="en"))
    assert not r.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:4] == ["Id", "Team", "Author", "Day"]
    assert len(rows) > 50 and all(r[10] in ("yes", "no") for r in rows[1:])
    hours = [r[8] for r in rows[1:] if r[8]]
    assert hours and all("," not in h for h in hours)  # ',' separator: decimal points


def test_csv_semicolon_writes_decimal_commas(demo_db):
    ok(invoke("checkin", "log", "Insertion RSA", "--notes", "n", "--hours", "2.5", "--on", "2020-11-16", db=demo_db))
    r = ok(invoke("export", "csv", "--programme", PROG, "--what", "checkins", "--sep", ";", db=demo_db))
    assert ";2,5;" in r.stdout


def test_events_and_json_rows(demo_ro):
    r = ok(invoke("export", "csv", "--programme", PROG, "--what", "events", db=demo_ro, lang="en"))
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:5] == ["Id", "When", "Who", "Team", "Action"]
    assert any(r[4] == "advance" for r in rows[1:]) and any(r[4] == "programme.add" for r in rows[1:])
    teams = data(invoke("export", "json", "--programme", PROG, db=demo_ro))
    assert {t["team"] for t in teams} == set(DEMO_TEAMS)
    assert {t["team"]: t["phase"] for t in teams} == DEMO_TEAMS  # phase ids in JSON
    checkins = data(invoke("export", "json", "--programme", PROG, "--what", "checkins", db=demo_ro))
    listed = data(invoke("checkin", "list", "--json", db=demo_ro))
    assert [c["id"] for c in checkins] == [c["id"] for c in listed]
    assert checkins[0] == {k: listed[0][k] for k in checkins[0]}


def test_coach_exports_only_their_teams(demo_ro):
    teams = data(invoke("export", "json", "--programme", PROG, db=demo_ro, actor=COACH))
    mine = {t["name"] for t in data(invoke("status", "--json", db=demo_ro, actor=COACH))}
    assert {t["team"] for t in teams} == mine and mine < set(DEMO_TEAMS)
    fails(invoke("export", "json", db=demo_ro, actor=COACH), 1, COACH)  # the backup: coordinators only


def test_export_refusals(demo_ro, tmp_path):
    fails(invoke("export", "csv", "--programme", "Nope", db=demo_ro), 1, "Nope")
    fails(invoke("export", "csv", "--programme", PROG, "--sep", "|", db=demo_ro), 2)
    fails(invoke("export", "json", "--what", "teams", db=demo_ro), 2, "--programme")
    fails(invoke("export", "csv", "--programme", PROG, "-o", str(tmp_path / "no" / "such" / "dir.csv"),
                 db=demo_ro), 1)
    assert not (tmp_path / "no").exists()


# ---- ICS -------------------------------------------------------------------------------------------


def _calendar(path: Path):
    from icalendar import Calendar

    return Calendar.from_ical(path.read_bytes())


def test_ics_is_valid_paris_time_with_stable_uids(demo_ro, tmp_path):
    one, two = tmp_path / "1.ics", tmp_path / "2.ics"
    ok(invoke("export", "ics", "--programme", PROG, "-o", str(one), db=demo_ro))
    ok(invoke("export", "ics", "--programme", PROG, "-o", str(two), db=demo_ro))
    assert _mode(one) == 0o600
    cal = _calendar(one)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    zones = [c for c in cal.walk("VTIMEZONE")]
    assert [str(z["TZID"]) for z in zones] == ["Europe/Paris"]
    events = cal.walk("VEVENT")
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    assert uids == [str(e["UID"]) for e in _calendar(two).walk("VEVENT")]
    by_kind = {}
    for e in events:
        by_kind.setdefault(str(e["UID"]).split("-")[0], []).append(e)
    assert str(by_kind["deadline"][0].decoded("DTSTART")) == "2020-12-23"
    committees = {str(e["SUMMARY"]) for e in by_kind["committee"]}
    assert any("Transport scolaire adapté" in s for s in committees)
    assert by_kind["reminder"]  # the reminders ahead (deadline countdown, committee soon)
    assert all(e.decoded("DTSTART").tzinfo is not None and str(e["DTSTART"].params["TZID"]) == "Europe/Paris"
               for e in by_kind["reminder"])
    slots = {str(e["SUMMARY"]): e for e in by_kind["coaching"]}
    rsa = next(e for s, e in slots.items() if "Insertion RSA" in s)
    rule = rsa["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["UNTIL"]
    assert str(rsa["DTSTART"].params["TZID"]) == "Europe/Paris"
    # Later, with other reminders ahead, the same things keep their UIDs.
    later = tmp_path / "3.ics"
    ok(invoke("export", "ics", "--programme", PROG, "-o", str(later), db=demo_ro, now="2020-12-01"))
    kept = {u for u in uids if not u.startswith("reminder")}
    assert kept <= {str(e["UID"]) for e in _calendar(later).walk("VEVENT")}


def test_ics_slot_moves_with_public_holidays(demo_ro, tmp_path):
    """Slots on Tuesdays (PREINCUB_REMIND_WEEKDAY=1): 14 July 2020 is a holiday, so that week's slot is the
    15th (EXDATE + RDATE), as the weekly reminder is."""
    out = tmp_path / "p.ics"
    ok(invoke("export", "ics", "--programme", PROG, "-o", str(out), db=demo_ro, env={"PREINCUB_REMIND_WEEKDAY": "1"}))
    slots = [e for e in _calendar(out).walk("VEVENT") if str(e["UID"]).startswith("coaching")]
    assert slots and all(e.decoded("DTSTART").weekday() == 1 for e in slots)

    def days(e, prop):
        values = e.get(prop, [])
        return {d.dt.date().isoformat() for x in (values if isinstance(values, list) else [values]) for d in x.dts}

    moved = [e for e in slots if "2020-07-14" in days(e, "EXDATE")]
    assert moved and all("2020-07-15" in days(e, "RDATE") for e in moved)


def test_ics_to_stdout_for_a_coach_has_no_reminders(demo_ro):
    from icalendar import Calendar

    r = ok(invoke("export", "ics", "--programme", PROG, db=demo_ro, actor=COACH))
    uids = [str(e["UID"]) for e in Calendar.from_ical(r.stdout_bytes).walk("VEVENT")]
    assert uids and not any(u.startswith("reminder") for u in uids)


# ---- backup and restore --------------------------------------------------------------------------


def _views(db) -> list[str]:
    outs = [ok(invoke("status", db=db)).stdout, ok(invoke("status", "--json", db=db)).stdout,
            ok(invoke("checkin", "list", "--json", db=db)).stdout, ok(invoke("outbox", "list", "--json", db=db)).stdout,
            ok(invoke("person", "list", "--json", db=db)).stdout,
            ok(invoke("programme", "list", "--json", db=db)).stdout]
    for team in DEMO_TEAMS:
        outs.append(ok(invoke("history", team, db=db)).stdout)
        outs.append(ok(invoke("history", team, "--json", db=db)).stdout)
        outs.append(ok(invoke("team", "show", team, "--json", db=db)).stdout)
    return outs


@pytest.fixture
def busy_demo(demo_db):
    """The demo with an outbox history: messages sent through the console."""
    ok(invoke("remind", "run", "--console", db=demo_db, now="2020-11-16T10:00"))
    return demo_db


def test_sqlite_json_sqlite_round_trip(busy_demo, tmp_path):
    one, two, restored = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "sub" / "restored.db"
    ok(invoke("export", "json", "-o", str(one), db=busy_demo))
    assert _mode(one) == 0o600
    doc = json.loads(one.read_text("utf-8"))
    assert doc["format"] == "preincub-backup" and doc["tables"]["outbox"]["rows"]
    from workflow.store.engine import HEAD_REVISION

    assert doc["schema"] == HEAD_REVISION
    r = ok(invoke("import-all", str(one), db=restored))
    assert "restored" in r.stdout or "restaurée" in r.stdout or str(restored) in r.stdout
    ok(invoke("export", "json", "-o", str(two), db=restored))
    assert one.read_bytes() == two.read_bytes()
    assert _views(busy_demo) == _views(restored)
    # New rows after a restore get new ids.
    ok(invoke("checkin", "log", "Dossiers MDPH", "--notes", "après", "--on", "2020-11-16", db=restored))


@pytest.fixture
def pg_url():
    if not PG_URL:
        pytest.skip("PostgreSQL: set PREINCUB_TEST_DATABASE_URL to run the SQLite → JSON → PostgreSQL round trip")
    yield from pg_schema()


def test_sqlite_json_postgresql_json_round_trip(busy_demo, pg_url, tmp_path):
    one, two = tmp_path / "1.json", tmp_path / "2.json"
    ok(invoke("export", "json", "-o", str(one), db=busy_demo))
    ok(invoke("import-all", str(one), db=pg_url))
    ok(invoke("export", "json", "-o", str(two), db=pg_url))
    assert one.read_bytes() == two.read_bytes()
    assert _views(busy_demo) == _views(pg_url)
    # The id sequences continue after the restored ids.
    ok(invoke("person", "add", "Après Restauration", "--email", "apres@example.org", "--role", "coach", db=pg_url))
    ok(invoke("checkin", "log", "Dossiers MDPH", "--notes", "après", "--on", "2020-11-16", db=pg_url))
    # And refused now that it holds something.
    fails(invoke("import-all", str(one), db=pg_url, lang="en"), 1, "not empty")


def test_import_refuses_a_non_empty_store(demo_db, empty_db, tmp_path):
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db))
    for store in (demo_db, empty_db):  # an init'ed store holds its first coordinator
        before = dump_hash(store)
        fails(invoke("import-all", str(backup), db=store, lang="en"), 1, "not empty")
        assert dump_hash(store) == before


def test_import_refuses_a_newer_schema_and_foreign_files(demo_db, tmp_path):
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db))
    doc = json.loads(backup.read_text("utf-8"))
    target = tmp_path / "new.db"
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**doc, "schema": "9999"}), "utf-8")
    fails(invoke("import-all", str(newer), db=target, lang="en"), 1, "newer", "9999")
    broken = json.loads(backup.read_text("utf-8"))
    broken["tables"]["team"]["rows"][0][broken["tables"]["team"]["columns"].index("programme_id")] = 999
    bad_ref = tmp_path / "badref.json"
    bad_ref.write_text(json.dumps(broken), "utf-8")
    typed = json.loads(backup.read_text("utf-8"))
    typed["tables"]["team"]["rows"][0][0] = "<script>"
    bad_type = tmp_path / "badtype.json"
    bad_type.write_text(json.dumps(typed), "utf-8")
    huge = json.loads(backup.read_text("utf-8"))
    huge["tables"]["checkin"]["rows"][0][0] = 10**30
    bad_num = tmp_path / "huge.json"
    bad_num.write_text(json.dumps(huge), "utf-8")
    cases = {
        "garbage.json": b"\xff\xfe not utf-8 \x00",
        "notjson.json": b"[/] <script>alert(1)</script>",
        "array.json": b"[1, 2, 3]",
        "other.json": json.dumps({"name": "package", "version": "1.0"}).encode(),
        "deep.json": b"[" * 100_000,
        "unknown_table.json": json.dumps({**doc, "tables": {"recettes": {"columns": [], "rows": []}}}).encode(),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        fails(invoke("import-all", str(tmp_path / name), db=target, lang="en"), 1, "not a preincub backup")
    for path in (bad_ref, bad_type, bad_num):
        fails(invoke("import-all", str(path), db=target, lang="en"), 1, "inconsistent")
    assert not target.exists() and not list(tmp_path.glob("new.db*"))  # nothing written, not even a store
    fails(invoke("import-all", str(tmp_path / "missing.json"), db=target), 2)


def test_import_into_sqlite_file_given_as_url_then_everything_works(demo_db, tmp_path):
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db))
    target = tmp_path / "r.db"
    ok(invoke("import-all", "-", db=f"sqlite:///{target}", input=backup.read_bytes()))
    assert _mode(target) == 0o600
    assert data(invoke("status", "--json", db=target)) == data(invoke("status", "--json", db=demo_db))
    ok(invoke("advance", "Ouvrages d'art", "abandon", "--reason", "test", db=target))


def test_import_into_a_zero_byte_file_and_output_never_the_store(demo_db, tmp_path):
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db))
    before = dump_hash(demo_db)
    fails(invoke("export", "json", "-o", str(demo_db), db=demo_db, lang="en"), 2, "the store itself")
    link = tmp_path / "link.db"
    link.symlink_to(demo_db)
    hard = tmp_path / "hard.db"
    os.link(demo_db, hard)
    for target in (f"{demo_db}-wal", f"{demo_db}-shm", f"{demo_db}-journal", link, hard):
        fails(invoke("export", "csv", "--programme", PROG, "-o", str(target), db=demo_db, lang="en"), 2,
              "the store itself")
    assert dump_hash(demo_db) == before
    hard.unlink()
    empty = tmp_path / "zero.db"
    empty.write_bytes(b"")
    garbage = tmp_path / "g.json"
    garbage.write_bytes(b'{"format": "preincub-backup"}')
    fails(invoke("import-all", str(garbage), db=empty, lang="en"), 1, "not a preincub backup")
    assert empty.read_bytes() == b""
    ok(invoke("import-all", str(backup), db=empty))
    assert data(invoke("status", "--json", db=empty)) == data(invoke("status", "--json", db=demo_db))


def test_help_is_translated():
    r = ok(invoke("export", "--help", now=None))
    assert "Exporter un programme" in r.stdout
    r = ok(invoke("import-all", "--help", now=None, lang="en"))
    assert "EMPTY store" in r.stdout


def test_import_all_refuses_an_edited_backup_in_one_line_and_says_where_a_good_one_comes_from(demo_db, tmp_path):
    here = {"PREINCUB_SECRET_KEY": "k" * 48}  # this instance's key
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db, env=here))
    doc = json.loads(backup.read_text("utf-8"))
    checkin = doc["tables"]["checkin"]
    checkin["rows"][0][checkin["columns"].index("hours")] = 99
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc), "utf-8")
    target = tmp_path / "new.db"
    before = sorted(os.listdir(tmp_path))
    fails(invoke("import-all", str(edited), db=target, lang="en", env=here), 1, "check-in #",
          "hours was changed outside", "nothing was restored")
    assert sorted(os.listdir(tmp_path)) == before  # not even the new store's file
    # The untouched backup: restored, and said to be signed by this instance.
    r = ok(invoke("import-all", str(backup), db=target, lang="en", env=here))
    assert r.stdout.rstrip().endswith("the backup is signed by this instance")
    r = ok(invoke("import-all", str(backup), "--require-signature", db=tmp_path / "again.db", env=here))
    assert "signée par cette instance" in r.stdout


def test_import_all_require_signature_refuses_another_instances_backup(demo_db, tmp_path):
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db, env={"PREINCUB_SECRET_KEY": "x" * 48}))
    here = {"PREINCUB_SECRET_KEY": "y" * 48}
    target = tmp_path / "new.db"
    fails(invoke("import-all", str(backup), "--require-signature", db=target, lang="en", env=here), 1,
          "not signed by this instance", "another instance")
    assert not target.exists()
    r = ok(invoke("import-all", str(backup), db=target, lang="en", env=here))
    assert "signed, but not by this instance" in r.stdout
