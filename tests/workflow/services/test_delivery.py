"""The outbox delivering through real servers: a tick, its SMTP connection, failures, retries, the CLI."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from notifications import channels
from notifications.channels import build_email
from notifications.message import DeliveryError, Message
from tests.conftest import COORD, paris
from tests.delivery_fixtures import (
    WEEK,
    coaching_key,
    configure,
    raw_tcp_server,
    investigation,
    row,
    run_cli,
)
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Invalid
from workflow.services.delivery import STALE_NOTE
from workflow.records import TickResult
from workflow.settings import Settings

COUNTS = ("enqueued", "sent", "retry", "failed")
W29_STALE = paris(2020, 7, 20, 0, 0)  # the weekly reminder of 2020-W29 is current until the end of its week
NOTHING = {"sent": 0, "retry": 0, "failed": 0, "waiting": 0}


def counts(summary: TickResult) -> dict:
    return {k: getattr(summary, k) for k in COUNTS}


def coach(wf, name="Coach Un", addr="coach@example.org", channels=None, lang=None):
    wf.directory.add_person(name, addr, ["coach"], channels=channels, lang=lang)
    return addr


def message_id(key: str, domain: str = "localhost") -> str:
    """The Message-ID of a reminder's message, at its sender's domain (the default sender: preincub@localhost)."""
    return Message(key, "", "", "", "", "").message_id(domain)


def command(team: str, coach: str = "coach@example.org") -> str:
    """The line a coach pastes: as themselves, so it works on a shared store too."""
    return f'preincub --as {coach} checkin log "{team}" --notes "…"'


# ---- e-mail: what arrives ----------------------------------------------------------------------

def test_a_tick_sends_proper_utf8_mime(wf, smtpd):
    team = "Équipe « Zéro papier »"
    wf, ids = investigation(wf, [(team, coach(wf, "Inès Haddad", "ines.haddad@somme.example"))])
    wf = configure(wf, smtp_url=smtpd.url, smtp_from="Préincub Équipe <bot@preincub.example>")
    assert counts(wf.reminders.tick()) == {"enqueued": 1, "sent": 1, "retry": 0, "failed": 0}
    key = coaching_key(wf, ids[team], "ines.haddad@somme.example", "email")

    (r,) = smtpd.received
    assert (r.mail_from, r.rcpt_tos) == ("bot@preincub.example", ["ines.haddad@somme.example"])
    m = r.msg
    assert m["Subject"] == f"Point hebdomadaire {WEEK}\u00a0: Équipe « Zéro papier »"
    (to,) = m["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Inès Haddad", "ines.haddad@somme.example")
    (sender,) = m["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Préincub Équipe", "bot@preincub.example")
    assert m["Message-ID"] == message_id(key, "preincub.example")
    assert m["X-Preincub-Key"] == key
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["MIME-Version"] == "1.0"
    assert m.get_content_type() == "multipart/alternative"
    parts = list(m.iter_parts())
    assert [(p.get_content_type(), p.get_content_charset()) for p in parts] == [
        ("text/plain", "utf-8"), ("text/html", "utf-8")]
    text, body_html = (p.get_content().replace("\r\n", "\n") for p in parts)  # CRLF on the wire
    assert text.startswith("Bonjour Inès Haddad,\n\nC'est la semaine 2020-W29 et aucun point hebdomadaire n'est "
                           "encore saisi pour l'équipe «\u00a0Équipe « Zéro papier »\u00a0» (programme Pré-incubation 2020")
    assert f"\n    {command(team, 'ines.haddad@somme.example')}\n" in text
    assert "<h1 style=\"font-size: 1.2em\">Point hebdomadaire 2020-W29\u00a0: Équipe « Zéro papier »</h1>" in body_html
    assert "<p>Bonjour Inès Haddad,</p>" in body_html
    # No SMTPUTF8 needed: every header is 7-bit on the wire (RFC 2047 encoded words).
    head = r.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head
    assert "SMTPUTF8" not in r.mail_options

    sent = row(wf, key)
    assert (sent.status, sent.attempts, sent.last_error, sent.channel) == ("sent", 1, None, "email")
    # Ticking again sends nothing twice.
    assert replace(wf.reminders.tick(), at=None, holder=None) == TickResult(at=None, holder=None, enqueued=0, **NOTHING)
    assert len(smtpd.received) == 1


def test_one_smtp_connection_per_tick(wf, smtpd):
    teams = ["Alpha", "Bêta", "Gamma"]
    wf, _ = investigation(wf, [(t, coach(wf, f"Coach {i}", f"coach{i}@example.org")) for i, t in enumerate(teams)])
    wf = configure(wf, smtp_url=smtpd.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 3, "sent": 3, "retry": 0, "failed": 0}
    assert len(smtpd.ehlo_peers) == 1
    assert [(r.peer, r.rcpt_tos) for r in smtpd.received] == [
        (smtpd.ehlo_peers[0], [f"coach{i}@example.org"]) for i in range(3)]
    # The next week's tick (weekly reminders, and missed-coaching alerts to the coordinator): its own connection.
    wf = wf.at(FixedClock(paris(2020, 7, 20, 10, 0)))
    assert counts(wf.reminders.tick()) == {"enqueued": 6, "sent": 6, "retry": 0, "failed": 0}
    assert len(smtpd.ehlo_peers) == 2 and smtpd.ehlo_peers[1] != smtpd.ehlo_peers[0]
    assert {r.peer for r in smtpd.received[3:]} == {smtpd.ehlo_peers[1]}
    assert [(r.rcpt_tos, r.msg["Subject"]) for r in smtpd.received[3:]] == [
        ([f"coach{i}@example.org"], f"Point hebdomadaire 2020-W30\u00a0: {t}") for i, t in enumerate(teams)] + [
        ([COORD], f"Points hebdomadaires manqués\u00a0: {t}") for t in teams]


def test_a_stored_display_name_never_adds_a_recipient(wf, smtpd):
    name = 'Eve <evil@example.org>, "Bcc: evil@example.org'
    wf, _ = investigation(wf, [("Alpha", coach(wf, name, "coach@example.org"))])
    wf = configure(wf, smtp_url=smtpd.url)
    wf.reminders.tick()
    assert smtpd.rcpt_tried == ["coach@example.org"]
    (r,) = smtpd.received
    assert r.msg["Bcc"] is None and r.msg["Cc"] is None
    assert [(a.display_name, a.addr_spec) for a in r.msg["To"].addresses] == [(name, "coach@example.org")]


def test_a_unicode_line_separator_cannot_inject_nor_block(wf, smtpd):
    bad = "Zéro\u2028Bcc: evil@example.org"
    wf, ids = investigation(wf, [("Beta", coach(wf, "Coach Deux", "coach2@example.org"))])
    # Names are one line: a line or paragraph separator is refused where it is typed...
    with pytest.raises(Invalid, match="control characters"):
        wf.teams.edit("Beta", rename=bad)
    # ...the channel encodes it where it gets through (an encoded word cannot break a line)...
    mail = build_email(Message("k:1", "coach2@example.org", bad, bad, "texte", "<p>texte</p>"),
                       "preincub <preincub@localhost>")
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None and len(parsed.get_all("To")) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["coach2@example.org"]
    assert parsed["Subject"].startswith("Zéro") and parsed["Subject"].endswith("Bcc: evil@example.org")
    # ...and refuses a raw line break, without crashing the tick.
    with pytest.raises(DeliveryError, match="unsafe header"):
        build_email(Message("k:1", "coach2@example.org", "Coach", "a\r\nBcc: evil@example.org", "t", "h"),
                    "preincub <preincub@localhost>")
    wf = configure(wf, smtp_url=smtpd.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 1, "sent": 1, "retry": 0, "failed": 0}
    assert smtpd.rcpt_tried == ["coach2@example.org"] and list(ids) == ["Beta"]


def test_an_unexpected_error_in_one_message_does_not_hold_back_the_others(wf, smtpd, monkeypatch):
    wf, ids = investigation(wf, [("Alpha", coach(wf)), ("Beta", coach(wf, "Coach Deux", "coach2@example.org"))])
    wf = configure(wf, smtp_url=smtpd.url, retry_base_seconds=0)
    real = channels.email_bytes

    def flaky(msg, sender, **kwargs):
        if msg.recipient == "coach@example.org":
            raise RuntimeError("boom")
        return real(msg, sender, **kwargs)

    monkeypatch.setattr(channels, "email_bytes", flaky)
    assert counts(wf.reminders.tick()) == {"enqueued": 2, "sent": 1, "retry": 1, "failed": 0}
    r = row(wf, coaching_key(wf, ids["Alpha"], "coach@example.org", "email"))
    assert (r.status, r.last_error) == ("pending", "RuntimeError: boom")
    monkeypatch.setattr(channels, "email_bytes", real)
    assert wf.delivery.deliver() == {"sent": 1, "retry": 0, "failed": 0, "waiting": 0}


def test_deliver_reports_its_progress_to_the_caller(wf, smtpd):
    wf, _ = investigation(wf, [(t, coach(wf, f"Coach {i}", f"coach{i}@example.org")) for i, t in enumerate("ABC")])
    wf = configure(wf, smtp_url=smtpd.url)
    calls: list[tuple[int, int]] = []
    wf.reminders.tick(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)] and len(smtpd.received) == 3


# ---- the outcomes recorded a few at a time ----------------------------------------------------------

@pytest.fixture
def five(wf, smtpd, monkeypatch):
    """Five weekly reminders queued, claimed two at a time; every call recording outcomes, by its size."""
    from workflow.services import delivery
    from workflow.store import outbox

    wf, _ = investigation(wf, [(t, coach(wf, f"Coach {i}", f"coach{i}@example.org")) for i, t in enumerate("ABCDE")])
    wf = configure(wf, smtp_url=smtpd.url)
    assert wf.reminders.enqueue() == 5
    monkeypatch.setattr(delivery, "BATCH", 2)
    recorded: list[int] = []
    real = outbox.settle_many

    def settle_many(conn, holder, outcomes):
        recorded.append(len(outcomes))
        real(conn, holder, outcomes)

    monkeypatch.setattr(outbox, "settle_many", settle_many)
    return wf, recorded


def statuses(wf) -> list[tuple[str, str | None]]:
    """Each row's status and claim, oldest first (the store's rows: the API shows no claim)."""
    from workflow.store import outbox

    with wf.store.read() as s:
        return [(r.status, r.claimed_by) for r in outbox.listed(s)]


@pytest.mark.parametrize("every,calls", [(3600, [2, 2, 1]), (0, [1, 1, 1, 1, 1])])
def test_outcomes_are_recorded_per_batch_at_most_and_all_before_deliver_returns(five, smtpd, monkeypatch,
                                                                              every, calls):
    """A fast server: one transaction for a claimed batch; a slow one (SETTLE_SECONDS passed): one a message."""
    from workflow.services import delivery

    wf, recorded = five
    monkeypatch.setattr(delivery, "SETTLE_SECONDS", every)
    progress: list[tuple[int, int]] = []
    assert wf.delivery.deliver("d1", progress=lambda done, total: progress.append((done, total))) == {
        "sent": 5, "retry": 0, "failed": 0, "waiting": 0}
    assert recorded == calls and progress == [(i, 5) for i in range(1, 6)]
    assert statuses(wf) == [("sent", None)] * 5 and len(smtpd.received) == 5
    assert {r.attempts for r in wf.outbox()} == {1}


def test_a_stop_records_what_was_sent_and_gives_back_the_rest(five, smtpd, monkeypatch):
    import threading

    from workflow.services import delivery

    wf, recorded = five
    monkeypatch.setattr(delivery, "SETTLE_SECONDS", 3600)
    stop = threading.Event()

    def progress(done, total):
        if done == 3:
            stop.set()

    assert wf.delivery.deliver("d1", stop, progress=progress)["sent"] == 3
    assert recorded == [2, 1]  # the first batch at its end, the third message when stopping
    assert statuses(wf) == [("sent", None)] * 3 + [("pending", None)] * 2 and len(smtpd.received) == 3


def test_an_error_in_the_middle_of_a_pass_still_records_what_was_sent(five, smtpd, monkeypatch):
    """At least once: the messages the server accepted are marked sent, the one claimed but not sent stays
    claimed (its claim lapses, then it is sent)."""
    from workflow.services import delivery

    wf, recorded = five
    monkeypatch.setattr(delivery, "SETTLE_SECONDS", 3600)

    def progress(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wf.delivery.deliver("d1", progress=progress)
    assert recorded == [2, 1]
    assert statuses(wf) == [("sent", None)] * 3 + [("sending", "d1")] + [("pending", None)]
    assert len(smtpd.received) == 3


# ---- e-mail: the password ----------------------------------------------------------------------

def dump(url: str) -> str:
    """Every value of every table of the store, as text."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return "\n".join(repr(tuple(r)) for t in sa.inspect(c).get_table_names()
                             for r in c.execute(sa.text(f'SELECT * FROM "{t}"')))
    finally:
        engine.dispose()


