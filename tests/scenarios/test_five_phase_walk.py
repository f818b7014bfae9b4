"""Writing commands and the five-phase walk through the CLI, with accented names and spaces everywhere."""

from __future__ import annotations

import getpass

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok

from workflow.store.engine import HEAD_REVISION

PARTNER = "Val d'Oise"
TEAM = "Équipe à l'essai"
COACH = "coach@example.org"
AGENT = "emilie.noel@example.org"
JURY = "jury@example.org"
COORD = "coord@example.org"


def add_person(db, name, email, *roles, programme=None):
    """Added by whoever runs the tests (the system user: the store's administrator); programme roles in
    ``programme`` (the store's only one when not given)."""
    args = [a for r in roles for a in ("--role", r)] + (["--programme", programme] if programme else [])
    return ok(invoke("person", "add", name, "--email", email, *args, db=db))


@pytest.fixture
def setup(empty_db):
    """A programme signed 23 June 2020, one partner, a coordinator, a coach, an intrapreneur, a committee member."""
    db = empty_db
    # The system user, the store's administrator, adds the programme (so coordinates it), then its coordinator.
    r = ok(invoke("programme", "add", PROG, "--signed-on", "2020-06-23", db=db, now="2020-06-23"))
    assert r.stdout.strip() == f"programme {PROG!r} ajouté\u00a0; échéance le 23 décembre 2020"
    add_person(db, "Camille Coord", COORD, "coordinator")
    r = ok(invoke("partner", "add", PARTNER, "--programme", PROG, db=db, now="2020-06-23"))
    assert r.stdout.strip() == f"collectivité {PARTNER!r} ajoutée à {PROG!r}"
    r = ok(invoke("person", "add", "Zoé Coach", "--email", COACH, "--role", "coach", db=db))
    assert r.stdout.strip() == f"personne ajoutée\u00a0: Zoé Coach <{COACH}>, comme coach"
    r = ok(invoke("person", "add", "Émilie Noël", "--email", AGENT, "--role", "intrapreneur", db=db))
    assert r.stdout.strip() == f"personne ajoutée\u00a0: Émilie Noël <{AGENT}>, comme intrapreneur"
    ok(invoke("person", "add", "Jury Comité", "--email", JURY, "--role", "committee", "--role", "coordinator", db=db))
    return db


def step(db, now, *args, actor=COORD, lang=None):
    return invoke(*args, db=db, now=now, actor=actor, lang=lang)


def refused(db, now, *args, fragments=(), lang=None):
    """A refusal: exit 1, one line naming every fragment, and the store unchanged."""
    before = dump_hash(db)
    line = fails(invoke(*args, db=db, now=now, lang=lang), 1, *fragments)
    assert dump_hash(db) == before
    return line


def test_programme_partner_person_add(setup):
    db = setup
    p = data(invoke("programme", "show", PROG, "--json", db=db, now="2020-06-23"))
    assert (p["kind"], p["capacity"], p["min_days_per_week"], p["deadline"], p["days_left"]) == \
        ("preincubation", 8, 1.0, "2020-12-23", 183)
    assert p["partners"] == [{"name": PARTNER, "kind": "departement", "insee": None}]
    people = data(invoke("person", "list", "--json", db=db))
    prefs = {"channels": ["email"], "lang": "fr"}
    assert {"name": "Jury Comité", "email": JURY, "roles": ["committee", "coordinator"], **prefs,
            "grants": [{"role": "committee", "programme": PROG, "partner": None},
                       {"role": "coordinator", "programme": PROG, "partner": None}]} in people
    assert {"name": "Émilie Noël", "email": AGENT, "roles": ["intrapreneur"], **prefs, "grants": []} in people


