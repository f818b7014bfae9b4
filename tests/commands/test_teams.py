"""team list and team show on the demo store: filters, exact values and JSON shapes."""

from __future__ import annotations

from tests.cli_helpers import PROG, TEAM_KEYS, data, invoke, ok


def test_team_list_filters(demo_ro):
    rows = data(invoke("team", "list", "--phase", "investigation", "--json", db=demo_ro))
    assert [r["name"] for r in rows] == ["Dossiers MDPH", "Insertion RSA"]
    rows = data(invoke("team", "list", "--programme", PROG, "--json", db=demo_ro))
    assert len(rows) == 10 and all(TEAM_KEYS <= set(r) for r in rows)
    assert data(invoke("team", "list", "--phase", "incubated", "--json", db=demo_ro))[0]["name"] == \
        "Informations préoccupantes"
    r = ok(invoke("team", "list", "--phase", "selection", db=demo_ro))
    assert "Ouvrages d'art" in r.stdout and "Insertion RSA" not in r.stdout


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
