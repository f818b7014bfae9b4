"""`team import` of a Démarches Simplifiées export (issue 22, "Also"): only the dossiers in instruction or
accepted become teams, the others are counted; a département cell ("80 - Somme", "Somme (80)", "somme",
"80") is the existing partner; a column is picked by its position (``problem = 16``, ``problem = "P"``), so
a header DS repeats ("Nom": the demandeur's and a form field's) no longer refuses the file. On the demo's
SQLite file, through the CLI, with a CSV and an XLSX shaped as DS writes them."""

from __future__ import annotations

import sqlite3

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok
from tests.commands.test_intake import teams_of, write_csv

# As DS exports a démarche's dossiers: its own columns, then the form's fields ("Nom" twice: the
# demandeur's, column D, and the form's "Nom" of the service, column N).
HEADER = ["ID", "Email", "Civilité", "Nom", "Prénom", "Archivé", "État du dossier", "Dernière mise à jour le",
          "Déposé le", "Passé en instruction le", "Traité le", "Motivation de la décision", "Nom du projet", "Nom",
          "Département", "Décrivez le problème public rencontré", "Temps consacré au projet (jours par semaine)"]


def dossier(number, state, project, departement, problem="Les usagers attendent des semaines une réponse.",
            *, email=None, nom="Blum", prenom="Léon"):
    return [str(number), email or f"agent{number}@collectivite.example", "M.", nom, prenom, "false", state,
            "2020-11-20 09:00:00", "2020-11-02 10:12:00", "", "", "", project, "Service des routes", departement,
            problem, "1,5"]


ROWS = [
    dossier(1201, "en_construction", "Registre des fuites", "18 - Cher", ""),  # a draft: no problem yet
    dossier(1202, "En instruction", "Cantines bio", "80 - Somme", nom="Lefèvre", prenom="Zoé"),
    dossier(1203, "Accepté", "Routes sûres", "Somme (80)"),
    dossier(1204, "accepte", "Eau potable", "somme"),
    dossier(1205, "en_instruction", "Guichet unique", "80"),
    dossier(1206, "Refusé", "Projet refusé", "80 - Somme", ""),
    dossier(1207, "Classé sans suite", "Projet abandonné", "80 - Somme"),
    dossier(1208, "sans_suite", "Autre abandon", "Somme"),
    dossier(1209, "En instruction", "Ports du littoral", "76 - Seine-Maritime"),
    dossier(1210, "accepte", "Dunes vivantes", "Seine-Maritime (76)"),
    dossier(1211, "En construction", "Brouillon", ""),
]
LIVE = {"Cantines bio", "Routes sûres", "Eau potable", "Guichet unique", "Ports du littoral", "Dunes vivantes"}
SKIPPED = {"en_construction": 2, "refuse": 1, "sans_suite": 2}
# team and partner by header label (either way round), the repeated "Nom" by its letter, the problem by
# its number, the days by letter
MAP = """\
[columns]
team = "Nom du projet"
"Département" = "partner"
intrapreneur_name = "D"
problem = 16
days_per_week = "Q"
"""


def partners(db) -> dict[str, str | None]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT partner.name, insee FROM partner JOIN programme ON programme.id = "
                                "programme_id WHERE programme.name = ?", (PROG,)))
    finally:
        con.close()


def files(tmp_path, rows=ROWS, map_text=MAP, header=HEADER):
    f = write_csv(tmp_path / "dossiers-ds.csv", [header, *rows], sep=",", bom=True)
    m = tmp_path / "ds.toml"
    m.write_text(map_text, encoding="utf-8")
    return f, m


