"""status, check, history and diagram on the demo store: exact values and JSON shapes, French by default."""

from __future__ import annotations

import pytest
from tests.cli_helpers import DEMO_TEAMS, PROG, TEAM_KEYS, TERMINAL, data, invoke, ok

EVENT_KEYS = {"at", "actor", "trigger", "from", "to", "reason", "forced"}
TRIGGERS = ("submit", "select", "reject", "present", "hear", "incubate", "decline", "abandon")


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
