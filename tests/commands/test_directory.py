"""programme, partner and person commands: add --signed-on (repeated), sign, show's signatures, in French and
English; programme list and show, person list on the demo store (its two programmes, each coordinator seeing
their own); person grant, revoke and show, and programme roles given with --programme."""

from __future__ import annotations

import pytest

from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok


def test_repeated_signed_on_and_sign_in_french(empty_db):
    r = ok(invoke("programme", "add", "Convention 2019", "--signed-on", "2019-10-23", "--signed-on", "2019-10-31",
                  db=empty_db))
    assert r.stdout == "programme 'Convention 2019' ajouté\u00a0; échéance le 30 avril 2020\n"
    out = ok(invoke("programme", "show", "Convention 2019", db=empty_db)).stdout
    assert "Signatures\u00a0: 23 octobre 2019, 31 octobre 2019" in out
    assert "Prise d'effet\u00a0: 31 octobre 2019" in out
    r = ok(invoke("programme", "sign", "Convention 2019", "--on", "2019-11-04", db=empty_db))
    assert r.stdout == ("signature de 'Convention 2019' le 4 novembre 2019 enregistrée\u00a0; prise d'effet le "
                        "4 novembre 2019, échéance le 4 mai 2020\n")


def test_signatures_in_english_and_json(empty_db):
    ok(invoke("programme", "add", "Convention 2019", "--signed-on", "2019-10-31", "--signed-on", "2019-10-23",
              db=empty_db))
    out = ok(invoke("programme", "show", "Convention 2019", db=empty_db, lang="en")).stdout
    assert "Signatures: October 23, 2019, October 31, 2019" in out and "Takes effect: October 31, 2019" in out
    r = ok(invoke("programme", "sign", "Convention 2019", "--on", "2019-10-01", db=empty_db, lang="en"))
    assert r.stdout == ("signature of 'Convention 2019' on October 1, 2019 recorded; it takes effect on "
                        "October 31, 2019, deadline April 30, 2020\n")
    doc = __import__("json").loads(ok(invoke("programme", "show", "Convention 2019", "--json", db=empty_db)).stdout)
    assert doc["signatures"] == ["2019-10-01", "2019-10-23", "2019-10-31"] and doc["signed_on"] == "2019-10-31"


def test_bad_signatures_are_refused_and_change_nothing(empty_db):
    ok(invoke("programme", "add", "Convention 2019", "--signed-on", "2019-10-23", db=empty_db))
    before = dump_hash(empty_db)
    fails(invoke("programme", "sign", "Convention 2019", "--on", "31/10/2019", db=empty_db), 2, "--on")
    fails(invoke("programme", "sign", "Inconnue", "--on", "2019-10-31", db=empty_db), 1, "programme inconnu")
    fails(invoke("programme", "sign", "Convention 2019", "--on", "2300-01-01", db=empty_db), 2)
    fails(invoke("programme", "sign", "[/]<script>", "--on", "2019-10-31", db=empty_db), 1)
    assert dump_hash(empty_db) == before


FAST = "FAST Trait d'union 2019"
CAMILLE, NADIA = "camille.lefebvre@beta.example", "nadia.perrin@beta.example"  # coordinators of PROG, of FAST
HELENE, MARC = "helene.dubois@beta.example", "marc.weber@grandest.example"  # their committees


def test_programme_list_json(demo_ro):
    rows = data(invoke("programme", "list", "--json", db=demo_ro))  # the administrator: every programme
    assert [p["name"] for p in rows] == [FAST, PROG]
    p = rows[1]
    assert {k: p[k] for k in ("name", "kind", "signed_on", "months", "deadline", "days_left", "capacity",
                              "places_taken", "min_days_per_week", "teams")} == {
        "name": PROG, "kind": "preincubation", "signed_on": "2020-06-23", "months": 6, "deadline": "2020-12-23",
        "days_left": 37, "capacity": 8, "places_taken": 6, "min_days_per_week": 1.0, "teams": 10}
    assert [x["name"] for x in p["partners"]] == ["Nord", "Oise", "Pas-de-Calais", "Somme", "Val d'Oise"]
    assert sum(p["teams_by_phase"].values()) == 10 and p["teams_by_phase"]["investigation"] == 2
    # each coordinator lists their own programme only
    assert [p["name"] for p in data(invoke("programme", "list", "--json", db=demo_ro, actor=CAMILLE))] == [PROG]
    assert [p["name"] for p in data(invoke("programme", "list", "--json", db=demo_ro, actor=NADIA))] == [FAST]