def test_the_smtp_password_is_used_but_never_stored_nor_shown(wf, db_url, smtpd_auth, tmp_path):
    wf, ids = investigation(wf, [("Insertion RSA", coach(wf))])
    key = coaching_key(wf, ids["Insertion RSA"], "coach@example.org", "email")
    wf.close()
    env = {"PREINCUB_SMTP_URL": f"smtp://bot@127.0.0.1:{smtpd_auth.port}", "PREINCUB_RETRY_BASE_SECONDS": "0"}
    wrong, right = "wr0ng-Pa55word", smtpd_auth.password
    outputs = []

    def cli(*args, password):
        r = run_cli(*args, db=db_url, env={**env, "PREINCUB_SMTP_PASSWORD": password})
        outputs.append(r.stdout + r.stderr)
        assert r.exit_code == 0, r.stdout + r.stderr
        return r

    assert cli("remind", "run", password=wrong).stdout == "1 mis en file, 0 envoyé, 1 à réessayer, 0 en échec\n"
    (listed,) = json.loads(cli("outbox", "list", "--json", password=wrong).stdout)
    assert (listed["status"], listed["attempts"]) == ("pending", 1)
    assert listed["last_error"] == (f"SMTP 127.0.0.1:{smtpd_auth.port}: "
                                    "(535, b'5.7.8 Authentication credentials invalid')")
    cli("outbox", "list", "--status", "pending", password=wrong)
    assert cli("remind", "run", password=right).stdout == "0 mis en file, 1 envoyé, 0 à réessayer, 0 en échec\n"
    cli("status", password=right)
    cli("outbox", "list", "--json", password=right)

    # (smtplib tries each mechanism offered, PLAIN then LOGIN, before giving up.)
    assert {(login, pw) for _, login, pw in smtpd_auth.auth_seen} == {(b"bot", wrong.encode()),
                                                                      (b"bot", right.encode())}
    assert smtpd_auth.auth_seen[-1][1:] == (b"bot", right.encode())
    assert [r.rcpt_tos for r in smtpd_auth.received] == [["coach@example.org"]]
    stored = dump(db_url)
    assert key in stored and "outbox.retry" not in stored  # the dump does see the outbox rows
    for secret in (wrong, right):
        assert secret not in stored
        assert not [o for o in outputs if secret in o]
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        for suffix in ("", "-wal"):
            try:
                raw = open(path + suffix, "rb").read()
            except FileNotFoundError:
                continue
            assert wrong.encode() not in raw and right.encode() not in raw


