"""`preincub inbox serve`: real LMTP and SMTP sessions (smtplib) against the aiosmtpd server, run in a thread on
a free port, and once as the installed command in a process of its own, stopped by SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from commands.inbox import bind, run_server
from tests.cli_helpers import data, fails, invoke
from tests.conftest import paris
from tests.dovecot import free_port
from tests.mail_fixtures import reply
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import StoreError
from workflow.records import Received
from workflow.services.inbox import Inbox

REPLY = "points@programme.example"
COACH = "sarah.benali@beta.example"
JULIEN = "julien.moreau@beta.example"  # the demo's coach of Insertion RSA, which has no check-in for 2020-W47


def reply_address(wf, team: str = "Insertion RSA", email: str = JULIEN, week: str = "2020-W47") -> str:
    """The Reply-To of ``email``'s reminder about ``team``'s ``week``, as the reminder of 16 Nov. 2020 gives it."""
    import sqlite3

    from workflow.rules import replykey

    with sqlite3.connect(wf.store.path) as c:
        team_id = c.execute("SELECT id FROM team WHERE name = ?", (team,)).fetchone()[0]
        person_id, generation = c.execute("SELECT id, link_generation FROM person WHERE email = ?", (email,)).fetchone()
    key = wf.links.reply_key(person_id, generation or 0, team_id, week, paris(2020, 11, 16, 9, 0))
    return replykey.address(REPLY, key)


def needs_parser() -> None:
    pytest.importorskip("workflow.rules.mail", reason="the reply parser (workflow/rules/mail.py) is not there yet")
ENV = {"PREINCUB_REPLY_ADDRESS": REPLY}


@pytest.fixture
def served(demo_db, monkeypatch):
    """The demo store's facade with a reply address, and a way to serve it (LMTP, or SMTP) in a thread."""
    monkeypatch.setenv("PREINCUB_REPLY_ADDRESS", REPLY)
    wf = Workflow.open(str(demo_db), clock=FixedClock(paris(2020, 11, 23, 18, 10)))

    @contextmanager
    def serve(smtp: bool = False):
        sockets = bind("127.0.0.1", free_port())
        stop, ready = threading.Event(), threading.Event()
        t = threading.Thread(target=run_server, args=(wf, sockets), kwargs={"smtp": smtp, "stop": stop,
                                                                             "ready": ready}, daemon=True)
        t.start()
        assert ready.wait(10), "the server did not start"
        try:
            yield sockets[0].getsockname()[1]
        finally:
            stop.set()
            t.join(10)
            assert not t.is_alive()
            for s in sockets:
                s.close()

    yield wf, serve
    wf.close()


@pytest.fixture
def received(monkeypatch):
    """Inbox.receive replaced by a recorder (the protocol is under test here, not the inbox): each call's
    (raw, via, recipients); ``outcome`` what it answers, or an exception it raises."""
    calls: list[tuple[bytes, str, tuple[str, ...]]] = []
    answer: dict[str, object] = {"outcome": Received("logged", team="Insertion RSA", week="2020-W48", answered=True)}

    def fake(self, raw: bytes, *, via: str, recipients=(), envelope_sender=None) -> Received:
        calls.append((raw, via, tuple(recipients)))
        if isinstance(answer["outcome"], Exception):
            raise answer["outcome"]
        return answer["outcome"]

    monkeypatch.setattr(Inbox, "receive", fake)
    return calls, answer


def _mail(to: str = "points+abc@programme.example") -> bytes:
    return reply("gmail", to=to, sender=COACH, sender_name="Sarah Benali")


def test_lmtp_answers_once_per_accepted_recipient(served, received):
    """RFC 2033: after DATA, one reply per recipient accepted; a recipient that is not the reply address is
    refused at RCPT (550 5.1.1), its local part read in any case, with or without a +KEY."""
    wf, serve = served
    calls, _answer = received
    raw = _mail()
    with serve() as port, smtplib.LMTP("127.0.0.1", port) as c:
        assert c.ehlo()[0] == 250  # LHLO
        assert c.mail(COACH)[0] == 250
        assert c.rcpt("points+abc@programme.example")[0] == 250
        assert c.rcpt("<POINTS@Programme.Example>")[0] == 250
        code, msg = c.rcpt("someone@programme.example")
        assert code == 550 and msg.startswith(b"5.1.1")
        code, msg = c.data(raw)
        assert (code, msg) == (250, b"2.0.0 OK: logged")
        assert c.getreply() == (250, b"2.0.0 OK: logged")  # the second recipient's own reply
        assert c.noop()[0] == 250  # nothing left over: the session goes on
    assert len(calls) == 1
    got, via, recipients = calls[0]
    assert via == "lmtp" and recipients == ("points+abc@programme.example", "POINTS@Programme.Example")
    assert got.replace(b"\r\n", b"\n").rstrip(b"\n") == raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def test_a_reply_over_lmtp_becomes_the_weeks_checkin_once(served, demo_db):
    """Done when: "Heures : 6" and a paragraph, replied over LMTP, is a check-in of 6 hours with the paragraph
    as its notes, and a confirmation; the same mail delivered again logs nothing more."""
    needs_parser()
    wf, serve = served
    to = reply_address(wf)
    raw = reply("gmail", to=to, sender=JULIEN, sender_name="Julien Moreau",
                body="Heures : 6\n\nNous avons vu la CAF : le prototype est validé.")
    outbox = len(data(invoke("outbox", "list", "--json", db=demo_db)))
    with serve() as port, smtplib.LMTP("127.0.0.1", port) as c:
        c.ehlo()
        for attempt in ("logged", "duplicate"):
            assert c.mail(JULIEN)[0] == 250
            assert c.rcpt(to)[0] == 250
            assert c.data(raw) == (250, f"2.0.0 OK: {attempt}".encode())
    rows = data(invoke("checkin", "list", "--team", "Insertion RSA", "--week", "2020-W47", "--json", db=demo_db))
    assert len(rows) == 1 and rows[0]["hours"] == 6 and rows[0]["author"] == JULIEN
    assert rows[0]["notes"] == "Nous avons vu la CAF : le prototype est validé."
    assert len(data(invoke("outbox", "list", "--json", db=demo_db))) == outbox + 1  # the confirmation, once
    st = data(invoke("inbox", "status", "--json", db=demo_db, now="2020-11-23"))
    assert st["logged"] == 1 and st["entries"][0]["via"] == "lmtp"


