"""What goes out for replies by e-mail: the weekly reminder's Reply-To with a signed key (also first in its
Message-ID), the same at every attempt, and an answer threaded under the mail it answers (RFC 3834), through
a real SMTP server and read back with the strict parser."""

from __future__ import annotations

import email
import hashlib
import json
from datetime import timedelta
from email import policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from notifications.message import OutboxStatus
from tests.conftest import COORD, paris
from tests.delivery_fixtures import WEEK, coaching_key, configure, investigation, person_id, row, run_cli
from tests.smtp import free_port
from workflow.clock import FixedClock
from workflow.rules import replykey
from workflow.services.delivery import message_id_local
from workflow.services.links import Links
from workflow.store import outbox as outbox_rows

REPLY = "points@programme.example"
SENDER = "Préincub <bot@programme.example>"


def strict(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.strict)
    assert not parsed.defects
    return parsed


def coach(wf, name="Coach Un", addr="coach@example.org", channels=None, lang=None) -> str:
    wf.directory.add_person(name, addr, ["coach"], channels=channels, lang=lang)
    return addr


def replying(wf, smtpd, **values):
    return configure(wf, smtp_url=smtpd.url, smtp_from=SENDER, reply_address=REPLY, **values)


def key_of(parsed) -> str:
    """The key of a Reply-To ``points+KEY@programme.example``."""
    (addr,) = parsed["Reply-To"].addresses
    local, _, domain = addr.addr_spec.rpartition("@")
    base, _, key = local.partition("+")
    assert (base, domain, addr.display_name) == ("points", "programme.example", "")
    return key


# ---- the weekly reminder -----------------------------------------------------------------------------

def test_a_weekly_reminder_carries_a_reply_address_whose_key_says_who_which_team_which_week(wf, smtpd):
    wf, ids = investigation(wf, [("Alpha", coach(wf))])
    wf = replying(wf, smtpd)
    assert wf.reminders.tick().sent == 1
    parsed = strict(smtpd.received[0].raw)
    key = key_of(parsed)
    found = replykey.decode(Links(wf.ctx).key(), key)
    pid = person_id(wf, "coach@example.org")
    assert (found.person_id, found.team_id, found.week, found.generation) == (pid, ids["Alpha"], WEEK, 0)
    outbox_key = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    # Signed as of the reminder's due time (9:00, the weekly hour), not the sending's (the tick at 10:00).
    assert found.signed_at == row_of(wf, outbox_key).due_at == paris(2020, 7, 13, 9, 0)
    assert replykey.decode("another secret key, long enough", key) is None
    # The key is also first in the Message-ID (for servers that drop sub-addresses), then the key's digest.
    digest = hashlib.sha256(outbox_key.encode()).hexdigest()[:16]
    assert parsed["Message-ID"] == f"<{key}.{digest}@programme.example>"
    assert replykey.candidates(REPLY, [], [parsed["Message-ID"]]) == [key]
    assert replykey.candidates(REPLY, [parsed["Reply-To"].addresses[0].addr_spec], []) == [key]
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"], parsed["Precedence"]) == (
        "auto-generated", "OOF", "bulk")
    assert parsed["In-Reply-To"] is None and parsed["References"] is None


def test_without_a_reply_address_nothing_changes(wf, smtpd):
    wf, ids = investigation(wf, [("Alpha", coach(wf))])
    wf = configure(wf, smtp_url=smtpd.url, smtp_from=SENDER)
    assert wf.reminders.tick().sent == 1
    parsed = strict(smtpd.received[0].raw)
    outbox_key = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    assert parsed["Reply-To"] is None
    assert parsed["Message-ID"] == f"<{hashlib.sha256(outbox_key.encode()).hexdigest()[:40]}@programme.example>"
    body = parsed.get_body(("plain",)).get_content()
    assert "points" not in body and "Heures" not in body
    assert Links(wf.ctx).reply_addresses([row_of(wf, outbox_key)]) == {}


def row_of(wf, key: str):
    """The outbox row itself (as delivery claims it)."""
    from sqlmodel import select

    from workflow.store.models import Outbox

    with wf.store.read() as s:
        r = s.exec(select(Outbox).where(Outbox.key == key)).one()
        s.expunge(r)
        return r