def test_settings_never_show_the_password(monkeypatch):
    monkeypatch.setenv("PREINCUB_SMTP_PASSWORD", "s3cret-value")
    s = Settings.from_env()
    assert s.smtp_password == "s3cret-value"
    assert "s3cret-value" not in repr(s) and "s3cret-value" not in str(s)


def test_a_non_ascii_password_logs_in_with_utf8_plain(wf, smtpd_auth, capsys):
    smtpd_auth.password = "mot-de-passe-é"
    wf, ids = investigation(wf, [("Alpha", coach(wf)), ("Beta", coach(wf, "Coach Deux", "coach2@example.org",
                                                                     channels=["console"]))])
    wf = configure(wf, smtp_url=f"smtp://bot@127.0.0.1:{smtpd_auth.port}", smtp_password="mot-de-passe-é")
    wf.reminders.tick()
    assert row(wf, coaching_key(wf, ids["Beta"], "coach2@example.org", "console")).status == "sent"
    assert row(wf, coaching_key(wf, ids["Alpha"], "coach@example.org", "email")).status == "sent"


# ---- e-mail: failures, retries, backoff --------------------------------------------------------

def test_a_recipient_refused_for_now_is_retried_with_capped_backoff_while_current_then_failed(wf, smtpd, wall):
    refusal = "450 4.2.1 <refuse@example.org>: mailbox unavailable"  # 4xx: temporary
    smtpd.refuse["refuse@example.org"] = refusal
    wf, ids = investigation(wf, [("Alpha", coach(wf, "Refusé", "refuse@example.org")), ("Beta", coach(wf))])
    wf = configure(wf, smtp_url=smtpd.url, retry_max=3, retry_base_seconds=60).at(wall)
    bad = coaching_key(wf, ids["Alpha"], "refuse@example.org", "email")
    good = coaching_key(wf, ids["Beta"], "coach@example.org", "email")

    assert counts(wf.reminders.tick()) == {"enqueued": 2, "sent": 1, "retry": 1, "failed": 0}
    assert [r.msg["X-Preincub-Key"] for r in smtpd.received] == [good]  # the other message went out
    r = row(wf, bad)
    assert (r.status, r.attempts, r.next_attempt_at) == ("pending", 1, "2020-07-13T10:01:00+02:00")
    assert r.last_error == "SMTP: refuse@example.org refused: 450 4.2.1 <refuse@example.org>: mailbox unavailable"

    wall.advance(59)  # not yet
    assert wf.delivery.deliver() == NOTHING
    wall.advance(1)  # 60 s after the first failure
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    r = row(wf, bad)
    assert (r.status, r.attempts, r.next_attempt_at) == ("pending", 2, "2020-07-13T10:03:00+02:00")
    wall.advance(119)  # the delay doubled
    assert wf.delivery.deliver() == NOTHING
    wall.advance(1)
    # RETRY_MAX (3) attempts are not the last while the reminder is current: retried, the delay capped at an hour.
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    gaps = []
    for _ in range(12):
        r = row(wf, bad)
        gaps.append((datetime.fromisoformat(r.next_attempt_at) - wall()).total_seconds())
        wall.at = datetime.fromisoformat(r.next_attempt_at)
        assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    assert gaps == [240, 480, 960, 1920] + [3600] * 8
    r = row(wf, bad)
    assert (r.status, r.attempts, r.failing_since) == ("pending", 15, "2020-07-13T10:00:00+02:00")

    # Once the reminder is stale (the end of its ISO week), the next pass fails it, without another attempt.
    wall.at = W29_STALE
    assert wf.delivery.deliver() == {"sent": 0, "retry": 0, "failed": 1, "waiting": 0}
    wall.advance(10 ** 6)
    assert wf.delivery.deliver() == NOTHING
    (failed,) = wf.outbox(status="failed")
    assert (failed.key, failed.to, failed.attempts) == (bad, "refuse@example.org", 15)
    assert failed.last_error.startswith(STALE_NOTE + "; last error: SMTP: ")
    assert "450" in failed.last_error and "mailbox unavailable" in failed.last_error
    assert [x.key for x in wf.outbox(status="sent")] == [good]
    assert smtpd.rcpt_tried.count("refuse@example.org") == 15
    assert len(smtpd.received) == 1


