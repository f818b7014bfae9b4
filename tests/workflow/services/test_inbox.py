"""A coach's reply to the weekly reminder, through the library alone (no server): the key, the sender, the
labelled lines, the rules of the form, the receipt and the answer, once per Message-ID. The servers (LMTP,
IMAP) and the parsers have their own tests; here each mail is small and plain."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlmodel import select

from tests import mail_fixtures
from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid
from workflow.rules import replykey
from workflow.settings import Settings
from workflow.store.models import CheckIn, Event, InboundMail, Outbox, Person, Team

KEY = "test-secret-key-0123456789abcdef"
TEAM = "Insertion RSA"
COACH = "coach@example.org"
REPLY = "points@programme.example"
WEEK = "2020-W28"  # 6 to 12 July 2020: the team's first week in investigation
SENT = paris(2020, 7, 6, 9, 0)  # the reminder's due time: its key's signing time


def at(w: Workflow, *args: int) -> Workflow:
    return w.at(FixedClock(paris(*args)))


@pytest.fixture
def w(wf):
    """A team in investigation since 6 July 2020, coached by COACH; replies taken at REPLY."""
    wf = wf.with_settings(Settings(secret_key=KEY, reply_address=REPLY, base_url="https://preincub.example"))
    seed(wf)
    ready_team(wf, TEAM)
    wf = at(wf, 2020, 7, 6, 9, 0)
    wf.transitions.advance(TEAM, "select")
    return at(wf, 2020, 7, 9, 18, 0)


def ids(w: Workflow, email: str = COACH) -> tuple[int, int]:
    with w.store.read() as s:
        return (s.exec(select(Person.id).where(Person.email == email)).one(),
                s.exec(select(Team.id).where(Team.name == TEAM)).one())


def key(w: Workflow, *, week: str = WEEK, generation: int = 0, secret: str = KEY, email: str = COACH) -> str:
    pid, tid = ids(w, email)
    return replykey.encode(secret, pid, tid, week, generation, SENT)


def mail(body: str, *, to: str | None = None, sender: str = COACH, message_id: str | None = None,
         in_reply_to: str | None = None, headers: dict[str, str] | None = None, html: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = f"Claire Martin <{sender}>"
    m["To"] = to or REPLY
    m["Subject"] = "Re: Point hebdomadaire 2020-W28 : Insertion RSA"
    m["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = in_reply_to
    for name, value in (headers or {}).items():
        m[name] = value
    m.set_content(body)
    if html is not None:
        m.add_alternative(html, subtype="html")
    return m.as_bytes()


def rows(w: Workflow, model):
    with w.store.read() as s:
        return list(s.exec(select(model)))


BODY = "Heures : 6\n\nNous avons rencontré les agents du service social : ils sont prêts à tester.\n"


def test_a_reply_with_hours_and_a_paragraph_is_the_weeks_check_in_and_is_answered(w):
    to = replykey.address(REPLY, key(w))
    r = w.inbox.receive(mail(BODY, to=to, message_id="<a1@mail.example.org>"), via="lmtp", recipients=[to])
    assert (r.outcome, r.reason, r.team, r.week, r.answered) == ("logged", None, TEAM, WEEK, True)
    [c] = w.checkins(team=TEAM)
    assert (c.id, c.author, c.hours, c.week, c.on) == (r.checkin, COACH, 6, WEEK, "2020-07-09")
    assert c.notes == "Nous avons rencontré les agents du service social : ils sont prêts à tester."
    [ev] = [e for e in rows(w, Event) if e.action == "checkin.log"]
    assert ev.actor == COACH and json.loads(ev.data)["via"] == "email"
    [got] = rows(w, InboundMail)
    assert (got.via, got.outcome, got.week, got.checkin_id) == ("lmtp", "logged", WEEK, c.id)
    [answer] = rows(w, Outbox)
    assert (answer.kind, answer.channel, answer.recipient, answer.lang, answer.in_reply_to) == (
        "reply", "email", COACH, "fr", "<a1@mail.example.org>")
    assert answer.subject.startswith("Point") or TEAM in answer.subject
    assert "6" in answer.body_text and "ils sont prêts à tester" in answer.body_text
    assert "https://preincub.example/checkin/" in answer.body_text  # how to correct it


def test_the_same_mail_delivered_twice_logs_once_and_answers_once(w):
    to = replykey.address(REPLY, key(w))
    raw = mail(BODY, to=to, message_id="<twice@mail.example.org>")
    assert w.inbox.receive(raw, via="lmtp").outcome == "logged"
    again = w.inbox.receive(raw, via="imap")
    assert (again.outcome, again.answered) == ("duplicate", False)
    assert len(w.checkins(team=TEAM)) == 1 and len(rows(w, Outbox)) == 1 and len(rows(w, InboundMail)) == 1


def test_a_second_reply_the_same_week_corrects_the_fields_it_gives(w):
    to = replykey.address(REPLY, key(w))
    w.inbox.receive(mail(BODY, to=to), via="lmtp")
    r = w.inbox.receive(mail("Heures : 7,5\nBlocages : pas de salle\n", to=to), via="lmtp")
    assert r.outcome == "corrected"
    [c] = w.checkins(team=TEAM)
    assert (c.hours, c.blockers) == (7.5, "pas de salle") and c.notes.startswith("Nous avons rencontré")
    answers = [o for o in rows(w, Outbox) if o.kind == "reply"]
    assert len(answers) == 2 and answers[0].subject != answers[1].subject  # "recorded", then "corrected"


def test_a_server_that_drops_the_sub_address_still_leads_to_the_key_through_in_reply_to(w):
    k = key(w)
    reminder_id = replykey.message_id(k, "0" * 64, "programme.example")
    r = w.inbox.receive(mail(BODY, to=REPLY, in_reply_to=reminder_id), via="imap")
    assert r.outcome == "logged"


def test_the_english_labels_are_read_too(w):
    to = replykey.address(REPLY, key(w))
    w.inbox.receive(mail("Hours: 4\nMood: 3\nNext steps: test with agents\n\nMet the team.", to=to), via="lmtp")
    [c] = w.checkins(team=TEAM)
    assert (c.hours, c.mood, c.next_steps, c.notes) == (4, 3, "test with agents", "Met the team.")


def refused_nothing_written(w: Workflow, r, reason: str) -> Outbox:
    """The refusal recorded with its reason, no check-in, one answer: returned."""
    assert (r.outcome, r.reason, r.answered) == ("refused", reason, True)
    assert w.checkins(team=TEAM) == []
    assert [(m.outcome, m.reason) for m in rows(w, InboundMail)] == [("refused", reason)]
    [answer] = rows(w, Outbox)
    return answer


def test_another_sender_is_refused_and_told_nothing_of_the_coach(w):
    to = replykey.address(REPLY, key(w))
    r = w.inbox.receive(mail("Heures : 60\nTout va mal", to=to, sender="intrus@example.net"), via="lmtp")
    answer = refused_nothing_written(w, r, "not_sender")
    assert answer.recipient == "intrus@example.net"
    assert COACH not in answer.body_text and TEAM not in answer.body_text and "Tout va mal" not in answer.body_text
    assert "checkin/" not in answer.body_text


def test_a_tampered_key_is_refused(w):
    k = key(w)
    tampered = k[:-1] + ("a" if k[-1] != "a" else "b")
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, tampered)), via="lmtp")
    answer = refused_nothing_written(w, r, "link_invalid")
    assert answer.recipient == COACH


def test_a_key_signed_with_another_secret_is_refused(w):
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, key(w, secret="another-secret-0123456789"))), via="lmtp")
    refused_nothing_written(w, r, "link_invalid")


def test_a_mail_with_no_key_at_all_is_refused_and_answered(w):
    r = w.inbox.receive(mail(BODY, to=REPLY), via="lmtp")
    answer = refused_nothing_written(w, r, "no_key")
    assert answer.recipient == COACH and answer.in_reply_to is not None


def test_an_expired_key_is_refused_with_the_link_of_this_weeks_form(w):
    late = at(w, 2020, 7, 22, 9, 0)  # 16 days after the reminder
    r = late.inbox.receive(mail(BODY, to=replykey.address(REPLY, key(w))), via="lmtp")
    answer = refused_nothing_written(late, r, "link_expired")
    assert "/checkin/" in answer.body_text and "2020-W30" in answer.body_text


def test_a_revoked_key_is_refused_without_a_link(w):
    k = key(w)
    w.links.revoke(COACH)
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, k)), via="lmtp")
    answer = refused_nothing_written(w, r, "link_revoked")
    assert "/checkin/" not in answer.body_text


def test_a_coach_removed_from_the_team_is_refused(w):
    k = key(w)
    w.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    w.teams.edit(TEAM, coach="coach2@example.org")
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, k)), via="lmtp")
    refused_nothing_written(w, r, "no_longer_coach")


def test_a_reply_over_100_kb_of_text_is_refused(w):
    r = w.inbox.receive(mail("Heures : 6\n\n" + "bla " * 30000, to=replykey.address(REPLY, key(w))), via="lmtp")
    answer = refused_nothing_written(w, r, "too_large")
    assert "100" in answer.body_text


def test_the_rules_of_the_form_apply_a_check_in_needs_notes(w):
    r = w.inbox.receive(mail("Heures : 6\n", to=replykey.address(REPLY, key(w))), via="lmtp")
    answer = refused_nothing_written(w, r, "needs_notes")
    assert "/checkin/" in answer.body_text  # the form of that week, the key still standing


def test_a_bad_number_is_refused_with_its_reason(w):
    r = w.inbox.receive(mail("Heures : beaucoup\n\nNotes.", to=replykey.address(REPLY, key(w))), via="lmtp")
    assert r.outcome == "refused" and w.checkins(team=TEAM) == []


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"List-Id": "<liste.example.org>"}, {"X-Autoreply": "yes"}])
def test_auto_replies_are_ignored_silently(w, headers):
    r = w.inbox.receive(mail("Je suis absente jusqu'au 20 juillet.", to=replykey.address(REPLY, key(w)),
                             headers=headers), via="lmtp")
    assert (r.outcome, r.answered) == ("ignored", False)
    assert rows(w, Outbox) == [] and w.checkins(team=TEAM) == []
    assert [m.outcome for m in rows(w, InboundMail)] == ["ignored"]


def test_a_mailer_daemon_is_ignored(w):
    r = w.inbox.receive(mail("Delivery failed", to=replykey.address(REPLY, key(w)),
                             sender="MAILER-DAEMON@mail.example.org"), via="lmtp")
    assert r.outcome == "ignored" and rows(w, Outbox) == []


def test_inbox_status_counts_what_came_of_the_mail(w):
    to = replykey.address(REPLY, key(w))
    w.inbox.receive(mail(BODY, to=to), via="lmtp")
    w.inbox.receive(mail(BODY, to=to, sender="intrus@example.net"), via="imap")
    w.inbox.receive(mail("absent", to=to, headers={"Auto-Submitted": "auto-replied"}), via="imap")
    st = w.inbox.status()
    assert (st.received, st.logged, st.refused, st.ignored) == (3, 1, 1, 1)
    assert {(c.outcome, c.reason, c.count) for c in st.counts} == {("logged", None, 1), ("refused", "not_sender", 1),
                                                                   ("ignored", "auto_submitted", 1)}
    assert [e.outcome for e in st.entries] == ["ignored", "refused", "logged"]
    assert st.entries[2].person == COACH and st.entries[2].team == TEAM
    assert st.until == "2020-07-09" and st.since == "2020-07-03"
    assert at(w, 2020, 7, 20, 9, 0).inbox.status().received == 0
    with pytest.raises(Invalid):
        from datetime import date
        w.inbox.status(since=date(2020, 7, 9), until=date(2020, 7, 1))


def test_accepts_the_reply_address_with_or_without_a_key_only(w):
    assert w.inbox.accepts("points@programme.example") and w.inbox.accepts("<Points+abc@PROGRAMME.example>")
    assert not w.inbox.accepts("autre@programme.example") and not w.inbox.accepts("")
    assert not w.with_settings(Settings(secret_key=KEY)).inbox.accepts(REPLY)


def test_only_an_administrator_with_a_reply_address_may_receive(w):
    w.inbox.may_receive()  # the seed's actor is an administrator
    with pytest.raises(Invalid) as e:
        w.with_settings(Settings(secret_key=KEY)).inbox.may_receive()
    assert e.value.code == "no_reply_address"
    with pytest.raises(Forbidden):
        w.acting_as(COACH).inbox.may_receive()


# ---- the replies of real mail clients (tests/mail_fixtures.py) ---------------------------------------

@pytest.mark.parametrize("style", mail_fixtures.STYLES)
def test_a_reply_from_each_mail_client_logs_its_hours_and_paragraph(w, style):
    raw = mail_fixtures.reply(style, to=replykey.address(REPLY, key(w)), sender=COACH,
                              attachments=(("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),))
    r = w.inbox.receive(raw, via="imap")
    assert r.outcome == "logged", r
    [c] = w.checkins(team=TEAM)
    assert c.hours == 6 and c.notes == mail_fixtures.DEFAULT_BODY.split("\n\n", 1)[1]
    [answer] = rows(w, Outbox)
    assert "attachment" in answer.body_text or "pièce" in answer.body_text  # said to be ignored


def test_an_out_of_office_and_a_bounce_are_ignored_and_never_answered(w):
    to = replykey.address(REPLY, key(w))
    assert w.inbox.receive(mail_fixtures.out_of_office(to=to, sender=COACH), via="lmtp").outcome == "ignored"
    assert w.inbox.receive(mail_fixtures.bounce(to=to, original_message_id="<x@programme.example>"),
                           via="lmtp").outcome == "ignored"
    assert rows(w, Outbox) == [] and w.checkins(team=TEAM) == []


def test_a_forwarded_reminder_answered_by_someone_else_is_refused(w):
    original = mail_fixtures.reply("gmail", to=replykey.address(REPLY, key(w)), sender=COACH)
    r = w.inbox.receive(mail_fixtures.forwarded(to=replykey.address(REPLY, key(w)), sender="collegue@example.org",
                                                original=original), via="lmtp")
    answer = refused_nothing_written(w, r, "not_sender")
    assert answer.recipient == "collegue@example.org"


def test_a_reply_to_last_weeks_reminder_logs_last_week(w):
    later = at(w, 2020, 7, 14, 9, 0)  # Tuesday of 2020-W29: the coach answers the reminder of 2020-W28
    r = later.inbox.receive(mail_fixtures.reply("outlook_fr", to=replykey.address(REPLY, key(w)), sender=COACH),
                            via="lmtp")
    assert (r.outcome, r.week) == ("logged", WEEK)
    [c] = later.checkins(team=TEAM)
    assert (c.week, c.on) == (WEEK, "2020-07-12")  # the Sunday of that week, as the form does


# ---- what a hostile or odd mail cannot do ------------------------------------------------------------

def test_an_empty_envelope_sender_is_a_bounce_or_an_auto_reply_and_is_ignored(w):
    r = w.inbox.receive(mail("Je suis absente.", to=replykey.address(REPLY, key(w))), via="lmtp",
                        envelope_sender="")
    assert (r.outcome, r.reason) == ("ignored", "bounce") and w.checkins(team=TEAM) == [] and rows(w, Outbox) == []


@pytest.mark.parametrize("sender", [f"{COACH}, intrus@example.net", f"intrus@example.net, {COACH}"])
def test_a_mail_from_two_authors_is_refused_and_not_answered(w, sender):
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, key(w)), sender=sender), via="lmtp")
    assert (r.outcome, r.reason, r.answered) == ("refused", "not_sender", False)
    assert w.checkins(team=TEAM) == [] and rows(w, Outbox) == []


def test_a_stranger_is_greeted_by_no_name_and_answered_a_few_times_a_day_at_most(w):
    m = EmailMessage()
    m["From"] = '"<b>Gagnez</b> 1000 EUR sur evil.example" <victim@else.example>'
    m["To"] = REPLY
    m.set_content("x")
    for i in range(7):
        del m["Message-ID"]
        m["Message-ID"] = f"<spam{i}@evil.example>"
        w.inbox.receive(m.as_bytes(), via="lmtp")
    answers = rows(w, Outbox)
    assert len(answers) == 5 and len(rows(w, InboundMail)) == 7
    assert all("Gagnez" not in a.body_text + a.body_html and a.recipient_name == "" for a in answers)


def test_the_senders_own_key_is_taken_when_several_are_given(w):
    w.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    theirs, mine = key(w, email="coach2@example.org"), key(w)
    r = w.inbox.receive(mail(BODY, to=replykey.address(REPLY, theirs),
                             headers={"Cc": replykey.address(REPLY, mine)}), via="lmtp")
    assert r.outcome == "logged"


def test_a_correction_that_names_no_day_keeps_the_check_ins_day(w):
    to = replykey.address(REPLY, key(w))
    w.inbox.receive(mail("Date : 06/07/2020\n\nNotes du lundi.", to=to), via="lmtp")
    w.inbox.receive(mail("Heures : 7", to=to), via="lmtp")
    [c] = w.checkins(team=TEAM)
    assert (c.on, c.hours, c.notes) == ("2020-07-06", 7, "Notes du lundi.")


def test_the_answer_is_threaded_under_the_whole_thread_and_links_nothing_the_coach_wrote(w):
    k = key(w)
    reminder = replykey.message_id(k, "0" * 64, "programme.example")
    raw = mail("Heures : 6\n\nvoir\n\nhttps://evil.example/login", to=REPLY, in_reply_to=reminder,
               message_id="<r1@mail.example.org>")
    assert w.inbox.receive(raw, via="lmtp").outcome == "logged"
    [answer] = rows(w, Outbox)
    assert answer.in_reply_to == f"{reminder} <r1@mail.example.org>"
    assert 'href="https://evil.example' not in answer.body_html and "https://evil.example/login" in answer.body_html


def test_another_domain_is_not_the_reply_address(w):
    assert not w.inbox.accepts("points@evil.example") and w.inbox.accepts("POINTS@Programme.Example")
