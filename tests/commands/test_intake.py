"""`team import`: applications from CSV (any encoding French Excel writes, ; or ,) and XLSX files, all
or nothing, every bad row reported, idempotent, --dry-run, --map for a Démarches Simplifiées export."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok

HEADER_FR = ["équipe", "collectivité", "problème", "intrapreneur", "jours par semaine", "coach"]
COACH = "julien.moreau@beta.example"


def write_csv(path, rows, *, sep=";", encoding="utf-8", bom=False):
    """As Excel writes it: cells holding the separator or quotes are quoted."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    text = buf.getvalue()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def teams_of(db) -> dict[str, tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {n: (ph, pa, pb) for n, ph, pa, pb in con.execute(
            "SELECT team.name, phase, partner.name, problem FROM team JOIN partner ON partner.id = partner_id")}
    finally:
        con.close()


def test_latin1_semicolon_file(demo_db, tmp_path):
    f = write_csv(tmp_path / "candidatures.csv", [
        HEADER_FR,
        ["Écoles numériques", "Hérault", "Les écoles n'ont pas d'équipement ; rien n'est suivi.",
         "Zoé Lefèvre <zoe.lefevre@herault.example>", "1,5", COACH],
        ["Routes départementales", "Somme", "Les nids-de-poule « signalés » ne sont pas réparés.",
         "Inès Haddad <ines.haddad@somme.example>", "2", ""],
    ], encoding="cp1252")
    assert "é".encode("cp1252") in f.read_bytes() and b"\xc3" not in f.read_bytes()
    out = ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, lang="en")).stdout
    assert "2 teams imported into 'Pré-incubation 2020'" in out
    assert "Hérault" in out and "Zoé Lefèvre <zoe.lefevre@herault.example>" in out
    t = data(invoke("team", "show", "Écoles numériques", "--json", db=demo_db))
    assert t["partner"] == "Hérault" and t["phase"] == "call_for_projects"
    assert t["problem"] == "Les écoles n'ont pas d'équipement ; rien n'est suivi."
    assert t["intrapreneurs"] == [{"name": "Zoé Lefèvre", "email": "zoe.lefevre@herault.example", "days_per_week": 1.5}]
    assert t["coach"] == COACH
    # an existing person is matched by e-mail, an existing partner by name: nothing duplicated
    people = data(invoke("person", "list", "--json", db=demo_db))
    assert [p["email"] for p in people].count("ines.haddad@somme.example") == 1
    prog = data(invoke("programme", "show", PROG, "--json", db=demo_db))
    assert [p["name"] for p in prog["partners"]].count("Somme") == 1
    # a new partner that is a département is named as the INSEE names it, with its code
    assert {"name": "Hérault", "kind": "departement", "insee": "34"} in prog["partners"]
    # the audit trail: the team was added as `team add` adds one
    h = data(invoke("history", "Écoles numériques", "--json", db=demo_db))
    assert h[0]["action"] == "team.add" and h[0]["data"]["intrapreneurs"] == ["zoe.lefevre@herault.example"]


def test_bom_comma_file_english_headers_separate_columns(demo_db, tmp_path):
    f = write_csv(tmp_path / "apps.csv", [
        ["Team", "Partner", "Problem", "Intrapreneur name", "Intrapreneur e-mail", "Days per week", "Sponsor"],
        ["Paie des vacataires", "Oise", "Retards de paie, chaque mois", "Karim Saïdi", "karim.saidi@oise.example",
         "1", ""],
        ["Aides sociales", "Nord", "Dossiers perdus", "Chloé Lambert", "CHLOE.LAMBERT@lenord.example", "2.5", ""],
    ], sep=",", bom=True)
    ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db))
    t = data(invoke("team", "show", "Paie des vacataires", "--json", db=demo_db))
    assert t["problem"] == "Retards de paie, chaque mois" and t["partner"] == "Oise"
    t = data(invoke("team", "show", "Aides sociales", "--json", db=demo_db))
    assert t["intrapreneurs"][0]["email"] == "chloe.lambert@lenord.example"
    assert t["intrapreneurs"][0]["days_per_week"] == 2.5