def test_programme_show(demo_ro):
    p = data(invoke("programme", "show", PROG, "--json", db=demo_ro))
    assert p == data(invoke("programme", "list", "--json", db=demo_ro))[1]
    out = ok(invoke("programme", "show", PROG, db=demo_ro)).stdout
    assert "6/8" in out and "2020-06-23" in out and "2020-12-23" in out
    assert "Collectivités\u00a0: Nord, Oise, Pas-de-Calais, Somme, Val d'Oise" in out
    assert "  Investigation\u00a0: 2" in out and "  Abandonnée\u00a0: 1" in out
    fails(invoke("programme", "show", PROG, db=demo_ro, actor=NADIA, lang="en"), 1, f"in {PROG!r}: it needs the grant")


def test_programme_list_text(demo_ro):
    out = ok(invoke("programme", "list", db=demo_ro)).stdout
    assert PROG in out and "Prise d'effet" in out and "6/8" in out and "pré-incubation" in out


def test_person_list(demo_ro):
    people = data(invoke("person", "list", "--json", db=demo_ro))
    demo_people = [p for p in people if p["email"].endswith(".example")]  # not whoever ran the demo
    assert len(demo_people) == 18  # seed 1's 14, seed 2's 4
    assert len(data(invoke("person", "list", "--role", "intrapreneur", "--json", db=demo_ro))) == 11
    assert {"name": "Camille Lefebvre", "email": CAMILLE, "roles": ["coordinator"], "channels": ["email"],
            "lang": "fr", "grants": [{"role": "coordinator", "programme": PROG, "partner": None}]} in people
    coaches = data(invoke("person", "list", "--role", "coach", "--json", db=demo_ro))
    assert [p["email"] for p in coaches] == ["julien.moreau@beta.example", NADIA, "sarah.benali@beta.example"]
    out = ok(invoke("person", "list", "--role", "committee", db=demo_ro)).stdout
    assert "Hélène Dubois" in out and HELENE in out and "Julien" not in out
    assert f"membre du comité ({PROG})" in out and f"membre du comité ({FAST})" in out  # the role's name, not its id


def test_person_list_shows_each_coordinator_their_programme_s_people(demo_ro):
    mine = {p["email"]: p for p in data(invoke("person", "list", "--json", db=demo_ro, actor=NADIA))}
    assert set(mine) == {NADIA, MARC, "claire.muller@grandest.example", "lucas.schmitt@grandest.example"}
    assert mine[NADIA]["grants"] == [{"role": "coordinator", "programme": FAST, "partner": None}]
    theirs = {p["email"] for p in data(invoke("person", "list", "--json", db=demo_ro, actor=CAMILLE))}
    assert CAMILLE in theirs and HELENE in theirs and not theirs & set(mine)
    out = ok(invoke("person", "list", db=demo_ro, actor=NADIA, lang="en")).stdout
    assert f"coach, coordinator ({FAST})" in out and PROG not in out
    # a committee member sees their programme's people; an intrapreneur, their team's
    assert {p["email"] for p in data(invoke("person", "list", "--json", db=demo_ro, actor=MARC))} == set(mine)
    assert {p["email"] for p in data(invoke("person", "list", "--json", db=demo_ro,
                                            actor="lucas.schmitt@grandest.example"))} == set(mine) - {MARC}


