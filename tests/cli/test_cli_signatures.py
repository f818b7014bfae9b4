"""programme add --signed-on (repeated), programme sign, programme show's signatures: French and English."""

from __future__ import annotations

from cli_helpers import dump_hash, fails, invoke, ok


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