def test_xlsx_first_sheet(demo_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Candidatures"
    ws.append(["Équipe", "Collectivité", "Problème", "Intrapreneur", "Jours par semaine"])
    ws.append(["Bibliothèques mobiles", "Val d'Oise", "Peu de lecteurs en zone rurale",
               "Théo Roussel <theo.roussel@valdoise.example>", 1.5])
    ws.append([None, None, None, None, None])
    ws.append(["Eau potable", "Nièvre", "Fuites", "Anne Roy <anne.roy@nievre.example>", 2])
    other = wb.create_sheet("Notes")
    other.append(["équipe", "collectivité"])
    other.append(["Pas importée", "Somme"])
    f = tmp_path / "candidatures.xlsx"
    wb.save(f)
    out = ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db)).stdout
    assert "2 équipes importées" in out
    names = teams_of(demo_db)
    assert names["Bibliothèques mobiles"][1] == "Val d'Oise" and names["Eau potable"][1] == "Nièvre"
    assert "Pas importée" not in names
    t = data(invoke("team", "show", "Eau potable", "--json", db=demo_db))
    assert t["intrapreneurs"][0]["days_per_week"] == 2


def test_three_bad_rows_all_reported_nothing_written(demo_db, tmp_path):
    f = write_csv(tmp_path / "bad.csv", [
        HEADER_FR,
        ["Bonne équipe", "Somme", "Un problème", "Anne Roy <anne.roy@somme.example>", "1", ""],
        ["", "Somme", "Sans nom", "Paul Roux <paul.roux@somme.example>", "1", ""],
        ["Trop de temps", "Somme", "Problème", "Luc Blanc <luc.blanc@somme.example>", "9", ""],
        ["Inconnu", "Somme", "Problème", "inconnu@somme.example", "1", ""],
        ["Autre bonne", "Nouvelle collectivité", "Problème", "Eve Noir <eve.noir@somme.example>", "1", ""],
    ], encoding="cp1252")
    before = dump_hash(demo_db)
    r = invoke("team", "import", str(f), "--programme", PROG, db=demo_db)
    assert r.exit_code == 1 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("preincub: ") for line in lines)
    assert "ligne 3, colonne 'équipe'" in lines[0] and "vide" in lines[0]
    assert "ligne 4, colonne 'jours par semaine'" in lines[1] and "entre 0,5 et 5" in lines[1]
    assert "ligne 5, colonne 'intrapreneur'" in lines[2] and "inconnu@somme.example" in lines[2]
    assert "3 lignes sont erronées (lignes 3, 4, 5)" in lines[3] and "rien n'a été importé" in lines[3]
    assert dump_hash(demo_db) == before
    en = invoke("team", "import", str(f), "--programme", PROG, db=demo_db, lang="en").stderr.splitlines()
    assert "line 3, column 'équipe': the team name is empty" in en[0]
    assert "line 4, column 'jours par semaine': the days per week must be between 0.5 and 5, got 9" in en[1]
    assert "3 rows are wrong (lines 3, 4, 5); nothing was imported" in en[3]
    assert dump_hash(demo_db) == before


def test_existing_team_reported_and_second_import_changes_nothing(demo_db, tmp_path):
    f = write_csv(tmp_path / "c.csv", [
        HEADER_FR,
        ["Insertion RSA", "Nord", "Déjà là", "", "", ""],
        ["Nouvelle équipe", "Somme", "Problème", "Anne Roy <anne.roy@somme.example>", "1", COACH],
    ])
    out = ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, lang="en")).stdout
    assert "1 team imported" in out
    assert "line 2: the team 'Insertion RSA' is already in the programme; left as it is" in out
    assert teams_of(demo_db)["Insertion RSA"][0] == "investigation"  # untouched
    after_first = dump_hash(demo_db)
    out = ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, lang="en")).stdout
    assert "0 teams imported" in out and "'Nouvelle équipe' is already in the programme" in out
    assert dump_hash(demo_db) == after_first


