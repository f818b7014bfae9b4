"""Reminders, the outbox and the daemon from the command line, on a copy of the demo store."""

from __future__ import annotations

import json
import os
import socket
import sqlite3

import pytest
from tests.cli_helpers import NOW, data, dump_hash, fails, invoke, ok

from commands import reminders as reminder_commands
from workflow.api import Workflow
from workflow.clock import clock_from

JULIEN = "julien.moreau@beta.example"
NOT_CONFIGURED = "e-mail is not configured here (PREINCUB_SMTP_URL)"
SMTP = {"PREINCUB_SMTP_URL": "smtp://127.0.0.1:2525"}  # a valid setting; nothing is sent in these tests


def shown_at(iso: str) -> str:
    """An ISO time as the CLI's text shows it to people (JSON keeps the ISO string)."""
    return iso[:16].replace("T", " ")


def rows_of(db) -> list[dict]:
    return data(invoke("outbox", "list", "--json", db=db))


def lease_rows(db) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM daemon_lease").fetchone()[0]
    finally:
        con.close()


def test_preview_lists_the_plan_and_writes_nothing(demo_db):
    before = dump_hash(demo_db)
    rows = data(invoke("remind", "preview", "--until", "2020-12-31", "--json", db=demo_db, now="2020-11-30T08:00"))
    assert dump_hash(demo_db) == before
    assert set(rows[0]) == {"at", "kind", "reminder", "to", "channel", "subject", "key"}
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    j7 = [r for r in rows if r["reminder"] == "deadline:1:J-7"]
    # The channel each person chose (e-mail), whether or not it is configured here.
    assert {r["at"] for r in j7} == {"2020-12-16T09:00:00+01:00"} and {r["channel"] for r in j7} == {"email"}
    assert j7[0]["subject"] == "Échéance dans 7 jours\u00a0: Pré-incubation 2020"
    table = ok(invoke("remind", "preview", "--until", "2020-12-31", db=demo_db, now="2020-11-30T08:00")).stdout
    assert "2020-12-16 09:00" in table and "Échéance dans 7 jours" in table
    assert "échéance du programme" in table and " deadline " not in table


def test_every_reminder_kind_and_message_status_has_a_name_in_the_tables():
    from notifications.message import OutboxStatus
    from workflow.rules.due import REMINDER_KINDS, REMINDER_NAMES

    assert set(REMINDER_NAMES) == set(REMINDER_KINDS)
    assert set(reminder_commands.STATUS_NAMES) == {s.value for s in OutboxStatus}


def test_run_without_email_waits_and_only_console_prints(demo_db):
    first = ok(invoke("remind", "run", db=demo_db, now="2020-11-30T10:00", lang="en"))
    n = len(rows_of(demo_db))
    assert n > 5
    assert first.stdout == f"enqueued {n}, sent 0, to retry 0, failed 0, waiting {n} (channel not configured here)\n"
    assert first.stderr == ""  # waiting a few minutes is not yet a problem
    rows = rows_of(demo_db)
    assert set(rows[0]) == {"id", "key", "kind", "channel", "to", "subject", "status", "attempts", "last_error",
                            "due_at", "stale_at", "next_attempt_at", "failing_since", "sent_at", "sent_via"}
    assert {(r["status"], r["channel"], r["attempts"], r["last_error"]) for r in rows} == {
        ("pending", "email", 0, NOT_CONFIGURED)}
    assert all(r["key"].endswith(":email") for r in rows)
    # A second run from a shell without e-mail: no new key, nothing printed.
    again = ok(invoke("remind", "run", db=demo_db, now="2020-11-30T10:05", lang="en")).stdout
    assert again == f"enqueued 0, sent 0, to retry 0, failed 0, waiting {n} (channel not configured here)\n"
    assert len(rows_of(demo_db)) == n
    # --console (trying things out) prints them instead, and they count as sent, by the console.
    printed = ok(invoke("remind", "run", "--console", db=demo_db, now="2020-11-30T10:10", lang="en")).stdout
    assert printed.count("--- to ") == n and printed.endswith(f"enqueued 0, sent {n}, to retry 0, failed 0\n")
    assert {(r["status"], r["sent_via"], r["last_error"]) for r in rows_of(demo_db)} == {("sent", "console", None)}
    table = ok(invoke("outbox", "list", db=demo_db)).stdout
    assert "email → console" in table
    # Kinds and statuses read in the table's language; their ids stay in --json.
    assert "envoyé" in table and " sent " not in table and "échéance du programme" in table
    assert " deadline " not in table and " coaching " not in table
    idle = ok(invoke("remind", "run", db=demo_db, now="2020-11-30T10:15")).stdout
    assert idle == "0 mis en file, 0 envoyé, 0 à réessayer, 0 en échec\n"  # idempotent

    before = dump_hash(demo_db)
    fails(invoke("outbox", "retry", str(rows[0]["id"]), db=demo_db, lang="en", env=SMTP), 1,
          "only a failed or cancelled")
    fails(invoke("outbox", "cancel", "99999", db=demo_db, lang="en"), 1, "no outbox message #99999")
    fails(invoke("remind", "run", db=demo_db, actor=JULIEN, lang="en"), 1,
          "you may not preview or run reminders and handle the outbox: it needs the role admin or coordinator")
    fails(invoke("outbox", "list", "--status", "lost", db=demo_db), 2, "--status")
    for args in (["outbox", "retry"], ["outbox", "retry", "1", "--status", "failed"],
                 ["outbox", "retry", "1", "--since", "2020-11-01"], ["daemon", "--once", "status"]):
        fails(invoke(*args, db=demo_db), 2)
    fails(invoke("outbox", "retry", "--since", "2020-11-01", db=demo_db, lang="en"), 2, "--since goes with --status")
    assert dump_hash(demo_db) == before