def test_a_recipient_refused_for_good_fails_at_once_one_refused_for_now_is_retried(wf, db_url, smtpd, wall):
    smtpd.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    smtpd.refuse["busy@example.org"] = "450 4.2.1 <busy@example.org>: mailbox busy, try later"
    wf, ids = investigation(wf, [("Alpha", coach(wf, "Parti", "gone@example.org")),
                             ("Beta", coach(wf, "Occupé", "busy@example.org")),
                             ("Gamma", coach(wf))])
    wf = configure(wf, smtp_url=smtpd.url, retry_base_seconds=60).at(wall)
    gone, busy, good = (coaching_key(wf, ids[t], a, "email") for t, a in
                        (("Alpha", "gone@example.org"), ("Beta", "busy@example.org"), ("Gamma", "coach@example.org")))

    assert counts(wf.reminders.tick()) == {"enqueued": 3, "sent": 1, "retry": 1, "failed": 1}
    assert [r.msg["X-Preincub-Key"] for r in smtpd.received] == [good]
    r = row(wf, gone)  # a 5xx for its recipient: no retry can change that
    assert (r.status, r.attempts, r.last_error) == (
        "failed", 1, "SMTP: gone@example.org refused: 550 5.1.1 <gone@example.org>: no such user")
    r = row(wf, busy)  # a 4xx: temporary, retried with backoff while current
    assert (r.status, r.attempts, r.next_attempt_at, r.last_error) == (
        "pending", 1, "2020-07-13T10:01:00+02:00",
        "SMTP: busy@example.org refused: 450 4.2.1 <busy@example.org>: mailbox busy, try later")
    wall.advance(60)
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    assert (smtpd.rcpt_tried.count("gone@example.org"), smtpd.rcpt_tried.count("busy@example.org")) == (1, 2)
    # `outbox list --status failed` says why, in the server's words.
    wf.close()
    failed = json.loads(run_cli("outbox", "list", "--status", "failed", "--json", db=db_url,
                                env={"PREINCUB_SMTP_URL": smtpd.url}).stdout)
    assert [(f["key"], f["attempts"], f["last_error"]) for f in failed] == [
        (gone, 1, "SMTP: gone@example.org refused: 550 5.1.1 <gone@example.org>: no such user")]


