"""The demo and every reading command, on one demo store per module: exact values and JSON shapes."""

from __future__ import annotations

import pytest
from cli_helpers import DEMO_TEAMS, NOW, PROG, TERMINAL, data, dump_hash, invoke, ok

TEAM_KEYS = {"name", "programme", "partner", "phase", "phase_since", "deadline", "days_left"}
EVENT_KEYS = {"at", "actor", "trigger", "from", "to", "reason", "forced"}
TRIGGERS = ("submit", "select", "reject", "present", "hear", "incubate", "decline", "abandon")


# ---- demo ------------------------------------------------------------------------------------

def test_demo_on_a_fresh_store_prints_the_status_of_ten_teams(tmp_path):
    db = tmp_path / "fresh.db"
    r = ok(invoke("demo", db=db, now=None))
    assert r.stdout.startswith(f"programme de démo {PROG!r} créé dans {db}")
    for name in DEMO_TEAMS:
        assert name in r.stdout
    # The table's rows: one per team, French labels by default, as of the demo's own day.
    assert f"{PROG} — 2020-11-16" in r.stdout
    for label in ("Équipe", "Collectivité", "Phase", "Depuis", "Jours restants", "Non sélectionnée",
                  "Abandonnée", "Incubée", "Comité stratégique", "Décision d'incubation", "Appel à projets"):
        assert label in r.stdout
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("│")) == 10
    assert "(au 16 novembre 2020\u00a0; ajoutez --now 2020-11-16 aux commandes suivantes" in r.stdout
    assert r.stderr == ""


def test_demo_twice_says_already_there_and_does_not_duplicate(demo_db):
    before = dump_hash(demo_db)
    r = ok(invoke("demo", db=demo_db))
    assert r.stdout.startswith(f"programme de démo {PROG!r} déjà présent")
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("│")) == 10
    assert dump_hash(demo_db) == before
    assert len(data(invoke("status", "--json", db=demo_db))) == 10
    assert len(data(invoke("programme", "list", "--json", db=demo_db))) == 1
    assert len(data(invoke("person", "list", "--role", "intrapreneur", "--json", db=demo_db))) == 10


def test_demo_json_is_the_status(demo_ro):
    rows = data(invoke("demo", "--json", db=demo_ro))
    assert rows == data(invoke("status", "--json", db=demo_ro))


# ---- status / team list ------------------------------------------------------------------------

def test_status_json_exact(demo_ro):
    rows = data(invoke("status", "--json", db=demo_ro))
    assert [r["name"] for r in rows] == sorted(DEMO_TEAMS)
    for r in rows:
        assert TEAM_KEYS <= set(r)
        assert r["programme"] == PROG
        assert r["phase"] == DEMO_TEAMS[r["name"]]
        assert r["deadline"] == "2020-12-23"
        assert r["days_left"] == (None if r["phase"] in TERMINAL else 37)
    by = {r["name"]: r for r in rows}
    assert by["Insertion RSA"]["partner"] == "Nord"
    assert by["Insertion RSA"]["phase_since"] == "2020-07-06T09:00:00+02:00"
    assert by["Insertion RSA"]["coach"] == "julien.moreau@beta.example"
    assert by["Assistants familiaux"]["phase_since"] == "2020-11-05T16:00:00+01:00"
    assert by["Archives en ligne"]["partner"] == "Val d'Oise"
    assert by["Covoiturage des agents"]["coach"] is None


@pytest.mark.parametrize("now, left", [("2020-12-20", 3), ("2020-12-23", 0), ("2021-01-01", -9)])
def test_status_days_left_follows_now(demo_ro, now, left):
    rows = data(invoke("status", "--json", db=demo_ro, now=now))
    assert {r["days_left"] for r in rows if r["phase"] not in TERMINAL} == {left}


def test_status_table_and_programme_filter(demo_ro):
    r = ok(invoke("status", "--programme", PROG, db=demo_ro))
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("│")) == 10
    line = next(x for x in r.stdout.splitlines() if "Ouvrages d'art" in x)
    assert "Somme" in line and "Sélection" in line and "2020-07-01" in line and "37" in line
    line = next(x for x in r.stdout.splitlines() if "Archives en ligne" in x)
    assert "Non sélectionnée" in line and "—" in line