def test_programme_add_fast_and_options(empty_db):
    r = ok(invoke("programme", "add", "FAST Grand Est", "--signed-on", "2019-10-31", "--kind", "fast", db=empty_db))
    assert r.stdout.strip() == "programme 'FAST Grand Est' ajouté\u00a0; échéance le 30 avril 2020"
    p = data(invoke("programme", "show", "FAST Grand Est", "--json", db=empty_db))
    assert (p["kind"], p["capacity"], p["min_days_per_week"], p["months"]) == ("fast", 1, 2.5, 6)
    ok(invoke("programme", "add", "Court", "--signed-on", "2020-08-31", "--months", "6", "--capacity", "3",
              "--min-days-per-week", "2", db=empty_db))
    p = data(invoke("programme", "show", "Court", "--json", db=empty_db))
    assert (p["deadline"], p["capacity"], p["min_days_per_week"]) == ("2021-02-28", 3, 2.0)
    ok(invoke("partner", "add", "Grand Est", "--programme", "FAST Grand Est", "--kind", "region", db=empty_db))
    p = data(invoke("programme", "show", "FAST Grand Est", "--json", db=empty_db))
    assert p["partners"] == [{"name": "Grand Est", "kind": "region", "insee": None}]


def test_full_walk_through_five_phases(setup):
    db = setup
    r = ok(step(db, "2020-06-26T10:00", "team", "add", TEAM, "--programme", PROG, "--partner", PARTNER))
    assert r.stdout.strip() == f"équipe {TEAM!r} ajoutée (Appel à projets)"
    t = data(invoke("team", "show", TEAM, "--json", db=db, now="2020-06-26"))
    assert (t["phase"], t["partner"], t["phase_since"], t["days_left"]) == \
        ("call_for_projects", PARTNER, "2020-06-26T10:00:00+02:00", 180)

    # 1. call for projects → selection: the guards refuse, naming every unmet condition on one line.
    line = refused(db, "2020-06-30", "advance", TEAM, "submit",
                   fragments=("submit refusé", "aucun énoncé du problème", "aucun intrapreneur"))
    assert line.count(";") == 1
    ok(step(db, "2020-06-30", "team", "edit", TEAM, "--problem", "Les usagers attendent trop longtemps.",
            "--intrapreneur", AGENT))
    r = ok(step(db, "2020-07-01T10:00", "advance", TEAM, "submit"))
    assert r.stdout.strip() == f"{TEAM}\u00a0: Appel à projets → Sélection"

    # 2. selection → investigation: every condition of `select` unmet at once.
    c = data(invoke("check", TEAM, "--json", db=db, now="2020-07-01"))
    assert c["available"] == ["reject", "abandon"]
    assert c["blocked"] == {"select": [
        "critère «\u00a0réel\u00a0» non évalué (team assess)", "critère «\u00a0majeur\u00a0» non évalué (team assess)",
        "critère «\u00a0actionnable\u00a0» non évalué (team assess)",
        "pas d'accord de la collectivité (team agree --party partner)",
        "pas d'accord de l'opérateur (team agree --party operator)",
        "aucun coach (team edit --coach EMAIL)",
        "temps de l'intrapreneur non renseigné (team edit --days-per-week N)"]}
    line = refused(db, "2020-07-02", "advance", TEAM, "select", lang="en", fragments=(
        "select refused", "criterion “real” not assessed", "criterion “major” not assessed",
        "criterion “actionable” not assessed", "no agreement from the partner body",
        f"and 3 more: preincub check {TEAM!r}"))  # one readable line; `check` above lists all seven
    assert line.count(";") in (3, 4) and len(line) <= 300
    ok(step(db, "2020-07-03", "team", "assess", TEAM, "--real", "oui", "--major", "yes", "--actionable", "no",
            "--note", "À préciser."))
    ok(step(db, "2020-07-03", "team", "agree", TEAM, "--party", "partner"))
    r = ok(step(db, "2020-07-03", "team", "agree", TEAM, "--party", "operator"))
    assert r.stdout.strip() == f"accord de l'opérateur enregistré pour {TEAM!r}"
    ok(step(db, "2020-07-03", "team", "edit", TEAM, "--coach", COACH, "--days-per-week", "0.5"))
    line = refused(db, "2020-07-04", "advance", TEAM, "select", fragments=(
        "critère «\u00a0actionnable\u00a0» jugé non rempli", "sous le minimum du programme (1)"))
    assert "accord" not in line and "coach" not in line
    ok(step(db, "2020-07-05", "team", "assess", TEAM, "--real", "yes", "--major", "yes", "--actionable", "yes"))
    ok(step(db, "2020-07-05", "team", "edit", TEAM, "--days-per-week", "1"))
    t = data(invoke("team", "show", TEAM, "--json", db=db))
    assert t["criteria"] == {"real": True, "major": True, "actionable": True}
    assert t["agreements"] == ["operator", "partner"] and t["coach"] == COACH
    assert t["intrapreneurs"] == [{"name": "Émilie Noël", "email": AGENT, "days_per_week": 1.0}]
    r = ok(step(db, "2020-07-06T09:00", "advance", TEAM, "select"))
    assert r.stdout.strip() == f"{TEAM}\u00a0: Sélection → Investigation"

    # 3. investigation → proof-of-concept committee.
    refused(db, "2020-10-01", "advance", TEAM, "present",
            fragments=("aucune preuve de concept enregistrée", "aucune date de comité"))
    ok(step(db, "2020-10-01", "team", "poc", TEAM, "--summary", "Prototype testé à Cergy.", "--link",
            "https://example.org/poc"))
    ok(step(db, "2020-10-01", "team", "committee", TEAM, "--on", "2021-01-10"))
    refused(db, "2020-10-02", "advance", TEAM, "present",
            fragments=("date de comité 10 janvier 2021 après l'échéance 23 décembre 2020",))
    r = ok(step(db, "2020-10-02", "team", "committee", TEAM, "--on", "2020-12-10"))
    assert r.stdout.strip() == f"comité enregistré pour {TEAM!r}"
    ok(step(db, "2020-10-05T10:00", "advance", TEAM, "present"))

    # 4. committee → incubation decision.
    refused(db, "2020-12-10", "advance", TEAM, "hear", fragments=("l'avis du comité n'est pas enregistré",))
    ok(invoke("team", "committee", TEAM, "--opinion", "Impact mesuré, à poursuivre.", db=db, now="2020-12-10",
              actor=JURY))
    ok(step(db, "2020-12-10T17:00", "advance", TEAM, "hear"))

    # 5. the decision: a reason is required.
    refused(db, "2020-12-15", "advance", TEAM, "incubate", fragments=("un motif est requis (--reason TEXT)",))
    r = ok(step(db, "2020-12-15T11:30", "advance", TEAM, "incubate", "--reason", "Convention d'incubation signée."))
    assert r.stdout.strip() == f"{TEAM}\u00a0: Décision d'incubation → Incubée"

    t = data(invoke("team", "show", TEAM, "--json", db=db, now="2020-12-16"))
    assert (t["phase"], t["days_left"], t["phase_since"]) == ("incubated", None, "2020-12-15T11:30:00+01:00")
    assert t["committee"] == {"on": "2020-12-10", "opinion": "Impact mesuré, à poursuivre."}
    assert [p["phase"] for p in t["phases"]] == ["call_for_projects", "selection", "investigation",
                                                "poc_committee", "incubation_decision", "incubated"]
    assert all(a["end"] == b["start"] for a, b in zip(t["phases"], t["phases"][1:]))
    moves = [e for e in data(invoke("history", TEAM, "--json", db=db)) if e["trigger"]]
    assert [(e["at"], e["actor"], e["trigger"], e["from"], e["to"], e["reason"], e["forced"]) for e in moves] == [
        ("2020-07-01T10:00:00+02:00", "coord@example.org", "submit", "call_for_projects", "selection", None, False),
        ("2020-07-06T09:00:00+02:00", "coord@example.org", "select", "selection", "investigation", None, False),
        ("2020-10-05T10:00:00+02:00", "coord@example.org", "present", "investigation", "poc_committee", None, False),
        ("2020-12-10T17:00:00+01:00", "coord@example.org", "hear", "poc_committee", "incubation_decision", None,
         False),
        ("2020-12-15T11:30:00+01:00", "coord@example.org", "incubate", "incubation_decision", "incubated",
         "Convention d'incubation signée.", False)]
    # Accented names work in every reading command.
    assert data(invoke("status", "--programme", PROG, "--json", db=db))[0]["name"] == TEAM
    assert TEAM in ok(invoke("status", db=db)).stdout
    assert "Convention d'incubation signée." in ok(invoke("history", TEAM, db=db)).stdout
    assert data(invoke("check", TEAM, "--json", db=db))["available"] == []
    # A final phase cannot be left, even forced.
    refused(db, "2020-12-16", "advance", TEAM, "abandon", "--reason", "x", "--force",
            fragments=("'abandon'", "Incubée"))


