"""preincub audit verify on the demo store: intact, then tampered with through the SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from tests.cli_helpers import data, dump_hash, fails, invoke, ok

NBSP = "\u00a0"


def sql(db: Path, *statements: str, attacker: bool = True) -> None:
    """Change the file as someone holding it would: the append-only triggers dropped first."""
    with sqlite3.connect(db) as c:
        if attacker:
            c.execute("DROP TRIGGER event_append_only_update")
            c.execute("DROP TRIGGER event_append_only_delete")
        for s in statements:
            c.execute(s)
    c.close()


def stored(db: Path) -> tuple[int, int, str]:
    with sqlite3.connect(db) as c:
        n, last = c.execute("SELECT count(*), max(id) FROM event").fetchone()
        head = c.execute("SELECT hash FROM audit_head").fetchone()[0]
    c.close()
    return n, last, head


def test_the_demo_verifies_in_french_and_english(demo_ro):
    n, last, head = stored(demo_ro)
    assert n > 150
    before = dump_hash(demo_ro)
    r = ok(invoke("audit", "verify", db=demo_ro))
    assert r.stdout == (f"journal d'audit intact{NBSP}: {n} événements vérifiés\n"
                        f"Dernier événement{NBSP}: n°{NBSP}{last}, empreinte {head}\n")
    r = ok(invoke("audit", "verify", db=demo_ro, lang="en"))
    assert r.stdout == f"audit trail intact: {n} events verified\nLast event: #{last}, hash {head}\n"
    assert data(invoke("audit", "verify", "--json", db=demo_ro)) == {"valid": True, "events": n, "erased": 0,
                                                                     "last": last, "head": head}
    assert dump_hash(demo_ro) == before  # verifying writes nothing
    assert re.fullmatch(r"[0-9a-f]{64}", head)


def test_the_help_in_both_languages(demo_ro):
    fr = " ".join(ok(invoke("audit", "verify", "--help", db=demo_ro)).stdout.split())
    en = " ".join(ok(invoke("audit", "verify", "--help", db=demo_ro, lang="en")).stdout.split())
    assert "signaler son premier maillon rompu (coordinateurs seulement)" in fr
    assert "report its first broken link (coordinators only)" in en


TAMPERING = [
    # what the attacker runs, what verify says (French), the JSON's problem and event
    ("UPDATE event SET to_phase = 'incubated' WHERE id = 50",
     f"rompu à l'événement n°{NBSP}50{NBSP}: son contenu ne correspond plus à son empreinte", "changed", 50),
    ("UPDATE event SET reason = 'Tout va bien.' WHERE id = 50",
     f"rompu à l'événement n°{NBSP}50{NBSP}: sa partie personnelle (auteur, motif, données) ne correspond plus", "personal",
     50),
    ("DELETE FROM event WHERE id = 50",
     f"rompu à l'événement n°{NBSP}51", "missing", 51),
    ("DELETE FROM event WHERE id = (SELECT max(id) FROM event)",
     "la tête compte 1 événement de plus (le dernier a été supprimé)", "head", None),
    ("UPDATE event SET id = -1 WHERE id = 60; UPDATE event SET id = 60 WHERE id = 61; "
     "UPDATE event SET id = 61 WHERE id = -1", f"rompu à l'événement n°{NBSP}60", "changed", 60),
]


@pytest.mark.parametrize("attack,said,problem,event", TAMPERING, ids=[t[2] + str(i) for i, t in enumerate(TAMPERING)])
def test_tampering_with_the_file_is_reported_in_one_line(demo_db, attack, said, problem, event):
    n, last, _ = stored(demo_db)
    sql(demo_db, *attack.split("; "))
    before = dump_hash(demo_db)
    line = fails(invoke("audit", "verify", db=demo_db), 1, "preincub: le journal d'audit est rompu", said,
                 f"(comparez avec une sauvegarde{NBSP}: preincub --db NOUVELLE.db import-all SAUVEGARDE.json)")
    assert len(line) <= 300
    fails(invoke("audit", "verify", db=demo_db, lang="en"), 1, "preincub: the audit trail is broken",
          "(compare with a backup: preincub --db NEW.db import-all BACKUP.json)")
    r = invoke("audit", "verify", "--json", db=demo_db)
    assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    got = json.loads(r.stdout)
    assert got["valid"] is False and got["problem"] == problem
    assert got["event"] == (event if event is not None else last - 1)
    assert dump_hash(demo_db) == before


def test_an_erased_personal_part_still_verifies_and_is_counted(demo_db):
    ok(invoke("person", "erase", "julien.moreau@beta.example", "--reason", "Demande du 2 novembre", db=demo_db))
    with sqlite3.connect(demo_db) as c:
        erased = c.execute("SELECT count(*) FROM event WHERE salt IS NULL").fetchone()[0]
    c.close()
    assert erased > 1
    r = ok(invoke("audit", "verify", db=demo_db))
    assert f"dont {erased} à la partie personnelle effacée (leur condensat ne peut plus être vérifié)" in r.stdout
    r = ok(invoke("audit", "verify", db=demo_db, lang="en"))
    assert f"of which {erased} with their personal part erased" in r.stdout
    assert data(invoke("audit", "verify", "--json", db=demo_db))["erased"] == erased


def test_a_personal_part_rewritten_and_its_salt_dropped_outside_an_erasure_is_reported(demo_db):
    """The review's attack: an amount changed in an event's data, its salt set to NULL (the trigger lets
    the personal part change): no erasure or purge lists that event."""
    with sqlite3.connect(demo_db) as c:
        target = c.execute("SELECT id FROM event WHERE data LIKE '%50.00%' ORDER BY id LIMIT 1").fetchone()
        target = target[0] if target else c.execute("SELECT max(id) FROM event WHERE data IS NOT NULL").fetchone()[0]
    c.close()
    sql(demo_db, f"UPDATE event SET data = replace(data, '50.00', '5000.00'), salt = NULL WHERE id = {target}",
        attacker=False)
    fails(invoke("audit", "verify", db=demo_db), 1, f"rompu à l'événement n°{NBSP}{target}{NBSP}: sa partie "
          "personnelle a été supprimée sans qu'un effacement ou une purge ne l'enregistre")
    fails(invoke("audit", "verify", db=demo_db, lang="en"), 1, f"broken at event #{target}: its personal part was "
          "removed without an erasure or purge recording it")
    r = invoke("audit", "verify", "--json", db=demo_db)
    assert r.exit_code == 1 and json.loads(r.stdout)["problem"] == "unreleased"


def test_the_database_refuses_a_rewrite_without_dropping_its_triggers(demo_db):
    for attack in ("UPDATE event SET action = 'x' WHERE id = 50", "DELETE FROM event WHERE id = 50",
                   "UPDATE event SET id = 1000 WHERE id = 50"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            sql(demo_db, attack, attacker=False)
    ok(invoke("audit", "verify", db=demo_db))


def test_only_a_coordinator_verifies_and_bad_usage_is_refused(demo_ro):
    before = dump_hash(demo_ro)
    fails(invoke("audit", "verify", db=demo_ro, actor="julien.moreau@beta.example"), 1, "coordinat")
    fails(invoke("audit", "verify", db=demo_ro, actor="julien.moreau@beta.example", lang="en"), 1,
          "it needs the role admin or coordinator")
    ok(invoke("audit", "verify", db=demo_ro, actor="nadia.perrin@beta.example"))  # FAST's coordinator: the one chain
    fails(invoke("audit", "verify", "[/]<script>", db=demo_ro), 2)
    fails(invoke("audit", "verify", "--since", "9" * 40, db=demo_ro, lang="en"), 2, "--since")
    assert dump_hash(demo_ro) == before


def test_writes_after_verify_keep_the_chain(demo_db):
    ok(invoke("advance", "Ouvrages d'art", "reject", "--reason", "Hors champ <script>[/]", db=demo_db))
    ok(invoke("checkin", "log", "Insertion RSA", "--notes", "Point", db=demo_db, actor="julien.moreau@beta.example"))
    n, last, head = stored(demo_db)
    assert data(invoke("audit", "verify", "--json", db=demo_db)) == {"valid": True, "events": n, "erased": 0,
                                                                     "last": last, "head": head}
