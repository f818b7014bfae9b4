"""The intake library: rows read to frozen records, checked against the store, written in one
transaction through the directory's and teams' code; SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import pytest
from tests.conftest import seed
from tests.workflow.formats.conftest import sheet

from workflow.errors import Forbidden
from workflow.formats.intake import BadRows, IntakeResult
from workflow.formats.sheets import load_map, read

PROG = "Pré-incubation 2020"


def counts(wf) -> tuple[int, int, int, int]:
    import sqlalchemy as sa

    with wf.store.read() as s:
        return tuple(s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("team", "person", "partner", "event"))


def test_import_creates_partners_and_people_in_one_go(wf):
    seed(wf)
    before = counts(wf)
    sh = sheet(["Alpha", "Pas-de-Calais", "P", "Zoé Roy <zoe@x.example>", "1", "coach@example.org", ""],
               ["Beta", "pas-de-calais", "P", "agent1@example.org", "1,5", "", "Sponsor Deux <sp2@x.example>"],
               ["Gamma", "Somme", "P", "Zoé Roy <zoe@x.example>", "", "", ""])
    r = wf.intake.import_sheet(sh, PROG)
    assert isinstance(r, IntakeResult) and not r.dry_run
    assert r.teams == ("Alpha", "Beta", "Gamma") and r.partners == ("Somme",)  # matched case aside
    assert {(p.email, p.roles) for p in r.people} == {("zoe@x.example", ("intrapreneur",)),
                                                       ("sp2@x.example", ("sponsor",))}
    teams, people, partners, events = counts(wf)
    assert (teams, people, partners) == (before[0] + 3, before[1] + 2, before[2] + 1)
    # events: one per partner, person and team, and the import itself
    assert events == before[3] + 1 + 2 + 3 + 1
    b = wf.teams.show("Beta")
    assert b.partner == "Pas-de-Calais" and b.sponsors[0].email == "sp2@x.example"
    assert b.intrapreneurs[0].days_per_week == 1.5 and b.phase == "call_for_projects"
    assert [p.phase for p in b.phases] == ["call_for_projects"]
    h = wf.transitions.history("Alpha")
    assert h[0].action == "team.add" and h[0].data == {
        "programme": PROG, "partner": "Pas-de-Calais", "intrapreneurs": ["zoe@x.example"], "days_per_week": 1.0,
        "coach": "coach@example.org"}
    # the same as a team added one by one
    wf.teams.add("Delta", PROG, "Pas-de-Calais", intrapreneurs=["zoe@x.example"], coach="coach@example.org",
                days_per_week=1)
    assert wf.transitions.history("Delta")[0].data == {**h[0].data}
    # again: nothing changes
    after = counts(wf)
    r2 = wf.intake.import_sheet(sh, PROG)
    assert r2.teams == () and [e.name for e in r2.existing] == ["Alpha", "Beta", "Gamma"]
    assert counts(wf) == after


def test_every_problem_reported_nothing_written(wf):
    seed(wf)
    before = counts(wf)
    sh = sheet(["", "Pas-de-Calais", "", "", "", "", ""],
               ["A", "Pas-de-Calais", "", "inconnu@x.example", "", "", ""],
               ["B", "Pas-de-Calais", "", "agent1@example.org", "", "agent2@example.org", ""],
               ["C", "Pas-de-Calais", "", "", "", "", ""],
               ["C", "Pas-de-Calais", "", "", "", "", ""],
               ["D", "Pas-de-Calais", "", "", "2", "", ""],
               ["E", "Pas-de-Calais", "", "Jean <pas-un-email>", "", "", ""])
    with pytest.raises(BadRows) as e:
        wf.intake.import_sheet(sh, PROG)
    got = [(p.line, p.column, p.code) for p in e.value.problems]
    assert got == [(2, "équipe", "invalid"), (3, "intrapreneur", "needs_name"), (4, "coach", "missing_role"),
                   (6, "équipe", "duplicate_team"), (7, "jours par semaine", "needs_intrapreneur"),
                   (8, "intrapreneur", "invalid")]
    assert e.value.params["n"] == 6 and e.value.code == "bad_rows"
    assert counts(wf) == before
    assert "line 4, column 'coach': agent2@example.org does not have the role coach" in e.value.problems[2].text("en")


def test_team_of_another_programme_is_a_problem(wf):
    seed(wf)
    from datetime import date

    wf.directory.add_programme("Autre", date(2020, 9, 1))
    wf.directory.add_partner("Nord", "Autre")
    wf.teams.add("Alpha", "Autre", "Nord")
    with pytest.raises(BadRows) as e:
        wf.intake.import_sheet(sheet(["Alpha", "Pas-de-Calais", "", "", "", "", ""]), PROG)
    assert e.value.problems[0].code == "team_exists" and "'Autre'" in e.value.problems[0].text("en")


def test_dry_run_and_permissions(wf):
    seed(wf)
    before = counts(wf)
    r = wf.intake.import_sheet(sheet(["Alpha", "Oise", "", "Zoé <z@x.example>", "", "", ""]), PROG, dry_run=True)
    assert r.dry_run and r.teams == ("Alpha",) and r.partners == ("Oise",)
    assert counts(wf) == before
    with pytest.raises(Forbidden):
        wf.acting_as("coach@example.org").intake.import_sheet(sheet(["Z", "Oise", "", "", "", "", ""]), PROG)


def test_files_and_map(tmp_path, wf):
    seed(wf)
    f = tmp_path / "x.csv"
    f.write_bytes("Nom du projet;Territoire\r\nAlpha;Somme\r\n".encode("cp1252"))
    m = tmp_path / "m.toml"
    m.write_text('"Nom du projet" = "team"\n"Territoire" = "collectivité"\n', encoding="utf-8")
    assert load_map(m) == {"Nom du projet": "team", "Territoire": "collectivité"}
    r = wf.intake.import_file(f, PROG, mapping=load_map(m))
    assert r.teams == ("Alpha",) and r.partners == ("Somme",)
    sh = read(f)
    assert sh.header == ("Nom du projet", "Territoire") and sh.rows == ((2, ("Alpha", "Somme")),)


def test_an_import_goes_into_ones_own_programme_only(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    ca = wf.acting_as(sc.COORD_A)
    before = counts(wf)
    sc.refused_in(ca.intake.import_sheet, sc.B, sheet(["Gamma", sc.Z, "", "", "", "", ""]), sc.B)
    sc.refused_in(ca.intake.import_sheet, sc.B, sheet(["Gamma", sc.Z, "", "", "", "", ""]), sc.B, dry_run=True)
    with pytest.raises(Forbidden):
        wf.acting_as(sc.COMMITTEE_A).intake.import_sheet(sheet(["Gamma", sc.X, "", "", "", "", ""]), sc.A)
    assert counts(wf) == before
    with pytest.raises(BadRows) as e:  # a name B's team took: said without naming B
        ca.intake.import_sheet(sheet(["Beta", sc.X, "", "", "", "", ""]), sc.A)
    assert e.value.problems[0].code == "team_exists" and sc.B not in e.value.problems[0].text("en")
    assert ca.intake.import_sheet(sheet(["Gamma", sc.X, "", "", "", "", ""]), sc.A).teams == ("Gamma",)


def test_a_partner_named_many_ways_on_many_rows_is_one_partner(wf):
    """Each distinct cell is resolved once: a département spelt several ways, then again, is the one new
    partner (named as the INSEE names it, with its code); another name, in any case, is one more."""
    seed(wf)
    cells = ["80 - Somme", "Somme (80)", "somme", "80", "Ville de Lille", "ville de lille"]
    sh = sheet(*[[f"Équipe {i}", cells[i % len(cells)], "P", f"Agent {i} <agent{i}@x.example>", "", "", ""]
                 for i in range(30)])
    r = wf.intake.import_sheet(sh, PROG)
    assert r.partners == ("Somme", "Ville de Lille") and len(r.teams) == 30
    assert {wf.teams.show(f"Équipe {i}").partner for i in range(30) if i % len(cells) < 4} == {"Somme"}
    assert {wf.teams.show(f"Équipe {i}").partner for i in range(30) if i % len(cells) >= 4} == {"Ville de Lille"}
    assert {(p.name, p.insee) for p in wf.directory.programme(PROG).partners} >= {("Somme", "80"),
                                                                                 ("Ville de Lille", None)}


def test_the_collector_runs_again_after_an_import_good_or_bad(wf):
    """The import pauses Python's cyclic collector for its rows only: after it, done or refused, it runs."""
    import gc

    seed(wf)
    assert gc.isenabled()
    wf.intake.import_sheet(sheet(["Alpha", "Somme", "P", "Zoé Roy <zoe@x.example>", "", "", ""]), PROG)
    assert gc.isenabled()
    with pytest.raises(BadRows):
        wf.intake.import_sheet(sheet(["", "Somme", "P", "Zoé Roy <zoe@x.example>", "", "", ""]), PROG)
    assert gc.isenabled()