def test_lmtp_store_trouble_is_a_temporary_failure_per_recipient(served, received, caplog):
    """An infrastructure error (the store cannot be written): 451 4.3.0 for each recipient, so the MTA keeps the
    mail and delivers it again later; the log line says so without a secret."""
    _wf, serve = served
    _calls, answer = received
    answer["outcome"] = StoreError("the store is read-only", code="store_readonly")
    with serve() as port, smtplib.LMTP("127.0.0.1", port) as c:
        c.ehlo()
        c.mail(COACH)
        c.rcpt("points+a@programme.example")
        c.rcpt("points+b@programme.example")
        code, msg = c.data(_mail())
        assert code == 451 and msg.startswith(b"4.3.0")
        assert c.getreply()[0] == 451
    assert "the MTA will try again" in caplog.text


def test_lmtp_refuses_helo_and_a_mail_with_no_recipient(served, received):
    _wf, serve = served
    calls, _answer = received
    with serve() as port, smtplib.LMTP("127.0.0.1", port) as c:
        assert c.helo()[0] == 500  # LMTP has LHLO only
        c.ehlo()
        c.mail(COACH)
        assert c.rcpt("nobody@elsewhere.example")[0] == 550
        assert c.docmd("DATA")[0] == 503
    assert calls == []


def test_smtp_session_with_smtplib(served, received):
    """--smtp, for a relay that cannot do LMTP: one reply to DATA, whatever the number of recipients."""
    _wf, serve = served
    calls, _answer = received
    with serve(smtp=True) as port, smtplib.SMTP("127.0.0.1", port) as c:
        assert c.ehlo()[0] == 250
        refused = c.sendmail(COACH, ["points+xyz@programme.example", "points@programme.example"], _mail())
        assert refused == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            c.sendmail(COACH, ["other@programme.example"], _mail())
    assert [(via, recipients) for _raw, via, recipients in calls] == [
        ("smtp", ("points+xyz@programme.example", "points@programme.example"))]


def test_serve_refuses_to_start_in_one_line(demo_db):
    """No reply address, an actor who is not an instance administrator, a port taken: one line, exit 1."""
    fails(invoke("inbox", "serve", db=demo_db, lang="en"), 1, "PREINCUB_REPLY_ADDRESS")
    fails(invoke("inbox", "serve", db=demo_db, lang="en", actor=COACH, env=ENV), 1, "you may not")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fails(invoke("inbox", "serve", "--listen", f"127.0.0.1:{port}", db=demo_db, lang="en", env=ENV), 1,
              f"port {port} is already in use on 127.0.0.1", "--listen")
    r = invoke("inbox", "serve", "--listen", "127.0.0.1", db=demo_db, lang="en", env=ENV)
    fails(r, 2, "HOST:PORT")
    fails(invoke("inbox", "serve", "--listen", "[::1]:99999", db=demo_db, lang="en", env=ENV), 2, "HOST:PORT")


def _installed() -> str | None:
    """The installed console script, next to this interpreter."""
    candidate = Path(sys.executable).parent / "preincub"
    return str(candidate) if candidate.exists() else shutil.which("preincub")


@pytest.mark.slow
def test_installed_command_serves_lmtp_until_sigterm(demo_db, tmp_path):
    exe = _installed()
    if exe is None:
        pytest.skip("the preincub console script is not installed (pip install -e .)")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update(ENV, PREINCUB_LANG="en")
    proc = subprocess.Popen([exe, "--db", str(demo_db), "inbox", "serve", "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert f"by LMTP on 127.0.0.1:{port}" in line and REPLY in line, line + proc.stderr.read()
        with smtplib.LMTP("127.0.0.1", port) as c:
            c.ehlo()
            c.mail(COACH)
            assert c.rcpt("points+k@programme.example")[0] == 250
            assert c.rcpt("postmaster@programme.example")[0] == 550
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err
    assert "received SIGTERM: stopping" in err