def test_a_server_down_with_no_delay_is_retried_at_each_delivery(wf, closed_port, capsys):
    wf, ids = investigation(wf, [("Alpha", coach(wf)), ("Beta", coach(wf, "Coach Deux", "coach2@example.org",
                                                                     channels=["console"]))])
    wf = configure(wf, smtp_url=f"smtp://127.0.0.1:{closed_port}", retry_max=2, retry_base_seconds=0)
    key = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    error = f"SMTP 127.0.0.1:{closed_port}: [Errno 111] Connection refused"

    assert counts(wf.reminders.tick()) == {"enqueued": 2, "sent": 1, "retry": 1, "failed": 0}
    assert f"[coaching:{ids['Beta']}:{WEEK}:" in capsys.readouterr().out  # the console one went out
    assert {k: getattr(row(wf, key), k) for k in ("status", "attempts", "last_error")} == {
        "status": "pending", "attempts": 1, "last_error": error}
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}  # past RETRY_MAX: still current
    assert row(wf, key).attempts == 3
    wf = wf.at(FixedClock(W29_STALE - timedelta(seconds=1)))  # the last moment it is current: one more attempt
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}
    wf = wf.at(FixedClock(W29_STALE))
    assert wf.delivery.deliver() == {"sent": 0, "retry": 0, "failed": 1, "waiting": 0}
    assert wf.delivery.deliver() == NOTHING
    assert [{k: getattr(r, k) for k in ("key", "status", "attempts", "last_error")} for r in wf.outbox(status="failed")] == [
        {"key": key, "status": "failed", "attempts": 4, "last_error": f"{STALE_NOTE}; last error: {error}"}]


def test_a_connection_reset_is_retried_later(wf, reset_server):
    port, accepted = reset_server
    wf, ids = investigation(wf, [("Alpha", coach(wf))])
    wf = configure(wf, smtp_url=f"smtp://127.0.0.1:{port}", retry_base_seconds=60)
    key = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    assert counts(wf.reminders.tick()) == {"enqueued": 1, "sent": 0, "retry": 1, "failed": 0}
    r = row(wf, key)
    assert (r.status, r.attempts) == ("pending", 1)
    assert re.fullmatch(rf"SMTP( 127\.0\.0\.1:{port})?: (Connection unexpectedly closed(: )?)?"
                        r"(\[Errno 104\] Connection reset by peer)?", r.last_error), r.last_error
    assert "reset" in r.last_error or "closed" in r.last_error
    assert r.next_attempt_at == "2020-07-13T10:01:00+02:00"  # the clock's time (TICK), 60 s on
    assert wf.delivery.deliver() == NOTHING  # not due yet: no new connection
    assert len(accepted) == 1


