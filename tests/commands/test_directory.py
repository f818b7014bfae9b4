"""programme, partner and person commands: add --signed-on (repeated), sign, show's signatures, in French and
English; programme list and show, person list on the demo store."""

from __future__ import annotations

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