BAD_SETTINGS = [
    ({"PREINCUB_SMTP_URL": "smtp://127.0.0.1:99999"}, "PREINCUB_SMTP_URL", "port"),
    ({"PREINCUB_SMTP_URL": "smtp://[::1"}, "PREINCUB_SMTP_URL", "not a valid URL"),
    ({"PREINCUB_SMTP_URL": "smtp://host:abc"}, "PREINCUB_SMTP_URL", "port"),
    ({"PREINCUB_SMTP_URL": "imap://host"}, "PREINCUB_SMTP_URL", "smtp://"),
    ({"PREINCUB_SMTP_URL": "smtp://bot:s3cret-pw@host:587"}, "PREINCUB_SMTP_URL", "PREINCUB_SMTP_PASSWORD"),
    ({"PREINCUB_WEBHOOK_URL": "ftp://chat.example/hooks/t0ken0123456789"}, "PREINCUB_WEBHOOK_URL", "http"),
    ({"PREINCUB_WEBHOOK_URL": "https://:8080/hooks/x"}, "PREINCUB_WEBHOOK_URL", "no host"),
    ({"PREINCUB_RETRY_MAX": "abc"}, "PREINCUB_RETRY_MAX", "not a number"),
    ({"PREINCUB_SMTP_TIMEOUT": "0"}, "PREINCUB_SMTP_TIMEOUT", "between"),
]


@pytest.mark.parametrize("env,setting,why", BAD_SETTINGS, ids=[list(e.values())[0] for e, _, _ in BAD_SETTINGS])
def test_bad_delivery_settings_refuse_to_start_and_break_nothing_else(demo_db, env, setting, why):
    before = dump_hash(demo_db)
    for args in (["remind", "run"], ["daemon", "--once"], ["daemon"], ["remind", "run", "--console"]):
        line = fails(invoke(*args, db=demo_db, now="2020-11-30T10:00", lang="en", env=env), 1, setting, why)
        assert "s3cret-pw" not in line and "t0ken0123456789" not in line and len(line) < 200
    assert dump_hash(demo_db) == before and lease_rows(demo_db) == 0
    # Commands that send nothing are not broken by a bad delivery setting.
    assert isinstance(data(invoke("status", "--json", db=demo_db, env=env)), list)
    ok(invoke("status", db=demo_db, env=env))
    ok(invoke("outbox", "list", db=demo_db, env=env))
    ok(invoke("remind", "preview", "--json", db=demo_db, env=env))
    ok(invoke("team", "list", db=demo_db, env=env))
    r = invoke("daemon", "status", "--json", db=demo_db, env=env)  # unhealthy (never ticked), but it answers
    assert r.exit_code == 1 and json.loads(r.stdout)["problems"] == ["never_ticked"]


@pytest.mark.parametrize("actor", ["nobody@nowhere.example", JULIEN])
def test_the_daemon_refuses_whoever_may_not_run_it_before_writing(demo_db, actor):
    before = dump_hash(demo_db)
    fails(invoke("daemon", "--once", db=demo_db, actor=actor, lang="en"), 1)
    fails(invoke("daemon", db=demo_db, actor=actor, lang="en"), 1)
    assert lease_rows(demo_db) == 0
    assert dump_hash(demo_db) == before


def _failed_email(db, first: str = "2020-11-30T10:00", then: str = "2020-12-07T08:00") -> list[dict]:
    """Reminders of a Monday left waiting for e-mail until the next one (before its own reminders): the weekly
    ones went stale."""
    ok(invoke("remind", "run", db=db, now=first))
    ok(invoke("remind", "run", db=db, now=then))
    failed = data(invoke("outbox", "list", "--status", "failed", "--json", db=db))
    assert failed and {r["channel"] for r in failed} == {"email"}
    assert {r["last_error"] for r in failed} == {
        f"its reminder went stale before it could be sent; last error: {NOT_CONFIGURED}"}
    return failed