def test_a_connection_cut_mid_message_does_not_stop_the_others(wf, smtpd, wall):
    wf, ids = investigation(wf, [(t, coach(wf, f"Coach {i}", f"coach{i}@example.org"))
                             for i, t in enumerate(["Alpha", "Beta", "Gamma"])])
    smtpd.cut_once.add("coach0@example.org")
    wf = configure(wf, smtp_url=smtpd.url, retry_base_seconds=30).at(wall)
    assert counts(wf.reminders.tick()) == {"enqueued": 3, "sent": 2, "retry": 1, "failed": 0}
    cut = row(wf, coaching_key(wf, ids["Alpha"], "coach0@example.org", "email"))
    assert (cut.status, cut.attempts) == ("pending", 1)
    assert re.fullmatch(r"SMTP: (Connection unexpectedly closed|\[Errno 104\] Connection reset by peer)",
                        cut.last_error), cut.last_error
    assert [r.rcpt_tos for r in smtpd.received] == [["coach1@example.org"], ["coach2@example.org"]]
    wall.advance(30)
    assert wf.delivery.deliver() == {"sent": 1, "retry": 0, "failed": 0, "waiting": 0}
    assert [r.rcpt_tos for r in smtpd.received][-1] == ["coach0@example.org"]
    assert smtpd.received[-1].msg["Message-ID"] == message_id(cut.key)


# ---- chat webhook ------------------------------------------------------------------------------

def test_the_chat_webhook_gets_json_and_the_key(wf, webhook):
    wf, ids = investigation(wf, [("Insertion RSA", coach(wf, channels=["chat"]))])
    wf = configure(wf, webhook_url=webhook.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 1, "sent": 1, "retry": 0, "failed": 0}
    key = coaching_key(wf, ids["Insertion RSA"], "coach@example.org", "chat")
    (req,) = webhook.requests
    assert req["path"] == "/hooks/preincub"
    assert req["headers"]["Idempotency-Key"] == key
    assert req["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert list(req["json"]) == ["text"]
    text = req["json"]["text"]
    assert text.startswith(f"**Point hebdomadaire {WEEK}\u00a0: Insertion RSA**\n")
    assert "\n    " + command("Insertion RSA") + "\n" in text
    assert "l'équipe «\u00a0Insertion RSA\u00a0»" in text
    assert "é".encode() in req["body"]  # UTF-8 JSON
    assert row(wf, key).status == "sent"


def test_a_webhook_answering_500_is_retried_while_current_then_failed(wf, webhook, wall):
    wf, ids = investigation(wf, [("Alpha", coach(wf, channels=["chat"])),
                             ("Beta", coach(wf, "Coach Deux", "coach2@example.org", channels=["chat"]))])
    webhook.status["Alpha"] = 500
    wf = configure(wf, webhook_url=webhook.url, retry_max=2, retry_base_seconds=30).at(wall)
    bad = coaching_key(wf, ids["Alpha"], "coach@example.org", "chat")
    good = coaching_key(wf, ids["Beta"], "coach2@example.org", "chat")
    assert counts(wf.reminders.tick()) == {"enqueued": 2, "sent": 1, "retry": 1, "failed": 0}
    r = row(wf, bad)
    assert {k: getattr(r, k) for k in ("status", "attempts", "last_error", "next_attempt_at")} == {
        "status": "pending", "attempts": 1, "last_error": "webhook answered HTTP 500",
        "next_attempt_at": "2020-07-13T10:00:30+02:00"}
    assert row(wf, good).status == "sent"
    wall.advance(29)
    assert wf.delivery.deliver() == NOTHING
    wall.advance(1)
    assert wf.delivery.deliver() == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0}  # RETRY_MAX=2, but still current
    wall.advance(60)
    wall.at = W29_STALE
    assert wf.delivery.deliver() == {"sent": 0, "retry": 0, "failed": 1, "waiting": 0}
    assert [(x.key, x.attempts, x.last_error) for x in wf.outbox(status="failed")] == [
        (bad, 2, f"{STALE_NOTE}; last error: webhook answered HTTP 500")]
    assert [q["headers"]["Idempotency-Key"] for q in webhook.requests] == [bad, good, bad]


@pytest.fixture
def truncating_webhook():
    """An HTTP server that announces 100 bytes, sends 3, and closes: the response is cut."""
    def serve(conn: socket.socket) -> None:
        # The whole request first: closing on unread bytes would reset the connection instead.
        def more() -> bytes:
            chunk = conn.recv(65536)
            if not chunk:
                raise OSError("the client went away")
            return chunk

        request = b""
        while b"\r\n\r\n" not in request:
            request += more()
        head, body = request.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])
        while len(body) < length:
            body += more()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")

    with raw_tcp_server(serve) as port:
        yield f"http://127.0.0.1:{port}/hook"


def test_a_webhook_cut_mid_response_does_not_crash_the_tick(wf, truncating_webhook, capsys):
    wf, ids = investigation(wf, [("Alpha", coach(wf, channels=["chat"])),
                             ("Beta", coach(wf, "Coach Deux", "coach2@example.org", channels=["console"]))])
    wf = configure(wf, webhook_url=truncating_webhook)
    wf.reminders.tick()
    assert row(wf, coaching_key(wf, ids["Beta"], "coach2@example.org", "console")).status == "sent"
    r = row(wf, coaching_key(wf, ids["Alpha"], "coach@example.org", "chat"))
    assert (r.status, r.attempts, r.last_error) == ("pending", 1, "webhook: IncompleteRead")


# ---- console, and several channels -------------------------------------------------------------