def test_only_the_weekly_reminder_by_email_gets_a_reply_address(wf, smtpd, webhook):
    wf, ids = investigation(wf, [("Alpha", coach(wf, channels=["email", "chat"]))])
    wf = replying(wf, smtpd, webhook_url=webhook.url)
    assert wf.reminders.tick().sent == 2
    # The week after: the weekly reminder again, and the coordinator's alert of the missed week (no Reply-To).
    wf = wf.at(FixedClock(paris(2020, 7, 20, 10, 0)))
    assert wf.reminders.tick().sent == 3
    got = [(r.rcpt_tos[0], strict(r.raw)) for r in smtpd.received]
    assert [(to, m["Reply-To"] is not None) for to, m in got] == [
        ("coach@example.org", True), ("coach@example.org", True), (COORD, False)]
    w29, w30 = (replykey.decode(Links(wf.ctx).key(), key_of(m)).week for _, m in got[:2])
    assert (w29, w30) == ("2020-W29", "2020-W30")
    # The e-mail says how to reply; the chat message of the same reminder does not (one cannot answer it).
    mail_text = got[0][1].get_body(("plain",)).get_content()
    assert "Heures : 6" in mail_text
    chats = [h["json"]["text"] for h in webhook.requests]
    assert len(chats) == 2 and not any("Heures" in t or "points" in t for t in chats)