def test_a_ds_export_imports_only_live_dossiers_with_departements_matched(demo_db, tmp_path):
    f, m = files(tmp_path)
    before, teams_before, partners_before = dump_hash(demo_db), teams_of(demo_db), partners(demo_db)
    assert "Somme" in partners_before and "Seine-Maritime" not in partners_before
    dry = ok(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), "--dry-run", db=demo_db,
                    lang="en")).stdout
    assert "6 teams would be imported" in dry
    assert "5 rows not imported: drafts, or refused or closed dossiers (en_construction 2, refuse 1, sans_suite 2)" in dry
    assert "Seine-Maritime" in dry and "80 - Somme" not in dry and "Somme (80)" not in dry
    assert dump_hash(demo_db) == before  # the dry run wrote nothing

    out = ok(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en")).stdout
    assert "6 teams imported" in out and "5 rows not imported" in out
    new = {n: v for n, v in teams_of(demo_db).items() if n not in teams_before}
    assert set(new) == LIVE
    assert all(phase == "call_for_projects" for phase, _p, _pb in new.values())
    # every Somme spelling is the demo's Somme; the new département is named and coded as the INSEE does
    assert {n: p for n, (_ph, p, _pb) in new.items()} == {
        "Cantines bio": "Somme", "Routes sûres": "Somme", "Eau potable": "Somme", "Guichet unique": "Somme",
        "Ports du littoral": "Seine-Maritime", "Dunes vivantes": "Seine-Maritime"}
    after = partners(demo_db)
    assert set(after) - set(partners_before) == {"Seine-Maritime"} and after["Seine-Maritime"] == "76"
    # the repeated "Nom" picked by its letter: the demandeur's name, not the form's "Service des routes"
    t = data(invoke("team", "show", "Cantines bio", "--json", db=demo_db))
    assert t["intrapreneurs"] == [{"name": "Zoé Lefèvre", "email": "agent1202@collectivite.example",
                                   "days_per_week": 1.5}]
    assert t["problem"] == "Les usagers attendent des semaines une réponse."

    # again, as JSON: nothing new, the same counts, the schema's shape
    j = data(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), "--json", db=demo_db))
    assert j["teams"] == [] and len(j["existing"]) == 6 and j["skipped"] == SKIPPED and j["rows"] == len(ROWS)
    assert "Nom" in j["ignored_columns"]  # the form's "Nom", not needed: ignored
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install -e '.[test]'")
    from workflow.formats import schemas

    jsonschema.Draft202012Validator(schemas.load("team-import")).validate(j)


def test_an_xlsx_export_with_columns_by_number(demo_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads XLSX files: pip install -e '.'")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    f = tmp_path / "dossiers-ds.xlsx"
    wb.save(f)
    m = tmp_path / "ds.toml"
    m.write_text('team = 13\npartner = "O"\nintrapreneur_name = 4\n"Décrivez le problème public rencontré" = '
                 '"problème"\n', encoding="utf-8")
    j = data(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), "--json", db=demo_db))
    assert set(j["teams"]) == LIVE and j["skipped"] == SKIPPED and j["partners"] == ["Seine-Maritime"]


def test_a_repeated_header_that_is_needed_must_be_picked_by_position(demo_db, tmp_path):
    f, m = files(tmp_path, map_text=MAP.replace('intrapreneur_name = "D"\n', ""))
    before = dump_hash(demo_db)
    line = fails(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en"), 1,
                 "has several columns 'Nom' (D, N)", "by its position in the map",
                 'intrapreneur_name = 4 or intrapreneur_name = "D"')
    assert "Traceback" not in line
    # by its label, the map cannot say which "Nom" either
    m.write_text(MAP.replace('intrapreneur_name = "D"', 'intrapreneur_name = "Nom"'), encoding="utf-8")
    fails(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en"), 1,
          "several columns 'Nom'")
    assert dump_hash(demo_db) == before


@pytest.mark.parametrize(("value", "fragment"), [
    ("40", "the map gives problem the column 40, but 'dossiers-ds.csv' has 17 columns"),
    ('"ZZ"', "the column 702"),
    ("0", "columns are numbered from 1"),
    ('"Description"', "the map gives problem the header 'Description', which 'dossiers-ds.csv' does not have"),
])
def test_a_position_or_header_the_file_lacks_is_one_line(demo_db, tmp_path, value, fragment):
    f, m = files(tmp_path, map_text=MAP.replace("problem = 16", f"problem = {value}"))
    before = dump_hash(demo_db)
    fails(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en"), 1, fragment)
    assert dump_hash(demo_db) == before


def test_a_state_that_is_not_ds_s_refuses_the_file(demo_db, tmp_path):
    f, m = files(tmp_path, rows=[*ROWS, dossier(1212, "Perdu", "Inconnue", "80")])
    before = dump_hash(demo_db)
    r = invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en")
    assert r.exit_code == 1 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2, lines
    assert ("line 13, column 'État du dossier': 'Perdu' is not the state of a Démarches Simplifiées dossier; "
            "expected one of: En construction") in lines[0]
    assert "1 row is wrong (line 13); nothing was imported" in lines[1]
    assert dump_hash(demo_db) == before


def test_without_a_state_column_nothing_is_filtered(demo_db, tmp_path):
    header = [h for h in HEADER if h != "État du dossier"]
    rows = [[c for i, c in enumerate(r) if i != HEADER.index("État du dossier")] for r in ROWS if r[14] and r[15]]
    f, m = files(tmp_path, rows=rows, header=header,  # the columns after the state one move left by one
                 map_text=MAP.replace("problem = 16", "problem = 15").replace('"Q"', '"P"'))
    j = data(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), "--json", db=demo_db))
    assert j["skipped"] == {} and len(j["teams"]) == len(rows) == 8