def test_dry_run_writes_nothing_and_says_what(demo_db, tmp_path):
    f = write_csv(tmp_path / "d.csv", [
        HEADER_FR,
        ["Équipe A", "Corrèze", "Problème", "Anne Roy <anne.roy@correze.example>", "1", COACH],
    ])
    before = dump_hash(demo_db)
    out = ok(invoke("team", "import", str(f), "--programme", PROG, "--dry-run", db=demo_db)).stdout
    assert "Essai à blanc\u00a0: rien n'a été écrit." in out
    assert "1 équipe serait importée" in out and "Corrèze" in out and "anne.roy@correze.example" in out
    assert dump_hash(demo_db) == before
    j = data(invoke("team", "import", str(f), "--programme", PROG, "--dry-run", "--json", db=demo_db))
    assert j["dry_run"] is True and j["teams"] == ["Équipe A"] and j["partners"] == ["Corrèze"]
    assert j["people"] == [{"name": "Anne Roy", "email": "anne.roy@correze.example", "roles": ["intrapreneur"]}]
    assert dump_hash(demo_db) == before


def test_dry_run_on_a_read_only_store(demo_ro, tmp_path):
    f = write_csv(tmp_path / "d.csv", [HEADER_FR, ["Équipe A", "Somme", "", "", "", ""]])
    before = dump_hash(demo_ro)
    ro = f"sqlite:///{demo_ro}?mode=ro"
    assert "Équipe A" in ok(invoke("team", "import", str(f), "--programme", PROG, "--dry-run", db=ro)).stdout
    fails(invoke("team", "import", str(f), "--programme", PROG, db=ro), 1, "lecture seule")
    assert dump_hash(demo_ro) == before


DS_MAP = """\
# Démarches Simplifiées: the procedure's field labels -> preincub's columns
[columns]
"Nom du projet" = "équipe"
"Collectivité porteuse" = "collectivité"
"Décrivez le problème public rencontré" = "problème"
"Email" = "intrapreneur_email"
"Nom" = "intrapreneur_name"
"Prénom" = "intrapreneur_first_name"
"Temps consacré au projet (jours par semaine)" = "jours par semaine"
"""


def test_ds_like_export_with_map(demo_db, tmp_path):
    header = ["ID", "Email", "Civilité", "Nom", "Prénom", "État du dossier", "Déposé le", "Nom du projet",
              "Collectivité porteuse", "Décrivez le problème public rencontré",
              "Temps consacré au projet (jours par semaine)"]
    f = write_csv(tmp_path / "export-ds.csv", [
        header,
        ["1024", "marie.curie@cher.example", "Mme", "Curie", "Marie", "en_construction", "2020-11-02 10:12:00",
         "Registre des fuites", "Cher", "Les fuites du réseau d'eau ne sont pas recensées.", "1,5"],
        ["1025", "leon.blum@indre.example", "M.", "Blum", "Léon", "en_instruction", "2020-11-03 14:00:00",
         "Cantines bio", "Indre", "Les cantines ne savent pas acheter local.", "1"],
    ], encoding="cp1252")
    m = tmp_path / "ds.toml"
    m.write_text(DS_MAP, encoding="utf-8")
    out = ok(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en")).stdout
    # the draft (en_construction) is not a team: only the dossier in instruction comes in
    assert "1 team imported" in out and "1 row not imported: a draft, or a refused or closed dossier" in out
    assert "Columns ignored: 'ID', 'Civilité', 'Déposé le'" in out
    fails(invoke("team", "show", "Registre des fuites", "--json", db=demo_db), 1)
    t = data(invoke("team", "show", "Cantines bio", "--json", db=demo_db))
    assert t["partner"] == "Indre"
    assert t["intrapreneurs"] == [{"name": "Léon Blum", "email": "leon.blum@indre.example", "days_per_week": 1.0}]
    # without the map, the file lacks preincub's columns: one line naming them
    fails(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, lang="en"), 1,
          "has no columns team, partner")


