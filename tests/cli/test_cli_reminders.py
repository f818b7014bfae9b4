"""Reminders and the outbox from the command line, on a copy of the demo store."""

from __future__ import annotations

from cli_helpers import data, dump_hash, fails, invoke, ok

JULIEN = "julien.moreau@beta.example"


def test_preview_lists_the_plan_and_writes_nothing(demo_db):
    before = dump_hash(demo_db)
    rows = data(invoke("remind", "preview", "--until", "2020-12-31", "--json", db=demo_db, now="2020-11-30T08:00"))
    assert dump_hash(demo_db) == before
    assert set(rows[0]) == {"at", "kind", "reminder", "to", "channel", "subject", "key"}
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    j7 = [r for r in rows if r["reminder"] == "deadline:1:J-7"]
    assert {r["at"] for r in j7} == {"2020-12-16T09:00+01:00"} and {r["channel"] for r in j7} == {"console"}
    assert j7[0]["subject"] == "Échéance dans 7 jour(s) : Pré-incubation 2020"
    table = ok(invoke("remind", "preview", "--until", "2020-12-31", db=demo_db, now="2020-11-30T08:00")).stdout
    assert "2020-12-16 09:00" in table and "Échéance dans 7 jour(s)" in table


def test_run_then_outbox_list_and_its_refusals(demo_db):
    out = ok(invoke("remind", "run", db=demo_db, now="2020-11-30T10:00")).stdout
    assert out.splitlines()[-1].startswith("enqueued ")
    assert "--- to " in out  # the console channel printed the messages
    rows = data(invoke("outbox", "list", "--json", db=demo_db))
    assert rows and {r["status"] for r in rows} == {"sent"}
    assert set(rows[0]) == {"id", "key", "kind", "channel", "to", "subject", "status", "attempts", "last_error",
                            "due_at", "next_attempt_at", "sent_at"}
    assert data(invoke("outbox", "list", "--status", "failed", "--json", db=demo_db)) == []
    again = ok(invoke("remind", "run", db=demo_db, now="2020-11-30T10:00")).stdout
    assert again == "enqueued 0, sent 0, to retry 0, failed 0\n"  # idempotent
    before = dump_hash(demo_db)
    fails(invoke("outbox", "retry", str(rows[0]["id"]), db=demo_db, lang="en"), 1, "only a failed or cancelled")
    fails(invoke("outbox", "cancel", "99999", db=demo_db, lang="en"), 1, "no outbox message #99999")
    fails(invoke("remind", "run", db=demo_db, actor=JULIEN, lang="en"), 1,
          "you may not preview or run reminders and handle the outbox: it needs the role coordinator")
    fails(invoke("outbox", "list", "--status", "lost", db=demo_db), 2, "--status")
    assert dump_hash(demo_db) == before
