"""End to end: the daemon sends the weekly reminder to a real SMTP server (aiosmtpd); the coach answers it
from their mail client, to its Reply-To. The reply comes in through ``inbox serve`` (a real LMTP session) or
through a real mailbox (Dovecot) that ``preincub inbox poll`` reads; the check-in shows in ``checkin list
--json`` with its labelled fields, and the confirmation reaches the coach, threaded under their reply."""

from __future__ import annotations

import smtplib
import threading
from contextlib import contextmanager
from datetime import timedelta
from email.utils import parseaddr

import pytest

from commands.inbox import bind, run_server
from tests.cli_helpers import data, invoke, ok
from tests.conftest import COORD, paris, ready_team, seed
from tests.delivery_fixtures import smtpd  # noqa: F401 - a fixture
from tests.dovecot import dovecot  # noqa: F401 - a fixture
from tests.mail_fixtures import reply
from tests.smtp import free_port
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.rules import replykey
from workflow.services.daemon import run_tick, trigger
from workflow.settings import Settings

KEY = "scenario-secret-key-0123456789abcdef"
REPLY = "points@programme.example"
COACH = "coach@example.org"
SELECTED = paris(2020, 7, 6, 9, 0)  # a Monday: the team enters investigation
TICK = paris(2020, 7, 13, 10, 0)  # the next Monday: the reminder of 2020-W29 is due
REPLIED = TICK + timedelta(hours=8)
BODY = ("Heures : 6\n\nNous avons rencontré les agents du service social : ils sont prêts à tester le "
        "nouveau formulaire la semaine prochaine.\n")
NOTES = ("Nous avons rencontré les agents du service social : ils sont prêts à tester le nouveau formulaire la "
         "semaine prochaine.")


@pytest.fixture
def store(tmp_path, smtpd):  # noqa: F811 - the fixture above
    """A SQLite file: team A in investigation since 6 July, coached by COACH; mail through ``smtpd``."""
    path = tmp_path / "preincub.db"
    settings = Settings(secret_key=KEY, reply_address=REPLY, smtp_url=smtpd.url,
                        smtp_from="Pré-incubation <preincub@programme.example>", base_url="https://preincub.example")
    wf = Workflow.open(str(path), clock=FixedClock(paris(2020, 7, 1, 10, 0)), actor=COORD, create=True,
                       settings=settings)
    seed(wf)
    ready_team(wf, "A")
    wf.at(FixedClock(SELECTED)).transitions.advance("A", "select")
    yield path, wf
    wf.close()


def reminder_sent(wf: Workflow, smtpd) -> tuple[str, str]:  # noqa: F811
    """The daemon's tick on Monday 10:00: the weekly reminder reaches the coach; its Reply-To and Message-ID."""
    assert run_tick(wf.at(FixedClock(TICK)), "daemon", cron=trigger("*/5 * * * *")).sent >= 1
    [got] = [r for r in smtpd.received if r.rcpt_tos == [COACH]]
    reply_to, message_id = got.msg["Reply-To"], got.msg["Message-ID"]
    assert parseaddr(reply_to)[1].startswith("points+") and message_id.startswith("<")
    return parseaddr(reply_to)[1], message_id


def the_reply(reply_to: str, message_id: str) -> bytes:
    return reply("gmail", to=reply_to, sender=COACH, sender_name="Coach Un", body=BODY, in_reply_to=message_id,
                 references=(message_id,), subject="Re: Point hebdomadaire 2020-W29 : A",
                 date="Mon, 13 Jul 2020 18:05:00 +0200")


def confirmed(wf: Workflow, smtpd, raw: bytes, reminder_id: str) -> None:  # noqa: F811
    """The next tick delivers the confirmation: to the coach, threaded under their reply, auto-replied, saying
    what was recorded."""
    from workflow.rules.mail import parse

    run_tick(wf.at(FixedClock(REPLIED + timedelta(minutes=5))), "daemon", cron=trigger("*/5 * * * *"))
    mine = parse(raw).message_id
    [answer] = [r.msg for r in smtpd.received if r.msg["In-Reply-To"] == mine]
    assert answer["To"].endswith(f"<{COACH}>") and answer["Auto-Submitted"] == "auto-replied"
    assert answer["References"] == f"{reminder_id} {mine}"  # the whole thread: a reply to it finds the key
    text = answer.get_body(("plain",)).get_content()
    assert "6" in text and "ils sont prêts à tester" in text and "https://preincub.example/checkin/" in text


def logged(path) -> None:
    """``checkin list --json``: the week's check-in, as the coach, with 6 hours and the paragraph as notes."""
    [c] = data(ok(invoke("checkin", "list", "--team", "A", "--json", db=path, now="2020-07-14", actor=COORD)))
    assert (c["author"], c["week"], c["hours"], c["notes"]) == (COACH, "2020-W29", 6, NOTES)


@contextmanager
def lmtp_server(wf: Workflow):
    sockets = bind("127.0.0.1", free_port())
    stop, ready = threading.Event(), threading.Event()
    t = threading.Thread(target=run_server, args=(wf, sockets), kwargs={"stop": stop, "ready": ready}, daemon=True)
    t.start()
    assert ready.wait(10)
    try:
        yield sockets[0].getsockname()[1]
    finally:
        stop.set()
        t.join(10)
        for s in sockets:
            s.close()


def test_a_reply_through_lmtp_is_the_weeks_check_in_and_is_confirmed(store, smtpd):  # noqa: F811
    path, wf = store
    reply_to, message_id = reminder_sent(wf, smtpd)
    raw = the_reply(reply_to, message_id)
    with lmtp_server(wf.at(FixedClock(REPLIED))) as port, smtplib.LMTP("127.0.0.1", port) as lmtp:
        assert lmtp.sendmail(COACH, [reply_to], raw) == {}
        assert lmtp.sendmail(COACH, [reply_to], raw) == {}  # delivered twice by the MTA: logged once
        # An out-of-office that sets no header of its own, sent with MAIL FROM:<> as RFC 3834 asks: ignored.
        away = reply("thunderbird", to=reply_to, sender=COACH, body="Je suis absent jusqu'au 20 juillet.")
        assert lmtp.sendmail("", [reply_to], away) == {}
    logged(path)
    confirmed(wf, smtpd, raw, message_id)
    assert len([r for r in smtpd.received if r.msg["Auto-Submitted"] == "auto-replied"]) == 1


def test_a_reply_through_an_imap_mailbox_is_the_weeks_check_in_and_is_confirmed(store, smtpd, dovecot):  # noqa: F811
    from imap_tools import MailBoxUnencrypted

    path, wf = store
    reply_to, message_id = reminder_sent(wf, smtpd)
    # Exchange drops the sub-address: the mail reaches the plain address; its In-Reply-To leads to the key.
    raw = the_reply(REPLY, message_id)
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(dovecot.user, dovecot.password) as box:
        box.append(raw, "INBOX")
    env = {"PREINCUB_IMAP_URL": dovecot.url(), "PREINCUB_REPLY_ADDRESS": REPLY, "PREINCUB_SECRET_KEY": KEY,
           "PREINCUB_BASE_URL": "https://preincub.example"}
    r = ok(invoke("inbox", "poll", "--json", db=path, now="2020-07-13 18:00", env=env, actor=COORD))
    assert data(r)["logged"] == 1
    logged(path)
    confirmed(wf, smtpd, raw, message_id)
    assert replykey.candidates(REPLY, [reply_to], []) != []