def test_team_list_filters(demo_ro):
    rows = data(invoke("team", "list", "--phase", "investigation", "--json", db=demo_ro))
    assert [r["name"] for r in rows] == ["Dossiers MDPH", "Insertion RSA"]
    rows = data(invoke("team", "list", "--programme", PROG, "--json", db=demo_ro))
    assert len(rows) == 10 and all(TEAM_KEYS <= set(r) for r in rows)
    assert data(invoke("team", "list", "--phase", "incubated", "--json", db=demo_ro))[0]["name"] == \
        "Informations préoccupantes"
    r = ok(invoke("team", "list", "--phase", "selection", db=demo_ro))
    assert "Ouvrages d'art" in r.stdout and "Insertion RSA" not in r.stdout


# ---- team show -------------------------------------------------------------------------------

def test_team_show_json(demo_ro):
    t = data(invoke("team", "show", "Insertion RSA", "--json", db=demo_ro))
    assert TEAM_KEYS <= set(t)
    assert (t["name"], t["programme"], t["partner"], t["phase"]) == ("Insertion RSA", PROG, "Nord", "investigation")
    assert (t["phase_since"], t["deadline"], t["days_left"]) == ("2020-07-06T09:00:00+02:00", "2020-12-23", 37)
    assert t["intrapreneurs"] == [{"name": "Aurélie Dupont", "email": "aurelie.dupont@lenord.example",
                                   "days_per_week": 1.0}]
    assert t["coaches"] == [{"name": "Julien Moreau", "email": "julien.moreau@beta.example"}]
    assert t["criteria"] == {"real": True, "major": True, "actionable": True}
    assert t["agreements"] == ["operator", "partner"]
    assert [p["phase"] for p in t["phases"]] == ["call_for_projects", "selection", "investigation"]
    assert t["phases"][-1] == {"phase": "investigation", "start": "2020-07-06T09:00:00+02:00", "end": None}


def test_team_show_terminal_has_no_days_left(demo_ro):
    t = data(invoke("team", "show", "Signalements voirie", "--json", db=demo_ro))
    assert (t["phase"], t["days_left"], t["deadline"]) == ("not_incubated", None, "2020-12-23")
    assert t["committee"] == {"on": "2020-11-05", "opinion": "Problème réel mais déjà traité par l'État."}
    assert t["poc"]["link"] == "https://beta.gouv.fr/"


def test_team_show_text(demo_ro):
    r = ok(invoke("team", "show", "Transport scolaire adapté", db=demo_ro))
    out = r.stdout
    assert "Transport scolaire adapté" in out
    assert "Comité stratégique (poc_committee)" in out
    assert "23 décembre 2020 (37)" in out
    assert "Inès Haddad <ines.haddad@somme.example>" in out
    assert "10 décembre 2020" in out  # the committee date
    assert "Appel à projets (2020-06-26) → Sélection (2020-07-01) → Investigation (2020-07-06)" in out


# ---- programmes, people ------------------------------------------------------------------------

def test_programme_list_json(demo_ro):
    [p] = data(invoke("programme", "list", "--json", db=demo_ro))
    assert {k: p[k] for k in ("name", "kind", "signed_on", "months", "deadline", "days_left", "capacity",
                              "places_taken", "min_days_per_week", "teams")} == {
        "name": PROG, "kind": "preincubation", "signed_on": "2020-06-23", "months": 6, "deadline": "2020-12-23",
        "days_left": 37, "capacity": 8, "places_taken": 6, "min_days_per_week": 1.0, "teams": 10}
    assert [x["name"] for x in p["partners"]] == ["Nord", "Oise", "Pas-de-Calais", "Somme", "Val d'Oise"]
    assert sum(p["teams_by_phase"].values()) == 10 and p["teams_by_phase"]["investigation"] == 2


def test_programme_show(demo_ro):
    p = data(invoke("programme", "show", PROG, "--json", db=demo_ro))
    assert p == data(invoke("programme", "list", "--json", db=demo_ro))[0]
    out = ok(invoke("programme", "show", PROG, db=demo_ro)).stdout
    assert "6/8" in out and "2020-06-23" in out and "2020-12-23" in out
    assert "Collectivités\u00a0: Nord, Oise, Pas-de-Calais, Somme, Val d'Oise" in out
    assert "  Investigation\u00a0: 2" in out and "  Abandonnée\u00a0: 1" in out


def test_programme_list_text(demo_ro):
    out = ok(invoke("programme", "list", db=demo_ro)).stdout
    assert PROG in out and "Prise d'effet" in out and "6/8" in out and "preincubation" in out