def test_outbox_retry_of_an_email_without_email_here_is_refused_with_the_reason(demo_db):
    failed = _failed_email(demo_db)
    before = dump_hash(demo_db)
    fails(invoke("outbox", "retry", str(failed[0]["id"]), db=demo_db, lang="en"), 1,
          f"message #{failed[0]['id']} goes by e-mail, which is not configured here (PREINCUB_SMTP_URL)")
    fails(invoke("outbox", "retry", "--status", "failed", db=demo_db, lang="en"), 1,
          f"{len(failed)} of these {len(failed)} messages go by e-mail", "nothing retried")
    fails(invoke("outbox", "retry", str(failed[0]["id"]), db=demo_db, lang="en",
                 env={"PREINCUB_SMTP_URL": "smtp://[::1"}), 1, "PREINCUB_SMTP_URL")
    assert dump_hash(demo_db) == before
    # Where e-mail is configured: one, then all the others (due since a day), back to pending.
    later = "2020-12-07T08:05"
    assert ok(invoke("outbox", "retry", str(failed[0]["id"]), db=demo_db, env=SMTP, now=later)).stdout == \
        f"le message n°\u00a0{failed[0]['id']} sera renvoyé au prochain passage\n"
    assert ok(invoke("outbox", "retry", "--status", "failed", "--since", "2020-12-01", db=demo_db, env=SMTP,
                     now=later, lang="en")).stdout \
        == "0 messages will be sent again at the next tick\n"
    out = ok(invoke("outbox", "retry", "--status", "failed", "--since", "2020-11-30", db=demo_db, env=SMTP,
                    now=later)).stdout
    assert out == f"{len(failed) - 1} messages seront renvoyés au prochain passage\n"
    again = {r["id"]: r for r in rows_of(demo_db)}
    assert {(again[r["id"]]["status"], again[r["id"]]["attempts"], again[r["id"]]["stale_at"]) for r in failed} == {
        ("pending", 0, None)}  # asked for by a person: sent although no longer current


def test_status_and_daemon_status_say_when_the_outbox_is_unhealthy(demo_db):
    r = invoke("daemon", "status", "--json", db=demo_db)
    assert r.exit_code == 1, r.stderr
    h = json.loads(r.stdout)
    assert h == {"healthy": False, "problems": ["never_ticked"], "last_tick": None, "pending": 0, "retrying": 0,
                 "retrying_over_an_hour": 0, "failed": 0, "failing_since": None, "holder": None, "heartbeat_at": None,
                 "lease_held": False, "poller": None, "ds": []}
    once = ok(invoke("daemon", "--once", "--console", db=demo_db, now="2020-11-30T10:00"))
    assert once.stdout.endswith("0 à réessayer, 0 en échec\n")
    tick = "2020-11-30T10:00:00+01:00"
    h = data(invoke("daemon", "status", "--json", db=demo_db, now=tick))
    assert (h["healthy"], h["problems"], h["failed"]) == (True, [], 0)
    # Every time of a tick under --now is that clock's: when it ran, its next one, the lease's heartbeat.
    assert (h["last_tick"]["at"], h["last_tick"]["wall"], h["heartbeat_at"]) == (tick, tick, tick)
    assert h["last_tick"]["next_tick"] == "2020-11-30T10:05:00+01:00"
    text = ok(invoke("daemon", "status", db=demo_db, lang="en", now=tick)).stdout.splitlines()
    holder = f"{socket.gethostname()}:{os.getpid()}"  # `daemon --once` ran in this process
    assert text[0] == f"Daemon's last tick: 2020-11-30 10:00 ({holder}); next due 2020-11-30 10:05"
    assert h["holder"] == holder
    # `daemon --once` gave its lease back on leaving: who held it last, and that no one holds it now.
    assert text[1:] == [f"Lease holder: {holder}, last heartbeat 2020-11-30 10:00 (not held now)",
                        "Outbox: 0 pending (0 retrying, 0 for over an hour), 0 failed", "health: healthy"]
    assert "outbox" not in ok(invoke("status", db=demo_db, lang="en")).stdout

    failed = _failed_email(demo_db, "2020-12-07T10:00", "2020-12-14T08:00")
    ok(invoke("daemon", "--once", db=demo_db, now="2020-12-14T08:00"))  # the daemon ticks on: not late
    r = invoke("daemon", "status", "--json", db=demo_db, now="2020-12-14T08:00")
    assert r.exit_code == 1 and json.loads(r.stdout)["problems"] == ["failed"]
    assert json.loads(r.stdout)["failed"] == len(failed)
    r = invoke("daemon", "status", db=demo_db, lang="en", now="2020-12-14T08:00")
    assert r.exit_code == 1 and r.stdout.splitlines()[-1] == "health: messages failed"
    assert r.stderr == "preincub: the daemon is unhealthy: messages failed\n"  # the contract's one line, for the log
    status = ok(invoke("status", db=demo_db, lang="en")).stdout.splitlines()
    assert status[-1] == (f"⚠ outbox: {len(failed)} messages failed, 0 failing for over an hour (see 'preincub "
                          "outbox list', then 'preincub outbox retry --status failed')")
    assert isinstance(data(invoke("status", "--json", db=demo_db)), list)  # the JSON keeps its list shape
    # Those who may not handle the outbox get no warning (and no error) in their status.
    assert "outbox" not in ok(invoke("status", db=demo_db, lang="en", actor=JULIEN)).stdout