def test_person_show(demo_ro):
    p = data(invoke("person", "show", NADIA, "--json", db=demo_ro))
    assert p == {"name": "Nadia Perrin", "email": NADIA, "roles": ["coach", "coordinator"], "channels": ["email"],
                 "lang": "fr", "grants": [{"role": "coordinator", "programme": FAST, "partner": None}], "muted": []}
    out = ok(invoke("person", "show", NADIA, db=demo_ro, lang="en")).stdout
    for fragment in ("Name: Nadia Perrin", f"E-mail: {NADIA}", "Team roles: coach", "coordinator", FAST,
                     "Reminders: email (fr)", "Muted reminders: —"):
        assert fragment in out
    assert "Grants: —" in ok(invoke("person", "show", "ines.haddad@somme.example", db=demo_ro, lang="en")).stdout
    # someone of another programme is nobody to them; themselves, always
    fails(invoke("person", "show", CAMILLE, db=demo_ro, actor=NADIA, lang="en"), 1, "unknown person")
    assert data(invoke("person", "show", NADIA, "--json", db=demo_ro, actor=NADIA))["email"] == NADIA
    fails(invoke("person", "show", "nobody@x.example", db=demo_ro), 1)


def test_grant_and_revoke(demo_db):
    r = ok(invoke("person", "grant", HELENE, "committee", "--programme", FAST, db=demo_db, lang="en"))
    assert r.stdout == f"Hélène Dubois <{HELENE}> now holds committee member ({FAST}), committee member ({PROG})\n"
    ok(invoke("person", "grant", "ines.haddad@somme.example", "partner", "--programme", PROG, "--partner", "Somme",
              db=demo_db, actor=CAMILLE))
    p = data(invoke("person", "show", "ines.haddad@somme.example", "--json", db=demo_db))
    assert p["grants"] == [{"role": "partner", "programme": PROG, "partner": "Somme"}]
    assert p["roles"] == ["intrapreneur", "partner"]
    ok(invoke("person", "grant", NADIA, "admin", db=demo_db))
    assert "admin" in data(invoke("person", "show", NADIA, "--json", db=demo_db))["roles"]
    r = ok(invoke("person", "revoke", HELENE, "committee", "--programme", FAST, db=demo_db, lang="en"))
    assert r.stdout == f"Hélène Dubois <{HELENE}> now holds committee member ({PROG})\n"
    ok(invoke("person", "revoke", NADIA, "admin", db=demo_db, actor=NADIA))
    history = ok(invoke("audit", "verify", db=demo_db)).stdout
    assert history  # the chain still verifies after grants and revocations


@pytest.mark.parametrize("args,actor,fragment", [
    (["grant", HELENE, "committee", "--programme", FAST], CAMILLE, f"grant coordinator of {FAST!r}"),
    (["grant", HELENE, "coordinator", "--programme", FAST], NADIA, "needs the role admin"),
    (["grant", HELENE, "admin"], CAMILLE, "needs the role admin"),
    (["grant", HELENE, "admin", "--programme", PROG], None, "give no --programme"),
    (["grant", HELENE, "committee"], None, "give --programme"),  # two programmes: which one?
    (["grant", HELENE, "committee", "--programme", PROG], None, "already holds"),
    (["grant", HELENE, "partner", "--programme", PROG], None, "give --partner"),
    (["grant", HELENE, "committee", "--programme", PROG, "--partner", "Somme"], None, "--partner"),
    (["grant", HELENE, "partner", "--programme", FAST, "--partner", "Somme"], None, "unknown partner"),
    (["grant", "nobody@x.example", "committee", "--programme", PROG], None, "unknown person"),
    (["grant", HELENE, "committee", "--programme", "Inconnu"], None, "unknown programme"),
    (["revoke", HELENE, "committee", "--programme", FAST], None, "does not hold"),
    (["revoke", CAMILLE, "coordinator", "--programme", PROG], CAMILLE, "needs the role admin"),
    (["revoke", "root@localhost", "admin"], None, "at least one administrator"),
    (["revoke", NADIA, "coordinator", "--programme", FAST], None, "at least one coordinator"),
    (["add", "Zoé", "--email", "zoe@x.example", "--role", "committee"], None, "give --programme"),
    (["add", "Zoé", "--email", "zoe@x.example", "--role", "committee", "--programme", FAST], CAMILLE,
     f"grant coordinator of {FAST!r}"),
    (["edit", MARC, "--name", "Marc"], CAMILLE, f"grant coordinator of {FAST!r}"),
    (["edit", HELENE, "--add-role", "committee"], None, "give --programme"),
])
def test_grant_errors_are_one_line_exit_1_and_change_nothing(demo_db, args, actor, fragment):
    before = dump_hash(demo_db)
    fails(invoke("person", *args, db=demo_db, actor=actor, lang="en"), 1, fragment)
    assert dump_hash(demo_db) == before


