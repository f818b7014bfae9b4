"""person export, person erase and purge through the CLI on the demo store: French by default, English
under --lang en, clean refusals that change nothing, a 0600 export file, and an erased file with no byte
of the person left in it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok

JULIEN = ("Julien Moreau", "julien.moreau@beta.example")  # coach of five teams: check-ins, events, messages
INES = ("Inès Haddad", "ines.haddad@somme.example")  # intrapreneur of "Transport scolaire adapté"


def file_bytes(db: Path) -> bytes:
    wal = Path(f"{db}-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_export_to_stdout_and_to_a_private_file(demo_db, tmp_path):
    doc = data(invoke("person", "export", JULIEN[1], db=demo_db))
    assert doc["person"]["name"] == JULIEN[0] and doc["format"] == "preincub-personal-data"
    assert len(doc["tables"]["checkin"]) > 40 and {t["name"] for t in doc["tables"]["team"]} >= {"Insertion RSA"}
    out = tmp_path / "julien.json"
    r = ok(invoke("person", "export", JULIEN[1], "-o", str(out), db=demo_db))
    assert r.stdout == "" and r.stderr == f"écrit dans {out}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text(encoding="utf-8")) == doc
    r = ok(invoke("person", "export", INES[1], "-o", str(tmp_path / "ines.json"), db=demo_db, lang="en"))
    assert r.stderr == f"written to {tmp_path / 'ines.json'}\n"


@pytest.mark.parametrize("email", ["[/]", "<script>alert(1)</script>", "9" * 400])
def test_export_refuses_what_is_not_an_e_mail(demo_ro, email):
    fails(invoke("person", "export", email, db=demo_ro), 1, "n'est pas une adresse e-mail")


def test_export_never_overwrites_the_store(demo_db, tmp_path):
    before = dump_hash(demo_db)
    for journal in ("", "-wal", "-shm"):
        fails(invoke("person", "export", JULIEN[1], "-o", f"{demo_db}{journal}", db=demo_db), 2,
              "est la base elle-même")
    fails(invoke("person", "export", JULIEN[1], "-o", str(tmp_path), db=demo_db), 2, "est un dossier")
    assert dump_hash(demo_db) == before


def test_a_person_exports_their_own_data_and_no_one_elses(demo_db):
    before = dump_hash(demo_db)
    assert data(invoke("person", "export", INES[1], db=demo_db, actor=INES[1]))["person"]["name"] == INES[0]
    fails(invoke("person", "export", JULIEN[1], db=demo_db, actor=INES[1]), 1,
          "vous ne pouvez pas exporter ou effacer les données d'une personne")
    fails(invoke("person", "export", "nobody@example.org", db=demo_db, lang="en"), 1,
          "no person with the e-mail nobody@example.org", "(see 'preincub person list')")
    assert dump_hash(demo_db) == before


def test_erase_in_french_leaves_no_byte_of_them(demo_db):
    assert JULIEN[0].encode() in file_bytes(demo_db)
    r = ok(invoke("person", "erase", JULIEN[1], "--reason", "Demande du 2 novembre 2020", db=demo_db))
    assert r.stdout == (
        "les données de julien.moreau@beta.example sont effacées\u00a0: cette personne est désormais erased-3@erased.invalid\n"
        "  Points hebdomadaires vidés de leur texte\u00a0: 55\n"
        "  Événements réécrits\u00a0: 61\n"
        "  Autres lignes qui la nommaient, réécrites\u00a0: 0\n"
        "  Messages qui lui étaient destinés, supprimés\u00a0: 0\n"
        "Le fichier de la base a été compacté\u00a0: il ne contient plus aucun octet du texte effacé.\n")
    content = file_bytes(demo_db)
    for trace in (*JULIEN, "julien.moreau"):
        assert trace.encode() not in content, trace
    # Counts and phases stay; the pseudonym coaches; the audit trail holds.
    rows = data(invoke("status", "--json", db=demo_db))
    assert {t["name"]: t["coach"] for t in rows}["Insertion RSA"] == "erased-3@erased.invalid"
    ok(invoke("audit", "verify", db=demo_db))
    fails(invoke("person", "erase", "erased-3@erased.invalid", "--reason", "encore", db=demo_db), 1,
          "erased-3@erased.invalid est déjà effacée")
    fails(invoke("status", db=demo_db, actor="erased-3@erased.invalid"), 1, "personne inconnue")


def test_erase_in_english_with_json(demo_db):
    r = ok(invoke("person", "erase", INES[1], "--reason", "Request of 2 November 2020", db=demo_db, lang="en"))
    assert r.stdout == (
        "ines.haddad@somme.example is erased: they are now erased-8@erased.invalid\n"
        "  Check-ins emptied of their text: 0\n"
        "  Events rewritten: 2\n"
        "  Other rows that named them, rewritten: 0\n"
        "  Messages to them, deleted: 0\n"
        "The store file was compacted: no old byte of the erased text is left in it.\n")
    doc = data(invoke("person", "erase", "hugo.mercier@valdoise.example", "--reason", "<script>[/]", "--json",
                      db=demo_db))
    assert doc == {"pseudonym": "erased-11@erased.invalid", "checkins": 0, "events": 2, "messages": 0, "rows": 0,
                   "compacted": True}


@pytest.mark.parametrize("args,actor,fragments", [
    (["nobody@example.org", "--reason", "x"], None, ["aucune personne n'a l'e-mail nobody@example.org"]),
    (["[/]<script>", "--reason", "x"], None, ["n'est pas une adresse e-mail"]),
    ([JULIEN[1], "--reason", "Julien MOREAU l'a demandé"], None, ["la raison nomme la personne"]),
    ([JULIEN[1], "--reason", " "], None, ["la raison est vide"]),
    ([JULIEN[1], "--reason", "x"], INES[1], ["il faut le rôle admin ou coordinator"]),
    (["camille.lefebvre@beta.example", "--reason", "x"], "camille.lefebvre@beta.example",
     ["vous ne pouvez pas vous effacer vous-même"]),
])
def test_erase_refusals_change_nothing(demo_db, args, actor, fragments):
    before = dump_hash(demo_db)
    fails(invoke("person", "erase", *args, db=demo_db, actor=actor), 1, *fragments)
    assert dump_hash(demo_db) == before


def test_erase_needs_a_reason(demo_db):
    before = dump_hash(demo_db)
    r = invoke("person", "erase", JULIEN[1], db=demo_db)
    assert r.exit_code == 2 and "--reason" in r.stderr and "Traceback" not in r.stderr
    assert dump_hash(demo_db) == before


def test_purge_dry_run_then_purge(demo_db):
    # Programme-level free text: a formal notice and its answer (no team), an expense's label.
    ok(invoke("notice", "add", "--programme", PROG, "--partner", "Somme", "--on", "2020-11-02", "--breach",
              "Manquement signalé par Zéphyrin Secret", db=demo_db))
    ok(invoke("notice", "answer", "1", "--on", "2020-11-10", "--note", "Réponse Zéphyrin Secret", db=demo_db))
    ok(invoke("expense", "add", "--programme", PROG, "--amount", "50", "--on", "2020-07-07", "--label",
              "Taxi ZÉPHYRIN SECRET", db=demo_db))
    before = dump_hash(demo_db)
    camille = "camille.lefebvre@beta.example"  # its coordinator purges its text, not the FAST programme's
    r = ok(invoke("purge", "--before", "2021-06-30", "--dry-run", db=demo_db, now="2021-07-01", actor=camille))
    assert r.stdout == (
        f"Programmes terminés avant le 30 juin 2021\u00a0: {PROG}\n"
        "Une purge supprimerait (essai\u00a0: rien n'a été modifié)\u00a0:\n"
        "  Texte des points hebdomadaires\u00a0: 94\n"
        "  Notes d'évaluation\u00a0: 2\n"
        "  Texte des mises en demeure\u00a0: 1\n"
        "  Libellés des dépenses\u00a0: 1\n"
        "  Raisons et notes des événements\u00a0: 10\n")
    assert dump_hash(demo_db) == before
    r = ok(invoke("purge", "--before", "2021-06-30", db=demo_db, now="2021-07-01", lang="en", actor=camille))
    assert r.stdout == (
        f"Programmes ended before June 30, 2021: {PROG}\n"
        "Removed:\n"
        "  Check-ins' text: 94\n"
        "  Assessment notes: 2\n"
        "  Formal notices' text: 1\n"
        "  Expense labels: 1\n"
        "  Events' reasons and notes: 10\n")
    text = file_bytes(demo_db).decode("utf-8", "replace")
    assert "Semaine 30" not in text and "Zéphyrin" not in text and "ZÉPHYRIN" not in text
    again = data(invoke("purge", "--before", "2021-06-30", "--json", db=demo_db, now="2021-07-01", actor=camille))
    assert again == {"before": "2021-06-30", "dry_run": False, "programmes": [PROG], "checkins": 0,
                     "assessments": 0, "events": 0, "notices": 0, "expenses": 0}
    ok(invoke("audit", "verify", db=demo_db))
    r = ok(invoke("purge", "--before", "2020-11-01", db=demo_db, actor=camille))
    assert r.stdout == "aucun programme terminé avant le 1er novembre 2020\u00a0: rien à purger\n"


def test_purge_refusals(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("purge", "--before", "2030-01-01", db=demo_db), 1, "la date de purge, 1er janvier 2030, est après")
    fails(invoke("purge", "--before", "2020-01-01", db=demo_db, actor=JULIEN[1]), 1, "il faut le rôle admin ou coordinator")
    r = invoke("purge", "--before", "hier", db=demo_db)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert dump_hash(demo_db) == before


def _sql(db: Path, query: str) -> list:
    import sqlite3
    with sqlite3.connect(db) as c:
        rows = c.execute(query).fetchall()
    c.close()
    return rows


def test_erasing_a_one_word_name_rewrites_no_one_else(demo_db):
    """The review's case: a "Camille" erased left Camille Lefebvre's e-mail and messages as they were
    (a one-word name is only found by its e-mail; never inside another address or a partner's name)."""
    ok(invoke("person", "add", "Camille", "--email", "camille.x@lenord.example", "--role", "intrapreneur",
              db=demo_db))
    ok(invoke("person", "add", "Nord", "--email", "nord.agent@lenord.example", "--role", "intrapreneur",
              db=demo_db))
    actors = "SELECT actor FROM assessment UNION ALL SELECT actor FROM agreement UNION ALL SELECT actor FROM event"
    before = (_sql(demo_db, actors), _sql(demo_db, "SELECT subject, body_text FROM outbox ORDER BY id"),
              _sql(demo_db, "SELECT name FROM partner ORDER BY id"), _sql(demo_db, "SELECT reason FROM event ORDER BY id"))
    ok(invoke("person", "erase", "camille.x@lenord.example", "--reason", "Demande", db=demo_db))
    ok(invoke("person", "erase", "nord.agent@lenord.example", "--reason", "Demande", db=demo_db))
    after = (_sql(demo_db, actors + " WHERE action NOT IN ('person.erase', 'person.add')"),
             _sql(demo_db, "SELECT subject, body_text FROM outbox ORDER BY id"),
             _sql(demo_db, "SELECT name FROM partner ORDER BY id"))
    assert ("camille.lefebvre@beta.example",) in after[0] and not any("erased" in a for a, in after[0])
    assert after[1:] == before[1:3] and ("Nord",) in after[2]
    ok(invoke("audit", "verify", db=demo_db))


def test_erasure_finds_the_name_in_any_case_and_spacing(demo_db):
    ok(invoke("expense", "add", "--programme", PROG, "--amount", "50", "--on", "2020-07-07", "--label",
              "Taxi AURÉLIE DUPONT", db=demo_db))
    ok(invoke("expense", "add", "--programme", PROG, "--amount", "60", "--on", "2020-07-08", "--label",
              "Repas aurélie   dupont", db=demo_db))
    ok(invoke("person", "erase", "aurelie.dupont@lenord.example", "--reason", "Demande du 2 novembre", db=demo_db))
    text = file_bytes(demo_db).decode("utf-8", "replace")
    assert "DUPONT" not in text and "dupont" not in text.replace("aurelie.dupont", "") and "Dupont" not in text
    assert sorted(_sql(demo_db, "SELECT label FROM expense")) == [("Repas erased-6",), ("Taxi erased-6",)]
    ok(invoke("audit", "verify", db=demo_db))


@pytest.mark.parametrize("reason", ["sarah asked", "Demande de BENALI", "mail de sarah.benali"])
def test_a_reason_with_any_of_their_names_is_refused(demo_db, reason):
    before = dump_hash(demo_db)
    fails(invoke("person", "erase", "sarah.benali@beta.example", "--reason", reason, db=demo_db), 1,
          "la raison nomme la personne")
    fails(invoke("person", "erase", "sarah.benali@beta.example", "--reason", reason, db=demo_db, lang="en"), 1,
          "give a reason without any of their names or their e-mail")
    assert dump_hash(demo_db) == before