def test_person_list(demo_ro):
    people = data(invoke("person", "list", "--json", db=demo_ro))
    demo_people = [p for p in people if p["email"].endswith(".example")]  # not whoever ran the demo
    assert len(demo_people) == 14
    assert len(data(invoke("person", "list", "--role", "intrapreneur", "--json", db=demo_ro))) == 10
    assert {"name": "Camille Lefebvre", "email": "camille.lefebvre@beta.example", "roles": ["coordinator"],
            "channels": ["email"], "lang": "fr"} in people
    coaches = data(invoke("person", "list", "--role", "coach", "--json", db=demo_ro))
    assert [p["email"] for p in coaches] == ["julien.moreau@beta.example", "sarah.benali@beta.example"]
    out = ok(invoke("person", "list", "--role", "committee", db=demo_ro)).stdout
    assert "Hélène Dubois" in out and "helene.dubois@beta.example" in out and "Julien" not in out


# ---- check, history, diagram -----------------------------------------------------------------

def test_check_json_shape_and_values(demo_ro):
    c = data(invoke("check", "Ouvrages d'art", "--json", db=demo_ro))
    assert c["available"] == ["reject", "abandon"]
    assert c["blocked"] == {"select": ["pas d'accord de l'opérateur (team agree --party operator)"]}
    c = data(invoke("check", "Covoiturage des agents", "--json", db=demo_ro, lang="en"))
    assert c["available"] == ["abandon"]
    assert c["blocked"] == {"submit": ["no problem statement (team edit --problem)"]}
    c = data(invoke("check", "Informations préoccupantes", "--json", db=demo_ro))
    assert (c["available"], c["blocked"]) == ([], {})


def test_check_text(demo_ro):
    out = ok(invoke("check", "Insertion RSA", db=demo_ro)).stdout.splitlines()
    assert out[0] == "Insertion RSA\u00a0: Investigation"
    assert out[1] == "Possibles\u00a0: abandon (demande --reason)"
    assert out[2] == "Bloqués\u00a0: present"
    assert out[3:] == ["  - aucune preuve de concept enregistrée (team poc --summary TEXT)",
                       "  - aucune date de comité (team committee --on DATE)"]


def test_history_json(demo_ro):
    h = data(invoke("history", "Informations préoccupantes", "--json", db=demo_ro))
    assert all(EVENT_KEYS <= set(e) for e in h)
    moves = [e for e in h if e["trigger"]]
    assert [(e["trigger"], e["from"], e["to"]) for e in moves] == [
        ("submit", "call_for_projects", "selection"), ("select", "selection", "investigation"),
        ("present", "investigation", "poc_committee"), ("hear", "poc_committee", "incubation_decision"),
        ("incubate", "incubation_decision", "incubated")]
    last = moves[-1]
    assert last == {**last, "at": "2020-11-12T10:00:00+01:00", "actor": "camille.lefebvre@beta.example",
                    "reason": "Convention d'incubation signée avec le Département.", "forced": False}
    assert h[0]["at"] == "2020-06-26T10:00:00+02:00" and h[0]["to"] == "call_for_projects"


def test_history_text(demo_ro):
    out = ok(invoke("history", "Cantines des collèges", db=demo_ro)).stdout
    assert "Quand" in out and "Qui" in out and "Motif" in out
    line = next(x for x in out.splitlines() if "abandon" in x)
    assert "2020-09-14 10:00" in line and "Investigation" in line and "Abandonnée" in line
    assert "L'intrapreneure a changé de poste." in line


def test_diagram_mermaid():
    out = ok(invoke("diagram", now=None)).stdout
    assert "stateDiagram-v2" in out
    for trig in TRIGGERS:
        assert f": {trig}" in out
    assert "call_for_projects --> selection: submit" in out
    assert "incubation_decision --> not_incubated: decline" in out
    assert ok(invoke("diagram", "--format", "mermaid", now=None)).stdout == out


def test_reads_leave_the_store_unchanged(demo_ro):
    before = dump_hash(demo_ro)
    for args in (["status"], ["team", "show", "Insertion RSA"], ["check", "Insertion RSA"],
                 ["history", "Insertion RSA"], ["programme", "list"], ["person", "list"]):
        ok(invoke(*args, db=demo_ro, now=NOW))
    assert dump_hash(demo_ro) == before