def test_daemon_status_shows_the_lease_holder_and_its_heartbeat_from_the_first_tick_on(demo_db):
    """A first tick on a big outbox takes minutes: the daemon holds the lease, renewing it, and has no last
    tick yet. It is ticking, not unhealthy; status says who, and when it last renewed its lease."""
    w = Workflow.open(str(demo_db), clock=clock_from(NOW))  # the clock of the commands below
    try:
        assert w.lease.acquire("daemon-host:4242")  # as a daemon does when its first tick starts
        beat = w.lease.current().heartbeat_at
    finally:
        w.close()
    h = data(invoke("daemon", "status", "--json", db=demo_db))  # exit 0: healthy
    assert {k: h[k] for k in ("healthy", "problems", "last_tick", "holder", "heartbeat_at", "lease_held")} == {
        "healthy": True, "problems": [], "last_tick": None, "holder": "daemon-host:4242", "heartbeat_at": beat,
        "lease_held": True}
    assert ok(invoke("daemon", "status", db=demo_db, lang="en")).stdout.splitlines() == [
        "Daemon's last tick: —", f"Lease holder: daemon-host:4242, last heartbeat {shown_at(beat)}",
        "Outbox: 0 pending (0 retrying, 0 for over an hour), 0 failed", "health: healthy"]
    fr = ok(invoke("daemon", "status", db=demo_db)).stdout.splitlines()
    assert fr[0] == "Dernier passage du démon\u00a0: —" and fr[-1] == "état\u00a0: bon"
    assert "\u00a0: daemon-host:4242" in fr[1] and fr[1].endswith(shown_at(beat))
    # The daemon stopped before its first tick ended: its lease given back, it never ticked.
    w = Workflow.open(str(demo_db), clock=clock_from(NOW))
    try:
        w.lease.release("daemon-host:4242")
    finally:
        w.close()
    r = invoke("daemon", "status", "--json", db=demo_db)
    assert r.exit_code == 1 and json.loads(r.stdout)["problems"] == ["never_ticked"]
    assert (json.loads(r.stdout)["holder"], json.loads(r.stdout)["lease_held"]) == ("daemon-host:4242", False)
    assert ok_or_1(invoke("daemon", "status", db=demo_db, lang="en"))[1].endswith("(not held now)")


def test_daemon_once_names_a_daemon_in_its_first_tick(demo_db):
    """No last tick yet, but a live lease: --once names that daemon and its heartbeat, not just "another"."""
    w = Workflow.open(str(demo_db), clock=clock_from("2020-11-30T10:00"))
    try:
        assert w.lease.acquire("daemon-host:4242")
        lease = w.lease.current()
    finally:
        w.close()
    r = ok(invoke("daemon", "--once", "--console", db=demo_db, lang="en", now="2020-11-30T10:00"))
    assert r.stdout == (f"daemon daemon-host:4242 is alive: it holds the lease until {shown_at(lease.until)}; its "
                        f"first tick is running (last heartbeat {shown_at(lease.heartbeat_at)})\n")


def ok_or_1(r) -> list[str]:
    """The lines of a ``daemon status`` that may exit 1 (unhealthy), with no traceback."""
    assert r.exit_code in (0, 1) and "Traceback" not in r.stderr, r.stderr
    return r.stdout.splitlines()


def test_a_delivery_batch_shows_a_progress_bar_on_a_terminal_only(demo_db, monkeypatch):
    quiet = ok(invoke("remind", "run", "--console", db=demo_db, now="2020-11-30T10:00"))
    assert quiet.stderr == ""  # not a terminal: no bar
    monkeypatch.setattr(reminder_commands, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(reminder_commands, "PROGRESS_AFTER", 0)
    r = ok(invoke("remind", "run", "--console", db=demo_db, now="2020-12-07T10:00", lang="en"))
    n = int(r.stdout.splitlines()[-1].split(", sent ")[1].split(",")[0])
    assert n > 0 and "Delivering" in r.stderr and f"{n}/{n}" in r.stderr