def _ready(db, name, agent):
    """A team in selection meeting every guard of select."""
    ok(invoke("person", "add", f"Agent {name}", "--email", agent, "--role", "intrapreneur", db=db))
    ok(invoke("team", "add", name, "--programme", PROG, "--partner", PARTNER, "--problem", "Un vrai problème.",
              "--intrapreneur", agent, "--coach", COACH, "--days-per-week", "1", db=db, now="2020-06-26"))
    ok(invoke("advance", name, "submit", db=db, now="2020-07-01"))
    ok(invoke("team", "assess", name, "--real", "yes", "--major", "yes", "--actionable", "yes", db=db))
    ok(invoke("team", "agree", name, "--party", "partner", db=db))
    ok(invoke("team", "agree", name, "--party", "operator", db=db))


def test_force_needs_a_reason_and_is_recorded(setup):
    db = setup
    ok(invoke("team", "add", TEAM, "--programme", PROG, "--partner", PARTNER, "--problem", "P.",
              "--intrapreneur", AGENT, db=db, now="2020-06-26"))
    ok(invoke("advance", TEAM, "submit", db=db, now="2020-07-01"))
    refused(db, "2020-07-06", "advance", TEAM, "select", "--force",
            fragments=("forcer un passage demande une raison",))
    refused(db, "2020-07-06", "advance", TEAM, "select", "--force", lang="en",
            fragments=("forcing a move needs a reason",))
    add_person(db, "Chef", "chef@example.org", "coordinator")
    r = ok(invoke("advance", TEAM, "select", "--force", "--reason", "Décision du comité de pilotage.", db=db,
                  now="2020-07-06T09:00", actor="Chef@Example.org"))
    assert r.stdout.strip() == f"{TEAM}\u00a0: Sélection → Investigation (forcé)"
    last = data(invoke("history", TEAM, "--json", db=db))[-1]
    assert {k: last[k] for k in ("at", "actor", "trigger", "from", "to", "reason", "forced")} == {
        "at": "2020-07-06T09:00:00+02:00", "actor": "chef@example.org", "trigger": "select",
        "from": "selection", "to": "investigation", "reason": "Décision du comité de pilotage.", "forced": True}
    assert "no coach" in last["data"]["overridden"]
    line = next(x for x in ok(invoke("history", TEAM, db=db)).stdout.splitlines() if " select " in x)
    assert "Décision du comité de pilotage." in line and line.rstrip(" │").endswith("oui")