def test_progress_over_a_few_hundred_rows_and_json(demo_db, tmp_path):
    rows = [HEADER_FR] + [[f"Équipe {i:03d}", f"Collectivité {i % 7}", "Problème",
                           f"Agent {i} <agent{i}@coll.example>", "1", COACH] for i in range(300)]
    f = write_csv(tmp_path / "big.csv", rows)
    before = len(teams_of(demo_db))  # the demo's teams, of both its programmes
    j = data(invoke("team", "import", str(f), "--programme", PROG, "--json", db=demo_db))
    assert len(j["teams"]) == 300 and len(j["people"]) == 300 and len(j["partners"]) == 7
    assert len(teams_of(demo_db)) == before + 300


@pytest.mark.parametrize("content, fragment", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "ni un fichier CSV"),
    (b"PK\x03\x04garbage", "pas un classeur XLSX lisible"),
    (b"", "vide"),
    ("nom;prénom\nA;B\n".encode(), "n'a pas les colonnes team, partner"),
])
def test_foreign_files_one_line(demo_db, tmp_path, content, fragment):
    f = tmp_path / "f.csv"
    f.write_bytes(content)
    before = dump_hash(demo_db)
    fails(invoke("team", "import", str(f), "--programme", PROG, db=demo_db), 1, fragment)
    assert dump_hash(demo_db) == before


def test_hostile_text_is_stored_as_typed(demo_db, tmp_path):
    f = write_csv(tmp_path / "h.csv", [
        HEADER_FR, ["<script>alert(1)</script>", "[bold]x[/]", "=1+1", "X <x@x.example>", "1", ""]])
    out = ok(invoke("team", "import", str(f), "--programme", PROG, db=demo_db)).stdout
    assert "<script>alert(1)</script>" in out and "[bold]x[/]" in out
    t = data(invoke("team", "show", "<script>alert(1)</script>", "--json", db=demo_db))
    assert t["partner"] == "[bold]x[/]" and t["problem"] == "=1+1"
    bad = write_csv(tmp_path / "c.csv", [HEADER_FR, ["A\x1b[31m", "Somme", "", "", "", ""]])
    r = invoke("team", "import", str(bad), "--programme", PROG, db=demo_db, lang="en")
    assert r.exit_code == 1 and "control characters" in r.stderr and "\x1b" not in r.stderr


def test_usage_and_refusals(demo_db, tmp_path):
    f = write_csv(tmp_path / "d.csv", [HEADER_FR, ["Équipe A", "Somme", "", "", "", ""]])
    fails(invoke("team", "import", str(tmp_path / "none.csv"), "--programme", PROG, db=demo_db), 1, "none.csv")
    fails(invoke("team", "import", str(f), "--programme", "Nope", db=demo_db), 1, "'Nope'")
    fails(invoke("team", "import", str(f), db=demo_db), 2, "--programme")
    m = tmp_path / "m.toml"
    m.write_text("[columns\n", encoding="utf-8")
    fails(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en"), 1,
          "not valid TOML")
    m.write_text('[columns]\n"A" = "budget"\n', encoding="utf-8")
    fails(invoke("team", "import", str(f), "--programme", PROG, "--map", str(m), db=demo_db, lang="en"), 1,
          "'budget'", "not a column preincub reads")
    before = dump_hash(demo_db)
    fails(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, actor="julien.moreau@beta.example",
                 lang="en"), 1, "needs the role admin or coordinator")
    # The FAST programme's coordinator: not into this one (the grant it needs, named).
    fails(invoke("team", "import", str(f), "--programme", PROG, db=demo_db, actor="nadia.perrin@beta.example",
                 lang="en"), 1, f"needs the grant coordinator of '{PROG}'")
    assert dump_hash(demo_db) == before


def test_help_in_both_languages():
    out = ok(invoke("team", "import", "--help", lang="en")).stdout
    assert "--dry-run" in out and "--map" in out and "all or nothing" in out
    out = ok(invoke("team", "import", "--help", lang="fr")).stdout
    assert "Importer des équipes depuis un fichier CSV ou XLSX" in out and "--dry-run" in out
