"""`preincub inbox status` and `inbox poll` (against Dovecot, tests/dovecot.py), their errors in one line without
the IMAP password, and the poller in `daemon status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import data, fails, invoke, ok
from tests.dovecot import PASSWORD, dovecot, free_port  # noqa: F401 - dovecot is a fixture
from workflow.formats import schemas
from workflow.formats.imap import Mailbox
from workflow.records import Received
from workflow.services.inbox import Inbox

REPLY = "points@programme.example"
COACH = "sarah.benali@beta.example"


def conforms(name: str, doc) -> None:
    """``doc`` matches the published schema ``name`` (jsonschema, a test extra: tests/commands/test_schema.py)."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install -e '.[test]'")
    v = jsonschema.Draft202012Validator(schemas.load(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in v.iter_errors(doc)]
    assert not errors, errors


def env(url: str | None = None, **more: str) -> dict[str, str]:
    return {"PREINCUB_REPLY_ADDRESS": REPLY, **({"PREINCUB_IMAP_URL": url} if url else {}), **more}


@pytest.fixture
def logged(monkeypatch):
    """Inbox.receive answering "logged" (the parsing is the inbox's tests' concern)."""
    seen: list[bytes] = []

    def fake(self, raw: bytes, *, via: str, recipients=()) -> Received:
        seen.append(raw)
        return Received("refused" if b"refuse-me" in raw else "logged", reason="wrong_sender" if b"refuse-me" in raw
                        else None)

    monkeypatch.setattr(Inbox, "receive", fake)
    return seen


def put(server, *raws: bytes) -> None:
    with Mailbox(server.url()) as box:
        for raw in raws:
            box.append(raw)


def mail(n: int, extra: str = "") -> bytes:
    return f"From: {COACH}\r\nMessage-ID: <p{n}@example.org>\r\nSubject: Re {extra}\r\n\r\nHeures : 6\r\n".encode()


def test_status_on_a_store_that_received_nothing(demo_ro):
    r = ok(invoke("inbox", "status", "--since", "2020-11-01", "--until", "2020-11-16", db=demo_ro, lang="en"))
    assert r.stdout == "Replies received from 2020-11-01 to 2020-11-16: 0 (0 logged, 0 corrected, 0 refused, " \
                       "0 ignored)\n"
    doc = data(invoke("inbox", "status", "--json", db=demo_ro))
    assert doc == {"since": "2020-11-10", "until": "2020-11-16", "received": 0, "logged": 0, "corrected": 0,
                   "refused": 0, "ignored": 0, "counts": [], "entries": [], "poller": None}
    conforms("inbox-status", doc)
    fails(invoke("inbox", "status", "--since", "2020-11-20", "--until", "2020-11-16", db=demo_ro, lang="en"), 1,
          "after it ends")
    fails(invoke("inbox", "status", "--since", "yesterday[red]", db=demo_ro, lang="en"), 2, "yesterday[red]")


def test_status_lists_what_came_of_each_mail_as_typed(demo_db):
    """Counts by outcome and reason, the latest mails (newest first), and stored text shown as typed: rich markup
    and emoji codes in a team's name never interpreted."""
    from tests.conftest import paris
    from workflow.api import Workflow
    from workflow.store import inbox as inbox_rows

    ok(invoke("team", "edit", "Insertion RSA", "--rename", "[bold]RSA[/bold] :x:", db=demo_db))
    w = Workflow.open(str(demo_db))
    try:
        with w.store.write() as s:
            conn = s.connection()
            team = conn.exec_driver_sql("SELECT id FROM team WHERE name LIKE '[bold]RSA%'").scalar_one()
            person = conn.exec_driver_sql(f"SELECT id FROM person WHERE email = '{COACH}'").scalar_one()
            for i, (outcome, reason, via, hour) in enumerate([("logged", None, "lmtp", 9), ("refused", "wrong_sender",
                                                              "imap", 10), ("ignored", "auto_reply", "smtp", 11)]):
                inbox_rows.record(conn, digest=f"d{i}", received_at=paris(2020, 11, 16, hour), via=via, outcome=outcome,
                                  reason=reason, person_id=person, team_id=team, week="2020-W47", size=100)
    finally:
        w.close()
    r = ok(invoke("inbox", "status", db=demo_db, lang="en"))
    lines = r.stdout.splitlines()
    assert lines[0] == "Replies received from 2020-11-10 to 2020-11-16: 3 (1 logged, 0 corrected, 1 refused, 1 ignored)"
    assert "[bold]RSA[/bold] :x:" in r.stdout
    body = "\n".join(lines)
    assert body.index("auto_reply") < body.index("wrong_sender")  # counts by outcome: ignored, logged, refused
    assert body.index("2020-11-16 11:00") < body.index("2020-11-16 10:00") < body.index("2020-11-16 09:00")
    doc = data(invoke("inbox", "status", "--json", db=demo_db))
    conforms("inbox-status", doc)
    assert doc["received"] == 3 and doc["entries"][0] == {
        "received_at": "2020-11-16T11:00:00+01:00", "via": "smtp", "outcome": "ignored", "reason": "auto_reply",
        "team": "[bold]RSA[/bold] :x:", "week": "2020-W47", "person": COACH, "checkin": None}


def test_poll_once_against_dovecot(demo_db, dovecot, logged):
    put(dovecot, mail(1), mail(2, "refuse-me"))
    r = ok(invoke("inbox", "poll", db=demo_db, lang="en", env=env(dovecot.url())))
    assert r.stdout == "2 mails in the mailbox: 1 logged, 1 refused\n"
    assert PASSWORD not in r.stdout + r.stderr
    doc = data(invoke("inbox", "poll", "--json", db=demo_db, env=env(dovecot.url())))
    assert doc == {"found": 0, "logged": 0, "corrected": 0, "refused": 0, "ignored": 0, "duplicate": 0}
    conforms("inbox-poll", doc)
    conforms("inbox-poll", {**doc, "found": 2, "logged": 1, "refused": 1})
    st = data(invoke("inbox", "status", "--json", db=demo_db, now="2020-11-16 12:00"))
    conforms("inbox-status", st)
    assert st["poller"]["handled"] == 0 and st["poller"]["error"] is None  # the last poll found nothing
    text = ok(invoke("inbox", "status", db=demo_db, lang="fr")).stdout
    assert "Relève de la boîte" in text or "Mailbox poller" in text


def test_a_reply_in_the_mailbox_becomes_the_weeks_checkin_once(demo_db, dovecot, monkeypatch):
    """Done when, through IMAP: the reply is a check-in of 6 hours with the paragraph as notes; it is moved to
    the done folder; the same mail again (a second copy in the mailbox) logs nothing more."""
    from tests.commands.test_inbox_lmtp import JULIEN, needs_parser, reply_address
    from tests.mail_fixtures import reply
    from workflow.api import Workflow

    needs_parser()
    w = Workflow.open(str(demo_db))
    try:
        to = reply_address(w)
    finally:
        w.close()
    raw = reply("outlook_fr", to=to, sender=JULIEN, sender_name="Julien Moreau",
                body="Heures : 6\n\nNous avons vu la CAF : le prototype est validé.")
    put(dovecot, raw, raw)
    r = ok(invoke("inbox", "poll", db=demo_db, lang="en", now="2020-11-23 18:10", env=env(dovecot.url())))
    assert r.stdout == "2 mails in the mailbox: 1 logged, 1 duplicate\n"
    rows = data(invoke("checkin", "list", "--team", "Insertion RSA", "--week", "2020-W47", "--json", db=demo_db))
    assert len(rows) == 1 and rows[0]["hours"] == 6
    assert rows[0]["notes"] == "Nous avons vu la CAF : le prototype est validé."
    with Mailbox(dovecot.url("preincub-handled")) as box:
        assert len(list(box.messages())) == 2
    st = data(invoke("inbox", "status", "--json", db=demo_db, now="2020-11-23"))
    assert st["logged"] == 1 and st["entries"][0]["via"] == "imap" and st["poller"]["handled"] == 2


def test_poll_errors_are_one_line_without_the_password(demo_db, dovecot, logged):
    url = dovecot.url(password="wrong-" + PASSWORD)
    line = fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env(url)), 1,
                 f"IMAP server 127.0.0.1:{dovecot.port}: login failed for the user 'coach-box'")
    assert "wrong-" not in line and PASSWORD not in line
    port = free_port()
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env(dovecot.url(port=port))), 1,
          f"IMAP server 127.0.0.1:{port}: connection refused")
    # recorded, and daemon status says so (the daemon polls that URL)
    r = invoke("daemon", "status", "--json", db=demo_db, env=env(dovecot.url(port=port)))
    doc = json.loads(r.stdout)
    conforms("daemon-status", doc)
    assert r.exit_code == 1 and "imap_failed" in doc["problems"]
    assert doc["poller"]["error"] == f"IMAP server 127.0.0.1:{port}: connection refused"
    text = invoke("daemon", "status", db=demo_db, lang="en", env=env(dovecot.url(port=port)))
    assert "Mailbox poller: last poll 2020-11-16 00:00; never succeeded; failed: IMAP server" in text.stdout
    assert "the last poll of the mailbox failed" in text.stderr
    # without PREINCUB_IMAP_URL the daemon does not poll: an old failure is no problem of its
    doc = json.loads(invoke("daemon", "status", "--json", db=demo_db).stdout)
    assert "imap_failed" not in doc["problems"] and doc["poller"]["error"]