def test_capacity_is_a_guard(empty_db):
    db = empty_db
    ok(invoke("programme", "add", PROG, "--signed-on", "2020-06-23", "--capacity", "1", db=db))
    ok(invoke("partner", "add", PARTNER, "--programme", PROG, db=db))
    ok(invoke("person", "add", "Coach", "--email", COACH, "--role", "coach", db=db))
    _ready(db, "Première équipe", "a1@example.org")
    _ready(db, "Deuxième équipe", "a2@example.org")
    ok(invoke("advance", "Première équipe", "select", db=db, now="2020-07-06"))
    refused(db, "2020-07-06", "advance", "Deuxième équipe", "select",
            fragments=("programme complet\u00a0: 1 places prises sur 1",))
    c = data(invoke("check", "Deuxième équipe", "--json", db=db, lang="en"))
    assert c["blocked"] == {"select": ["programme full: 1 of 1 places taken"]}
    # Past the deadline, selecting is refused as well (with the room freed by an abandon).
    ok(invoke("advance", "Première équipe", "abandon", "--reason", "Mutation.", db=db, now="2020-07-07"))
    refused(db, "2020-12-24", "advance", "Deuxième équipe", "select",
            fragments=("programme au-delà de son échéance (23 décembre 2020)",))
    ok(invoke("advance", "Deuxième équipe", "select", db=db, now="2020-12-23"))