class _Flaky:
    """An SMTP server that records every message it is sent and answers each DATA with the next reply."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.raws = replies, []

    async def handle_DATA(self, server, session, envelope):
        self.raws.append(envelope.original_content or envelope.content)
        return self.replies.pop(0) if self.replies else "250 OK"


@pytest.fixture
def flaky():
    handler = _Flaky(["451 4.3.0 try again later"])
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SimpleNamespace(url=f"smtp://127.0.0.1:{port}", handler=handler)
    controller.stop()


def test_a_retry_sends_the_same_reply_address_and_message_id_a_revoked_person_a_new_key(wf, flaky, wall):
    wf, ids = investigation(wf, [("Alpha", coach(wf)), ("Beta", coach(wf, "Coach Deux", "coach2@example.org"))])
    wf = configure(wf, smtp_url=flaky.url, smtp_from=SENDER, reply_address=REPLY, retry_base_seconds=60).at(wall)
    tick = wf.reminders.tick()
    assert (tick.sent, tick.retry) == (1, 1)  # the first message was refused for now (451)
    first = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    assert row(wf, first).status == "pending"
    wall.advance(3600)  # an hour later
    assert wf.delivery.deliver()["sent"] == 1
    refused, other, retried = (strict(r) for r in flaky.handler.raws)
    assert (refused["Reply-To"], refused["Message-ID"]) == (retried["Reply-To"], retried["Message-ID"])
    assert refused["Reply-To"] != other["Reply-To"] and refused["Message-ID"] != other["Message-ID"]

    # The person's links revoked: a message sent after carries a key of the new generation.
    generation = wf.links.revoke("coach@example.org")
    assert generation == 1
    r = row_of(wf, first)
    (addr, key), = Links(wf.ctx).reply_addresses([r]).values()
    found = replykey.decode(Links(wf.ctx).key(), key)
    assert (found.person_id, found.generation) == (person_id(wf, "coach@example.org"), 1)
    assert addr == f"points+{key}@programme.example" and addr != retried["Reply-To"]
    assert message_id_local(key, first).startswith(key + ".")


def test_a_message_retried_after_its_person_s_links_were_revoked_carries_a_key_of_the_new_generation(
        wf, flaky, wall):
    wf, ids = investigation(wf, [("Alpha", coach(wf))])
    wf = configure(wf, smtp_url=flaky.url, smtp_from=SENDER, reply_address=REPLY, retry_base_seconds=60).at(wall)
    assert wf.reminders.tick().retry == 1  # refused for now (451)
    assert wf.links.revoke("coach@example.org") == 1
    wall.advance(60)
    assert wf.delivery.deliver()["sent"] == 1
    before, after = (strict(r) for r in flaky.handler.raws)
    secret = Links(wf.ctx).key()
    old, new = (replykey.decode(secret, key_of(m)) for m in (before, after))
    assert (old.generation, new.generation) == (0, 1)
    assert (old.person_id, old.team_id, old.week) == (new.person_id, new.team_id, new.week)
    assert after["Message-ID"].startswith(f"<{key_of(after)}.") and after["Message-ID"] != before["Message-ID"]


def test_reply_addresses_skip_what_is_not_a_weekly_reminder_of_a_person_in_the_store(wf, smtpd):
    wf, ids = investigation(wf, [("Alpha", coach(wf))])
    wf = replying(wf, smtpd)
    pid, team = person_id(wf, "coach@example.org"), ids["Alpha"]
    at = paris(2020, 7, 13, 9, 0)

    def out(id_, key, kind="coaching", channel="email", reminder=f"coaching:{team}:{WEEK}", team_id=team):
        return SimpleNamespace(id=id_, key=key, kind=kind, channel=channel, reminder=reminder, team_id=team_id,
                               due_at=at)

    good = f"coaching:{team}:{WEEK}:p{pid}:email"
    rows = [out(1, good), out(2, f"coaching:{team}:{WEEK}:p999999:email"),  # no such person
            out(3, f"coaching:{team}:{WEEK}:p{pid}:chat", channel="chat"),  # not an e-mail
            out(4, f"missed_coaching:{team}:{WEEK}:p{pid}:email", kind="missed_coaching",
                reminder=f"missed_coaching:{team}:{WEEK}"),
            out(5, "reply:" + "a" * 40, kind="reply", reminder="reply:" + "a" * 40, team_id=None),
            out(6, good, team_id=team + 1),  # a row that does not hold together
            out(7, f"coaching:{team}:{WEEK}:p{2 ** 40}:email")]  # beyond the key's fields: no Reply-To, no error
    found = Links(wf.ctx).reply_addresses(rows)
    assert list(found) == [1]
    # Made again at any time, the same (signed as of the reminder's due time).
    later = Links(wf.at(FixedClock(at + timedelta(days=3))).ctx).reply_addresses(rows)
    assert later == found
    # An erased person: no Reply-To.
    wf.privacy.erase("coach@example.org", "a request under GDPR article 17")
    assert Links(wf.ctx).reply_addresses(rows) == {}


# ---- an answer ----------------------------------------------------------------------------------------

def queue_answer(wf, in_reply_to: str | None, key: str = "reply:" + "b" * 40) -> str:
    """An answer row as the inbox queues it (kind reply, no team)."""
    now = wf.ctx.clock.now()
    with wf.store.write() as s:
        outbox_rows.insert_new(s, wf.store.dialect, [{
            "key": key, "reminder": key, "kind": "reply", "channel": "email", "recipient": "coach@example.org",
            "recipient_name": "Coach Un", "lang": "fr", "subject": "Re: Point hebdomadaire 2020-W29",
            "body_text": "Votre point est enregistré.\n", "body_html": "<p>Votre point est enregistré.</p>",
            "team_id": None, "programme_id": None, "due_at": now, "stale_at": now + timedelta(days=2),
            "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": wf.ctx.clock.wall(),
            "created_at": now, "in_reply_to": in_reply_to}])
    return key


def test_an_answer_is_threaded_under_the_mail_it_answers_and_says_it_is_automatic(wf, smtpd):
    wf, _ = investigation(wf, [("Alpha", coach(wf))])
    wf = replying(wf, smtpd)
    answered = "<CAF=xyz+1@mail.gmail.com>"
    key = queue_answer(wf, answered)
    assert wf.delivery.deliver()["sent"] == 1
    (r,) = smtpd.received
    parsed = strict(r.raw)
    assert (parsed["In-Reply-To"], parsed["References"]) == (answered, answered)
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"], parsed["Precedence"]) == (
        "auto-replied", "OOF", "bulk")
    assert parsed["Reply-To"] is None and parsed["List-Unsubscribe"] is None
    assert parsed["X-Preincub-Key"] == key and r.rcpt_tos == ["coach@example.org"]
    assert row(wf, key).status == "sent"


def test_an_answer_row_reads_in_the_outbox_status_and_export_commands(wf, db_url, smtpd):
    wf, _ = investigation(wf, [("Alpha", coach(wf))])
    key = queue_answer(wf, "<a@b.example>")
    wf.close()
    env = {"PREINCUB_SMTP_URL": smtpd.url, "PREINCUB_REPLY_ADDRESS": REPLY}
    listed = run_cli("outbox", "list", "--json", db=db_url, env=env)
    assert listed.exit_code == 0, listed.stderr
    assert key in [m["key"] for m in json.loads(listed.stdout)]
    for args in (("outbox", "list"), ("status",), ("status", "--json"), ("person", "export", "coach@example.org")):
        r = run_cli(*args, db=db_url, env=env)
        assert r.exit_code == 0 and "Traceback" not in r.stderr, (args, r.stdout, r.stderr)
    r = run_cli("daemon", "status", "--json", db=db_url, env=env)  # unhealthy (1): it never ran; the answer counted
    assert r.exit_code == 1 and json.loads(r.stdout)["pending"] == 1, (r.stdout, r.stderr)
    sent = run_cli("remind", "run", db=db_url, env=env)
    assert sent.exit_code == 0, sent.stderr
    # The tick sent the answer and the week's reminder: each with its own Auto-Submitted.
    assert sorted((m["X-Preincub-Key"].partition(":")[0], m["Auto-Submitted"]) for m in smtpd.messages()) == [
        ("coaching", "auto-generated"), ("reply", "auto-replied")]
