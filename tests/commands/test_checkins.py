"""Check-ins and people from the command line, on a copy of the demo store (as of 2020-11-16)."""

from __future__ import annotations

from tests.cli_helpers import data, dump_hash, fails, invoke, ok

PROG = "Pré-incubation 2020"

JULIEN = "julien.moreau@beta.example"  # coaches Insertion RSA
SARAH = "sarah.benali@beta.example"    # coaches Dossiers MDPH
INES = "ines.haddad@somme.example"     # intrapreneur of Transport scolaire adapté


def test_a_coach_logs_and_lists(demo_db):
    r = ok(invoke("checkin", "log", "Insertion RSA", "--notes", "Entretiens usagers", "--blockers", "Données",
                  "--next-steps", "Prototype", "--hours", "6.5", "--mood", "4", db=demo_db, actor=JULIEN))
    assert "semaine 2020-W47" in r.stdout
    rows = data(invoke("checkin", "list", "--team", "Insertion RSA", "--week", "2020-W47", "--json", db=demo_db))
    assert [(c["on"], c["author"], c["notes"], c["blockers"], c["next_steps"], c["hours"], c["mood"], c["missed"])
            for c in rows] == [("2020-11-16", JULIEN, "Entretiens usagers", "Données", "Prototype", 6.5, 4, False)]
    assert set(rows[0]) == {"id", "team", "author", "on", "week", "notes", "blockers", "next_steps", "hours", "mood",
                            "missed", "reason", "created_at", "updated_at"}


def test_notes_from_stdin(demo_db):
    from click.testing import CliRunner

    import cli

    res = CliRunner().invoke(cli.app, ["--db", str(demo_db), "--now", "2020-11-16", "--as", JULIEN, "checkin", "log",
                                       "Insertion RSA", "--notes", "-"], input="Notes venues de stdin\nsur deux lignes\n")
    assert res.exit_code == 0, res.stderr
    rows = data(invoke("checkin", "list", "--team", "Insertion RSA", "--since", "2020-11-16", "--json", db=demo_db))
    assert rows[-1]["notes"] == "Notes venues de stdin\nsur deux lignes"


def test_missed_week_and_gaps(demo_db):
    ok(invoke("checkin", "log", "Dossiers MDPH", "--on", "2020-11-12", "--missed", "--reason", "Coach en congés",
              db=demo_db, actor=SARAH))
    gaps = data(invoke("checkin", "gaps", "--json", db=demo_db))
    assert [(g["team"], g["weeks_held"], g["weeks_expected"]) for g in gaps] == [
        ("Insertion RSA", 18, 19), ("Dossiers MDPH", 13, 19)]
    mdph = gaps[1]
    assert mdph["weeks_missing"] == ["2020-W41", "2020-W42", "2020-W43", "2020-W44", "2020-W45", "2020-W46"]
    assert mdph["missed_recorded"] == ["2020-W46"]
    assert [g["team"] for g in data(invoke("checkin", "gaps", "--weeks", "3", "--json", db=demo_db))] == [
        "Dossiers MDPH"]


def test_status_marks_drifting_teams(demo_db):
    rows = {r["name"]: r for r in data(invoke("status", "--json", db=demo_db))}
    assert (rows["Dossiers MDPH"]["last_checkin"], rows["Dossiers MDPH"]["weeks_missing"],
            rows["Dossiers MDPH"]["drifting"]) == ("2020-10-01", 6, True)
    assert (rows["Insertion RSA"]["weeks_missing"], rows["Insertion RSA"]["drifting"]) == (1, False)
    assert "2020-10-01 ⚠ 6" in ok(invoke("status", db=demo_db)).stdout
    coaching = data(invoke("team", "show", "Dossiers MDPH", "--json", db=demo_db))["coaching"]
    assert (coaching["weeks_held"], coaching["weeks_expected"], coaching["hours_per_week"],
            coaching["hours_committed"], coaching["hours_shortfall"]) == (13, 19, 4.0, 7.0, True)


def test_refusals_are_one_line_and_change_nothing(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", db=demo_db, actor=SARAH), 1,
          "sarah.benali@beta.example", "pas une de vos équipes")
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", db=demo_db, actor=INES), 1,
          "il faut l'attribution coordinator de 'Pré-incubation 2020'")
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", "--on", "2020-11-17", db=demo_db,
                 actor=JULIEN, lang="en"), 1, "in the future")
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", "--on", "2020-07-05", db=demo_db,
                 actor=JULIEN, lang="en"), 1, "before 'Insertion RSA' entered investigation (July 6, 2020)")
    fails(invoke("checkin", "log", "Ouvrages d'art", "--notes", "x", db=demo_db, lang="en"), 1,
          "has not entered investigation")
    fails(invoke("checkin", "log", "Insertion RSA", "--missed", db=demo_db, lang="en"), 1, "needs a reason")
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", "--mood", "6", db=demo_db), 2, "--mood")
    fails(invoke("checkin", "edit", "1", "--notes", "trop tard", db=demo_db, lang="en"), 1,
          "allowed for 7 days only")
    fails(invoke("checkin", "edit", "99999", "--notes", "x", db=demo_db, lang="en"), 1, "no check-in #99999")
    fails(invoke("checkin", "list", "--week", "2020-30", db=demo_db, lang="en"), 2, "YYYY-Www")
    fails(invoke("checkin", "list", db=demo_db, actor="nobody@example.org", lang="en"), 1,
          "unknown acting person nobody@example.org")
    assert dump_hash(demo_db) == before