def test_a_grant_s_wrong_usage_exits_2(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("person", "grant", HELENE, "coach", "--programme", PROG, db=demo_db), 2)  # a team role
    fails(invoke("person", "grant", HELENE, db=demo_db), 2)
    fails(invoke("person", "revoke", HELENE, "committee", "--partner", "Somme", db=demo_db), 2)
    assert dump_hash(demo_db) == before


def test_programme_roles_given_where_they_are_held(demo_db):
    r = ok(invoke("person", "add", "Zoé", "--email", "zoe@x.example", "--role", "committee", "--role", "coach",
                  "--programme", FAST, db=demo_db, actor=NADIA, lang="en"))
    assert r.stdout == f"Zoé <zoe@x.example> added as coach, committee member ({FAST})\n"
    ok(invoke("person", "add", "Lecteur", "--email", "nord@x.example", "--role", "partner", "--programme", PROG,
              "--partner", "Nord", db=demo_db, actor=CAMILLE))
    assert data(invoke("person", "show", "nord@x.example", "--json", db=demo_db))["grants"] == [
        {"role": "partner", "programme": PROG, "partner": "Nord"}]
    r = ok(invoke("person", "edit", "zoe@x.example", "--remove-role", "committee", "--programme", FAST,
                  db=demo_db, actor=NADIA, lang="en"))
    assert "roles coach;" in r.stdout
    ok(invoke("person", "edit", "zoe@x.example", "--add-role", "committee", "--programme", PROG, db=demo_db,
              actor=CAMILLE))
    assert data(invoke("person", "show", "zoe@x.example", "--json", db=demo_db))["grants"] == [
        {"role": "committee", "programme": PROG, "partner": None}]


def test_programme_add_names_its_first_coordinator(demo_db):
    ok(invoke("programme", "add", "Convention 2021", "--signed-on", "2021-01-04", "--coordinator", NADIA,
              db=demo_db))
    assert {p["name"] for p in data(invoke("programme", "list", "--json", db=demo_db, actor=NADIA))} == {
        "Convention 2021", FAST}
    before = dump_hash(demo_db)
    fails(invoke("programme", "add", "Convention 2022", "--signed-on", "2021-01-04", db=demo_db, actor=NADIA,
                 lang="en"), 1, "needs the role admin")
    fails(invoke("programme", "add", "Convention 2022", "--signed-on", "2021-01-04", "--coordinator",
                 "nobody@x.example", db=demo_db), 1, "nobody@x.example")
    assert dump_hash(demo_db) == before


def test_a_programme_given_with_team_roles_only_is_refused_not_ignored(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("person", "add", "Zed", "--email", "zed@x.example", "--role", "coach", "--programme", PROG,
                 db=demo_db, lang="en"), 1, "--programme goes with a programme role")
    fails(invoke("person", "edit", "julien.moreau@beta.example", "--lang", "en", "--programme", PROG, db=demo_db,
                 lang="en"), 1, "--programme goes with a programme role")
    assert dump_hash(demo_db) == before


def test_revoking_a_last_role_keeps_the_person_listed_with_no_role(demo_db):
    r = ok(invoke("person", "revoke", "camille.lefebvre@beta.example", "coordinator", "--programme", PROG,
                  db=demo_db, lang="en"))
    assert r.stdout.strip() == "Camille Lefebvre <camille.lefebvre@beta.example> now holds —"
    listed = {p["email"]: p for p in data(invoke("person", "list", "--json", db=demo_db))}
    assert (listed["camille.lefebvre@beta.example"]["roles"], listed["camille.lefebvre@beta.example"]["grants"]) == (
        [], [])
    # She acts no more: nothing is hers to read.
    fails(invoke("status", db=demo_db, actor="camille.lefebvre@beta.example", lang="en"), 1, "(no role)")


def test_only_an_administrator_runs_the_daemon_and_the_refusal_is_one_line(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("daemon", "--once", db=demo_db, actor="camille.lefebvre@beta.example", lang="en"), 1,
          "you may not run the daemon", "instance administrator (role admin)")
    assert dump_hash(demo_db) == before