def test_poll_refuses_bad_settings_and_hostile_values(demo_db, dovecot):
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env()), 1, "set PREINCUB_IMAP_URL")
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env={"PREINCUB_IMAP_URL": dovecot.url()}), 1,
          "set PREINCUB_REPLY_ADDRESS")
    line = fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env("imaps://u:s3cret@[::1/INBOX")), 1,
                 "PREINCUB_IMAP_URL is not usable")
    assert "s3cret" not in line
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env("ftp://u:s3cret@h/INBOX")), 1,
          "it must start with imaps://")
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env("imap://h/INBOX")), 1, "no user and password")
    line = fails(invoke("inbox", "poll", db=demo_db, lang="en",
                        env=env(dovecot.url().replace("coach-box", "%5Bred%5Dx%1B%5B31m"))), 1, "login failed")
    assert "'[red]x\\x1b[31m'" in line or "[red]x" in line and "\x1b" not in line
    fails(invoke("inbox", "poll", db=demo_db, lang="en", env=env(dovecot.url().replace("/INBOX", "/IN%0ABOX"))), 1,
          "control characters")
    fails(invoke("inbox", "poll", db=demo_db, lang="en", actor=COACH, env=env(dovecot.url())), 1, "you may not")
    fails(invoke("inbox", "poll", "--every", "2", db=demo_db, lang="en", env=env(dovecot.url())), 2, "--every")