def test_reject_decline_abandon(demo_db):
    db = demo_db
    refused(db, "2020-11-16", "advance", "Ouvrages d'art", "reject", fragments=("un motif est requis",))
    ok(invoke("advance", "Ouvrages d'art", "reject", "--reason", "Déjà couvert.", db=db))
    refused(db, "2020-11-16", "advance", "Assistants familiaux", "abandon", "--reason", "   ",
            fragments=("vide",))
    r = ok(invoke("advance", "Assistants familiaux", "decline", "--reason", "Pas d'impact mesuré.", db=db))
    assert r.stdout.strip() == "Assistants familiaux\u00a0: Décision d'incubation → Non incubée"
    ok(invoke("advance", "Covoiturage des agents", "abandon", "--reason", "Plus de porteur.", db=db))
    phases = {r["name"]: r["phase"] for r in data(invoke("status", "--json", db=db))}
    assert (phases["Ouvrages d'art"], phases["Assistants familiaux"], phases["Covoiturage des agents"]) == \
        ("not_selected", "not_incubated", "abandoned")


def test_team_edit_rename_and_members(demo_db):
    db = demo_db
    ok(invoke("person", "add", "Nouvel Agent", "--email", "nouvel.agent@oise.example", "--role", "intrapreneur",
              db=db))
    r = ok(invoke("team", "edit", "Covoiturage des agents", "--rename", "Covoiturage à l'Oise",
                  "--problem", "Les agents viennent seuls en voiture.", "--intrapreneur", "nouvel.agent@oise.example",
                  "--remove-intrapreneur", "karim.saidi@oise.example", "--coach", "sarah.benali@beta.example",
                  "--partner", "Val d'Oise", db=db))
    assert r.stdout.strip() == "équipe \"Covoiturage à l'Oise\" mise à jour"
    t = data(invoke("team", "show", "Covoiturage à l'Oise", "--json", db=db))
    assert (t["partner"], t["problem"], t["coach"]) == \
        ("Val d'Oise", "Les agents viennent seuls en voiture.", "sarah.benali@beta.example")
    assert [p["email"] for p in t["intrapreneurs"]] == ["nouvel.agent@oise.example"]
    fails(invoke("team", "show", "Covoiturage des agents", db=db), 1, "équipe inconnue")
    ok(invoke("advance", "Covoiturage à l'Oise", "submit", db=db))
    assert data(invoke("team", "show", "Covoiturage à l'Oise", "--json", db=db))["phase"] == "selection"


def test_actor_is_recorded(demo_db):
    db = demo_db
    add_person(db, "Quelqu'un", "someone@example.org", "coordinator", programme="Pré-incubation 2020")
    add_person(db, "Par l'environnement", "env.user@example.org", "coordinator", programme="Pré-incubation 2020")
    ok(invoke("advance", "Ouvrages d'art", "abandon", "--reason", "x", db=db, actor="someone@example.org"))
    assert data(invoke("history", "Ouvrages d'art", "--json", db=db))[-1]["actor"] == "someone@example.org"
    ok(invoke("advance", "Insertion RSA", "abandon", "--reason", "y", db=db))
    actor = data(invoke("history", "Insertion RSA", "--json", db=db))[-1]["actor"]
    assert "(system user)" in actor
    assert actor == f"{getpass.getuser()} (system user)"
    ok(invoke("advance", "Dossiers MDPH", "abandon", "--reason", "z", db=db,
              env={"PREINCUB_USER": "env.user@example.org"}))
    assert data(invoke("history", "Dossiers MDPH", "--json", db=db))[-1]["actor"] == "env.user@example.org"


def test_init_creates_then_is_idempotent(tmp_path):
    db = tmp_path / "sub dir" / "nouvelle base.db"
    r = ok(invoke("init", db=db, now=None))
    assert r.stdout.strip() == f"stockage prêt\u00a0: {db} (schéma {HEAD_REVISION})"
    assert db.exists()
    before = dump_hash(db)
    ok(invoke("init", db=db, now=None))
    assert dump_hash(db) == before
    assert data(invoke("status", "--json", db=db)) == []
    assert data(invoke("programme", "list", "--json", db=db)) == []