def test_a_channel_not_configured_waits_under_its_own_key_and_is_never_printed_instead(wf, smtpd, capsys):
    wf, ids = investigation(wf, [("Insertion RSA", coach(wf, lang="en"))])  # chose e-mail (the default)
    key = coaching_key(wf, ids["Insertion RSA"], "coach@example.org", "email")
    capsys.readouterr()
    # No PREINCUB_SMTP_URL here (a shell, say): the message waits, with the reason; nothing printed, no new key.
    for enqueued in (1, 0):
        r = wf.reminders.tick()
        assert {k: getattr(r, k) for k in (*COUNTS, "waiting")} == {
            "enqueued": enqueued, "sent": 0, "retry": 0, "failed": 0, "waiting": 1}
    assert [(r.key, r.status, r.attempts, r.last_error) for r in wf.outbox()] == [
        (key, "pending", 0, "e-mail is not configured here (PREINCUB_SMTP_URL)")]
    assert capsys.readouterr().out == ""
    # Where e-mail is configured (the daemon), it goes out by e-mail, once, under the same key.
    wf = configure(wf, smtp_url=smtpd.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 0, "sent": 1, "retry": 0, "failed": 0}
    assert [r.msg["X-Preincub-Key"] for r in smtpd.received] == [key]
    assert [(r.key, r.status, r.sent_via, r.last_error) for r in wf.outbox()] == [
        (key, "sent", "email", None)]


def test_console_prints_every_message_instead_only_when_asked(wf, capsys):
    wf, ids = investigation(wf, [("Insertion RSA", coach(wf, lang="en"))])
    key = coaching_key(wf, ids["Insertion RSA"], "coach@example.org", "email")
    capsys.readouterr()
    assert counts(wf.reminders.tick(console=True)) == {"enqueued": 1, "sent": 1, "retry": 0, "failed": 0}
    out = capsys.readouterr().out
    assert out.startswith(f"--- to Coach Un <coach@example.org> [{key}]\n"
                          f"Weekly check-in {WEEK}: Insertion RSA\n\nHello Coach Un,\n")
    assert "\n    " + command("Insertion RSA") + "\n" in out
    assert [(r.key, r.channel, r.status, r.sent_via) for r in wf.outbox()] == [
        (key, "email", "sent", "console")]
    assert counts(wf.reminders.tick(console=True)) == {"enqueued": 0, "sent": 0, "retry": 0, "failed": 0}
    assert capsys.readouterr().out == ""


def test_each_chosen_channel_gets_its_own_message_and_key(wf, smtpd, webhook):
    wf, ids = investigation(wf, [("Alpha", coach(wf, channels=["email", "chat"]))])
    wf = configure(wf, smtp_url=smtpd.url, webhook_url=webhook.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 2, "sent": 2, "retry": 0, "failed": 0}
    email_key, chat_key = (coaching_key(wf, ids["Alpha"], "coach@example.org", c) for c in ("email", "chat"))
    assert [r.msg["X-Preincub-Key"] for r in smtpd.received] == [email_key]
    assert [q["headers"]["Idempotency-Key"] for q in webhook.requests] == [chat_key]
    assert sorted((r.channel, r.status) for r in wf.outbox()) == [("chat", "sent"), ("email", "sent")]


def test_changing_ones_channels_never_resends_a_reminder_already_queued(wf, smtpd, webhook, capsys):
    wf, ids = investigation(wf, [("Alpha", coach(wf))])  # e-mail
    wf = configure(wf, smtp_url=smtpd.url, webhook_url=webhook.url)
    assert counts(wf.reminders.tick()) == {"enqueued": 1, "sent": 1, "retry": 0, "failed": 0}
    wf.directory.edit_person("coach@example.org", channels=["chat", "console"])
    # The reminder of this week was queued (and sent) by e-mail: not again on the channels chosen since.
    assert counts(wf.reminders.tick()) == {"enqueued": 0, "sent": 0, "retry": 0, "failed": 0}
    assert webhook.requests == [] and len(smtpd.received) == 1 and capsys.readouterr().out == ""
    # The next one goes once on each channel chosen now.
    wf = wf.at(FixedClock(paris(2020, 7, 20, 10, 0)))
    wf.reminders.tick()
    w30 = {c: coaching_key(wf, ids["Alpha"], "coach@example.org", c).replace(WEEK, "2020-W30")
           for c in ("email", "chat", "console")}
    mine = {r.key: r.status for r in wf.outbox() if r.to == "coach@example.org"}
    assert mine == {coaching_key(wf, ids["Alpha"], "coach@example.org", "email"): "sent",
                    w30["chat"]: "sent", w30["console"]: "sent"}
    assert [q["headers"]["Idempotency-Key"] for q in webhook.requests] == [w30["chat"]]
    assert capsys.readouterr().out.count(f"[{w30['console']}]") == 1


# ---- the CLI -----------------------------------------------------------------------------------