def _installed() -> str | None:
    candidate = Path(sys.executable).parent / "preincub"
    return str(candidate) if candidate.exists() else None


@pytest.mark.slow
def test_installed_poll_every_runs_until_sigterm(demo_db, dovecot):
    """--every: one line per poll; the settings are checked once before; SIGTERM ends it with exit 0."""
    exe = _installed()
    if exe is None:
        pytest.skip("the preincub console script is not installed (pip install -e .)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    proc = subprocess.Popen([exe, "--db", str(demo_db), "--lang", "en", "inbox", "poll", "--every", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**base, **env(dovecot.url())})
    try:
        line = proc.stdout.readline()
        assert line.endswith(": 0 mails in the mailbox\n"), line + proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err and PASSWORD not in out + err


def test_poll_every_says_a_failed_poll_in_one_line_and_goes_on(demo_db, monkeypatch):
    import commands.inbox as inbox_cmd
    from workflow.errors import N_, Invalid
    from workflow.records import PollResult
    from workflow.services.poller import Poller

    stops = []
    real = inbox_cmd._stopped_on_signals

    def captured(stop):
        stop.wait = lambda seconds: stop.is_set()  # no real sleep between polls here
        stops.append(stop)
        return real(stop)

    polls: list[int] = []

    def poll(self, stop=None):
        polls.append(1)
        if len(polls) == 1:
            raise Invalid(N_("IMAP server {where}: connection refused"), code="imap_refused", where="imap.example:993")
        stops[0].set()  # as SIGTERM would
        return PollResult(found=1, logged=1)

    monkeypatch.setattr(inbox_cmd, "_stopped_on_signals", captured)
    monkeypatch.setattr(Poller, "poll", poll)
    monkeypatch.setattr(Poller, "check", lambda self: "imaps://u:p@imap.example/INBOX")
    r = ok(invoke("inbox", "poll", "--every", "5", db=demo_db, lang="en", now="2020-11-16 10:00", env=env()))
    assert r.stderr == "preincub: IMAP server imap.example:993: connection refused\n"
    assert r.stdout == "2020-11-16 10:00: 1 mail in the mailbox: 1 logged\n"
    assert len(polls) == 2