def test_correction_by_the_author_is_audited(demo_db):
    cid = data(invoke("checkin", "list", "--team", "Insertion RSA", "--week", "2020-W46", "--json",
                      db=demo_db))[0]["id"]
    ok(invoke("checkin", "edit", str(cid), "--hours", "5", db=demo_db, actor=JULIEN))
    edit = data(invoke("history", "Insertion RSA", "--json", db=demo_db))[-1]
    assert (edit["action"], edit["actor"], edit["data"]) == (
        "checkin.edit", JULIEN, {"checkin": cid, "changes": {"hours": [7.0, 5.0]}})


def test_what_a_coach_and_an_intrapreneur_may_read(demo_db):
    assert sorted(r["name"] for r in data(invoke("status", "--json", db=demo_db, actor=SARAH))) == [
        "Archives en ligne", "Assistants familiaux", "Dossiers MDPH", "Signalements voirie"]
    assert [r["name"] for r in data(invoke("team", "list", "--json", db=demo_db, actor=INES))] == [
        "Transport scolaire adapté"]
    fails(invoke("history", "Insertion RSA", db=demo_db, actor=INES, lang="en"), 1, "not one of your teams")
    # The directory, as far as she may read: herself and her team's coach, no one of the other teams.
    people = {p["email"] for p in data(invoke("person", "list", "--json", db=demo_db, actor=INES))}
    assert people == {INES, JULIEN}


def test_person_edit_roles_channels_language(demo_db):
    ok(invoke("person", "edit", INES, "--add-role", "sponsor", "--channel", "chat", "--channel", "email",
              "--lang", "en", db=demo_db))
    p = next(p for p in data(invoke("person", "list", "--json", db=demo_db)) if p["email"] == INES)
    assert (p["roles"], p["channels"], p["lang"]) == (["intrapreneur", "sponsor"], ["chat", "email"], "en")
    ok(invoke("person", "edit", INES, "--remove-role", "sponsor", db=demo_db))
    before = dump_hash(demo_db)
    fails(invoke("person", "edit", INES, "--remove-role", "intrapreneur", db=demo_db, lang="en"), 1,
          "would have no role left")
    fails(invoke("person", "edit", INES, db=demo_db, lang="en"), 1, "nothing to change")
    fails(invoke("person", "edit", INES, "--channel", "pigeon", db=demo_db), 2, "--channel")
    fails(invoke("person", "edit", "who@example.org", "--lang", "en", db=demo_db, lang="en"), 1, "unknown person")
    assert dump_hash(demo_db) == before


def test_notes_from_the_editor_on_a_terminal(demo_db, monkeypatch):
    import click

    from commands import checkins

    seen = {}

    def fake_edit(template):
        seen["template"] = template
        return "# une ligne ignorée\nNotes écrites dans l'éditeur\n"

    monkeypatch.setattr(checkins, "_interactive", lambda: True)
    monkeypatch.setattr(click, "edit", fake_edit)
    ok(invoke("checkin", "log", "Insertion RSA", db=demo_db, actor=JULIEN))
    assert seen["template"].startswith("\n# ")
    rows = data(invoke("checkin", "list", "--team", "Insertion RSA", "--since", "2020-11-16", "--json", db=demo_db))
    assert rows[-1]["notes"] == "Notes écrites dans l'éditeur"
    monkeypatch.setattr(click, "edit", lambda template: None)  # the editor closed without saving
    before = dump_hash(demo_db)
    fails(invoke("checkin", "log", "Insertion RSA", db=demo_db, actor=JULIEN), 2,
          "aucune note écrite\u00a0: point non enregistré")
    assert dump_hash(demo_db) == before


def test_a_role_still_held_on_a_team_cannot_be_removed(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("person", "edit", JULIEN, "--remove-role", "coach", "--add-role", "committee", "--programme", PROG,
                 db=demo_db, lang="en"), 1, "julien.moreau@beta.example is still coach of 'Insertion RSA'",
          "(team edit)")
    assert dump_hash(demo_db) == before
    ok(invoke("team", "edit", "Insertion RSA", "--coach", SARAH, db=demo_db))
    ok(invoke("team", "edit", "Ouvrages d'art", "--coach", SARAH, db=demo_db))
    ok(invoke("team", "edit", "Transport scolaire adapté", "--coach", SARAH, db=demo_db))
    ok(invoke("team", "edit", "Assistants familiaux", "--coach", SARAH, db=demo_db))
    ok(invoke("person", "edit", JULIEN, "--remove-role", "coach", "--add-role", "committee", "--programme", PROG,
              db=demo_db))


def test_reason_only_with_missed_and_unknown_coach_filter(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("checkin", "log", "Insertion RSA", "--notes", "x", "--reason", "why", db=demo_db, lang="en"), 1,
          "a reason is only for a missed check-in")
    fails(invoke("checkin", "list", "--coach", "nobody@example.org", db=demo_db, lang="en"), 1,
          "unknown person nobody@example.org")
    fails(invoke("checkin", "list", "--week", "2020-W99", db=demo_db), 2, "--week")
    assert dump_hash(demo_db) == before