def test_cli_failed_list_retry_and_cancel(wf, db_url, smtpd):
    smtpd.refuse["refuse@example.org"] = "450 4.2.1 <refuse@example.org>: mailbox unavailable"
    wf, ids = investigation(wf, [("Alpha", coach(wf, "Refusé", "refuse@example.org")), ("Beta", coach(wf))])
    bad = coaching_key(wf, ids["Alpha"], "refuse@example.org", "email")
    good = coaching_key(wf, ids["Beta"], "coach@example.org", "email")
    wf.close()
    env = {"PREINCUB_SMTP_URL": smtpd.url, "PREINCUB_RETRY_MAX": "1", "PREINCUB_RETRY_BASE_SECONDS": "0"}

    def cli(*args, code=0, now="2020-07-13T10:00", **extra):
        r = run_cli(*args, db=db_url, now=now, env={**env, **extra})
        assert r.exit_code == code, r.stdout + r.stderr
        return r

    assert cli("remind", "run").stdout == "2 mis en file, 1 envoyé, 1 à réessayer, 0 en échec\n"
    # Monday next, 08:00 (before the weekly reminder of 2020-W30): the one of 2020-W29 went stale unsent.
    stale = cli("remind", "run", now="2020-07-20T08:00")
    assert stale.stdout == "0 mis en file, 0 envoyé, 0 à réessayer, 1 en échec\n"
    assert stale.stderr == ("preincub: ⚠ boîte d'envoi\u00a0: 1 message en échec, 0 en échec depuis plus d'une heure "
                            "(voir 'preincub outbox list', puis 'preincub outbox retry --status failed')\n")
    (failed,) = json.loads(cli("outbox", "list", "--status", "failed", "--json").stdout)
    assert {k: failed[k] for k in ("key", "to", "status", "attempts")} == {
        "key": bad, "to": "refuse@example.org", "status": "failed", "attempts": 1}
    assert "450" in failed["last_error"] and "mailbox unavailable" in failed["last_error"]
    (sent,) = json.loads(cli("outbox", "list", "--status", "sent", "--json").stdout)
    assert sent["key"] == good

    # A sent message cannot be retried: exit 1, one line on stderr, nothing on stdout.
    r = cli("outbox", "retry", str(sent["id"]), code=1)
    assert r.stdout == ""
    assert r.stderr == (f"preincub: le message n°\u00a0{sent['id']} est sent\u00a0; seul un message failed ou cancelled "
                        "peut l'être\n")

    # Retry the failed one: pending again, and the next run delivers it.
    smtpd.refuse.clear()
    assert cli("outbox", "retry", str(failed["id"])).stdout == \
        f"le message n°\u00a0{failed['id']} sera renvoyé au prochain passage\n"
    (pending,) = json.loads(cli("outbox", "list", "--status", "pending", "--json").stdout)
    assert (pending["id"], pending["attempts"], pending["last_error"]) == (failed["id"], 0, None)
    assert cli("remind", "run").stdout == "0 mis en file, 1 envoyé, 0 à réessayer, 0 en échec\n"
    assert [r.rcpt_tos for r in smtpd.received] == [["coach@example.org"], ["refuse@example.org"]]
    assert smtpd.received[-1].msg["X-Preincub-Key"] == bad

    # Cancel a pending message: it never goes out.
    smtpd.refuse["refuse@example.org"] = "450 4.2.1 try again later"
    week30 = dict(now="2020-07-20T10:00", PREINCUB_RETRY_MAX="5", PREINCUB_RETRY_BASE_SECONDS="0")
    # (week 30: a weekly reminder to each coach, and missed-coaching alerts to the coordinator)
    assert cli("remind", "run", **week30).stdout == "4 mis en file, 3 envoyés, 1 à réessayer, 0 en échec\n"
    (waiting,) = json.loads(cli("outbox", "list", "--status", "pending", "--json", **week30).stdout)
    assert waiting["key"] == bad.replace(WEEK, "2020-W30")
    assert cli("outbox", "cancel", str(waiting["id"]), **week30).stdout == f"message n°\u00a0{waiting['id']} annulé\n"
    smtpd.refuse.clear()
    assert cli("remind", "run", **week30).stdout == "0 mis en file, 0 envoyé, 0 à réessayer, 0 en échec\n"
    assert len(smtpd.received) == 5
    assert [r.rcpt_tos for r in smtpd.received].count(["refuse@example.org"]) == 1  # nothing more to refuse@
    assert smtpd.rcpt_tried.count("refuse@example.org") == 3  # refused, retried and sent, refused (then cancelled)
    (cancelled,) = json.loads(cli("outbox", "list", "--status", "cancelled", "--json", **week30).stdout)
    assert (cancelled["id"], cancelled["attempts"]) == (waiting["id"], 1)
    r = cli("outbox", "cancel", str(sent["id"]), code=1, **week30)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"preincub: le message n°\u00a0{sent['id']} est sent\u00a0;")

    # Both changes are in the audit trail, by the coordinator.
    w = Workflow.open(db_url, actor=COORD)
    try:
        with w.store.read() as s:
            events = s.execute(sa.text("SELECT action, actor, data FROM event WHERE action LIKE 'outbox.%' "
                                       "ORDER BY id")).all()
    finally:
        w.close()
    assert [(a, who, json.loads(d)) for a, who, d in events] == [
        ("outbox.retry", COORD, {"outbox": failed["id"], "key": bad}),
        ("outbox.cancelled", COORD, {"outbox": waiting["id"], "key": waiting["key"]})]
