"""Formal notices through the library, on both stores: the one-month clock across month ends and DST
(one rule: an answer on the day one month later is in time; terminable from the day after),
the terminable reminder (planned, enqueued once, delivered, caught up, silent once answered), refusals."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import COORD, paris
from tests.smtp import smtp_server
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.rules.deadlines import answer_by, terminable_on
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.store.models import Event, Notice, Outbox, Person

PROG = "Trait d'union"  # seed 2: signed on 23 and 31 October 2019, it takes effect on the 31st
PARTNER = "Grand Est"
COORD2 = "coord2@example.org"
COACH = "coach@example.org"
NB = "\u00a0"


def at(w: Workflow, *when: int) -> Workflow:
    return w.at(FixedClock(paris(*when)))


@pytest.fixture
def prog(wf):
    """Seed 2's agreement with Grand Est; two coordinators (one reads English) and a coach."""
    wf.directory.add_programme(PROG, [date(2019, 10, 23), date(2019, 10, 31)], kind="fast", months=24)
    wf.directory.add_partner(PARTNER, PROG, kind="region")
    wf.directory.add_partner("Moselle", PROG)
    wf.directory.add_person("Coord Deux", COORD2, ["coordinator"], lang="en")
    wf.directory.add_person("Coach Un", COACH, ["coach"])
    return wf


def notice(w: Workflow, on: date, breach: str = "Agent non libéré à 50 %", partner: str = PARTNER):
    """A notice sent on ``on``, recorded that day at noon."""
    w = at(w, on.year, on.month, on.day, 12, 0)
    return w.notices.add(PROG, partner, on, breach)


def notice_rows(w: Workflow) -> dict[str, list[Outbox]]:
    """The outbox rows of terminable notices, by reminder key."""
    with w.store.read() as s:
        rows = s.exec(select(Outbox).where(Outbox.kind == "notice_terminable").order_by(Outbox.id)).all()
    out: dict[str, list[Outbox]] = {}
    for r in rows:
        out.setdefault(r.reminder, []).append(r)
    return out


def counts(w: Workflow) -> tuple[int, int, int]:
    with w.store.read() as s:
        return tuple(s.execute(select(sa.func.count()).select_from(m)).scalar_one() for m in (Notice, Event, Outbox))


# ---- the one-month clock ---------------------------------------------------------------------------

# (notice, the last day to answer it: one calendar month later, a month end clamping)
MONTH_ENDS = [
    (date(2021, 1, 31), date(2021, 2, 28)),  # non-leap: clamped to the end of February
    (date(2021, 1, 28), date(2021, 2, 28)),
    (date(2020, 1, 31), date(2020, 2, 29)),  # leap year
    (date(2020, 1, 30), date(2020, 2, 29)),
    (date(2020, 2, 29), date(2020, 3, 29)),
    (date(2021, 3, 31), date(2021, 4, 30)),
    (date(2020, 12, 31), date(2021, 1, 31)),  # across the year's end
    (date(2019, 10, 31), date(2019, 11, 30)),  # the day the agreement takes effect
]


@pytest.mark.parametrize("on,last", MONTH_ENDS, ids=[f"{a}->{b}" for a, b in MONTH_ENDS])
def test_a_notice_left_unanswered_a_month_makes_the_agreement_terminable_the_day_after(prog, on, last):
    wf = prog
    day = last + timedelta(days=1)
    assert (answer_by(on), terminable_on(on)) == (last, day)
    n = notice(wf, on)
    assert (n.on, n.terminable_on, n.state, n.answered_on) == (on.isoformat(), day.isoformat(), "pending", None)
    wf = at(wf, last.year, last.month, last.day, 23, 59)  # the last day to answer: still running
    assert wf.notices.terminable(PROG) == [] and [r.state for r in wf.notices.listing(PROG)] == ["pending"]
    wf = at(wf, day.year, day.month, day.day, 0, 0)
    (flag,) = wf.notices.terminable(PROG)
    assert (flag.id, flag.partner, flag.terminable_on, flag.state) == (n.id, PARTNER, day.isoformat(), "terminable")
    assert wf.notices.terminable() == [flag]  # every programme's


def test_one_rule_on_the_last_day_in_time_everywhere(prog):
    """A notice of 2 October 2020: the 2nd of November is the last day to answer. That day the agreement
    is not terminable (no flag, no reminder, state pending), an answer dated that day is in time; the
    reminder is planned at midnight, Paris, on the 3rd, when the flag appears."""
    wf = prog
    n = notice(wf, date(2020, 10, 2))
    key = f"notice:{n.id}:terminable"
    wf = at(wf, 2020, 11, 2, 23, 59)
    assert wf.notices.terminable(PROG) == [] and wf.reminders.enqueue() == 0
    assert [r.state for r in wf.notices.listing(PROG)] == ["pending"]
    (planned,) = [p for p in wf.reminders.preview(paris(2020, 11, 5, 0, 0)) if p.reminder == key][:1]
    assert planned.at == "2020-11-03T00:00:00+01:00"
    wf = at(wf, 2020, 11, 3, 0, 0)
    (flag,) = wf.notices.terminable(PROG)
    assert flag.terminable_on == "2020-11-03"
    assert wf.notices.answer(n.id, date(2020, 11, 2), "Réponse reçue le 2 novembre.").state == "answered"
    assert wf.notices.terminable(PROG) == []


@pytest.mark.parametrize("answered,state", [(0, "answered"), (-1, "answered"), (1, "answered_late")],
                         ids=["on-the-day", "the-day-before", "the-day-after"])
def test_an_answer_on_or_before_the_last_day_stops_the_clock(prog, answered, state):
    wf = prog
    n = notice(wf, date(2021, 1, 31))  # to be answered by 28 February 2021, terminable from 1 March
    on = date(2021, 2, 28) + timedelta(days=answered)
    wf = at(wf, 2021, 3, 10, 9, 0)
    rec = wf.notices.answer(n.id, on, "Agent libéré à 50 % depuis le 15 février.")
    assert (rec.state, rec.answered_on, rec.answer) == (state, on.isoformat(), "Agent libéré à 50 % depuis le 15 février.")
    assert wf.notices.terminable(PROG) == []  # answered, even late: nothing left to flag
    assert [r.state for r in wf.notices.listing(PROG)] == [state]


def test_records_are_frozen_and_every_change_is_audited(prog):
    wf = prog
    n = notice(wf, date(2020, 11, 2), "Bilan non transmis")
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.state = "answered"  # type: ignore[misc]
    wf = at(wf, 2020, 11, 20, 9, 0)
    wf.notices.answer(n.id, date(2020, 11, 20), "Bilan transmis.")
    with wf.store.read() as s:
        events = s.exec(select(Event).where(Event.action.like("notice.%")).order_by(Event.id)).all()
    assert [(e.action, e.actor, e.reason, json.loads(e.data)) for e in events] == [
        ("notice.add", COORD, "Bilan non transmis",
         {"notice": n.id, "programme": PROG, "partner": PARTNER, "on": "2020-11-02", "terminable_on": "2020-12-03"}),
        ("notice.answer", COORD, "Bilan transmis.",
         {"notice": n.id, "programme": PROG, "partner": PARTNER, "on": "2020-11-20", "state": "answered"})]


# ---- refusals: one clear error, nothing written ------------------------------------------------------

def test_refusals_write_nothing(prog):
    wf = prog
    n = notice(wf, date(2020, 11, 2), "Bilan non transmis")
    wf = at(wf, 2020, 11, 16, 10, 0)
    before = counts(wf)
    cases = [
        (lambda: wf.notices.add(PROG, PARTNER, date(2020, 11, 17), "x"), Invalid, "notice_in_future"),
        (lambda: wf.notices.add(PROG, PARTNER, date(2019, 10, 30), "x"), Invalid, "notice_before_agreement"),
        (lambda: wf.notices.add(PROG, PARTNER, date(2020, 11, 2), "Bilan non transmis"), Invalid, "notice_exists"),
        (lambda: wf.notices.add(PROG, "Nord", date(2020, 11, 2), "x"), NotFound, "unknown_partner"),
        (lambda: wf.notices.add("Inconnu", PARTNER, date(2020, 11, 2), "x"), NotFound, "unknown_programme"),
        (lambda: wf.notices.add(PROG, PARTNER, date(2020, 11, 2), "  "), Invalid, "invalid"),
        (lambda: wf.notices.add(PROG, PARTNER, date(1999, 11, 2), "x"), Invalid, "invalid"),
        (lambda: wf.notices.answer(n.id, date(2020, 11, 1), "x"), Invalid, "answer_before_notice"),
        (lambda: wf.notices.answer(n.id, date(2020, 11, 17), "x"), Invalid, "answer_in_future"),
        (lambda: wf.notices.answer(n.id, date(2020, 11, 10), "\x1b[31m"), Invalid, "invalid"),
        (lambda: wf.notices.answer(n.id + 1, date(2020, 11, 10), "x"), NotFound, "unknown_notice"),
        (lambda: wf.acting_as(COACH).notices.add(PROG, PARTNER, date(2020, 11, 3), "x"), Forbidden, "role_needed"),
        (lambda: wf.acting_as(COACH).notices.answer(n.id, date(2020, 11, 10), "x"), Forbidden, "role_needed"),
    ]
    for call, cls, code in cases:
        with pytest.raises(cls) as caught:
            call()
        assert caught.value.code == code, (code, caught.value)
    assert counts(wf) == before
    wf.notices.answer(n.id, date(2020, 11, 10), "Bilan transmis.")
    with pytest.raises(Invalid) as twice:
        wf.notices.answer(n.id, date(2020, 11, 12), "Encore.")
    assert twice.value.code == "notice_answered"
    assert twice.value.text("en") == "formal notice #1 was already answered, on November 10, 2020"
    assert twice.value.text("fr") == "la mise en demeure n°\u00a01 a déjà reçu une réponse, le 10 novembre 2020"
    assert [r.answer for r in wf.notices.listing()] == ["Bilan transmis."]


def test_only_those_who_read_every_team_see_notices(prog):
    wf = prog
    notice(wf, date(2020, 10, 1))
    wf = at(wf, 2020, 11, 16, 10, 0)
    coach = wf.acting_as(COACH)
    for read in (coach.notices.listing, coach.notices.terminable):
        with pytest.raises(Forbidden):
            read(PROG)
    assert coach.notices.flags(PROG) == []  # status, read by a coach: no flag, no refusal
    assert [r.state for r in wf.notices.flags(PROG)] == ["terminable"]
    wf.directory.add_person("Comité", "comite@example.org", ["committee"])
    assert [r.state for r in wf.acting_as("comite@example.org").notices.flags()] == ["terminable"]


# ---- the reminder: on the right Paris day, across DST ------------------------------------------------

# (notice, the day it makes the agreement terminable, UTC offset of midnight in Paris on that day)
DST = [
    (date(2021, 2, 27), date(2021, 3, 28), 1),  # the spring change's own day: midnight is still winter time
    (date(2021, 3, 28), date(2021, 4, 29), 2),  # a notice on the change's day: a summer-time midnight
    (date(2021, 9, 29), date(2021, 10, 30), 2),  # the eve of the autumn change
    (date(2021, 9, 30), date(2021, 10, 31), 2),  # the autumn change's own day: midnight is still summer time
    (date(2021, 10, 1), date(2021, 11, 2), 1),  # after it
    (date(2021, 10, 31), date(2021, 12, 1), 1),  # a notice on the autumn change's day
]


@pytest.mark.parametrize("on,day,offset", DST, ids=[str(d) for _, d, _ in DST])
def test_the_reminder_fires_at_midnight_paris_on_its_day_across_dst(prog, on, day, offset):
    wf = prog
    n = notice(wf, on)
    assert terminable_on(on) == day
    key = f"notice:{n.id}:terminable"
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - timedelta(hours=offset)
    eve = midnight - timedelta(minutes=1)
    # A minute before midnight in Paris, nothing is due; the preview plans it at midnight, Paris time.
    wf = wf.at(FixedClock(eve))
    assert wf.reminders.enqueue() == 0 and notice_rows(wf) == {}
    (planned,) = [p for p in wf.reminders.preview(eve + timedelta(days=2)) if p.reminder == key][:1]
    assert planned.at == f"{day.isoformat()}T00:00:00+0{offset}:00" and planned.kind == "notice_terminable"
    # Just after midnight in Paris (still the day before in UTC): due, to each coordinator, once.
    wf = wf.at(FixedClock(midnight + timedelta(minutes=1)))
    assert wf.reminders.enqueue() == 2
    rows = notice_rows(wf)[key]
    assert sorted(r.recipient for r in rows) == sorted([COORD, COORD2])
    assert {r.due_at for r in rows} == {midnight}
    stale = terminable_on(day)  # a month later, midnight in Paris
    assert {r.stale_at for r in rows} == {paris(stale.year, stale.month, stale.day)}
    wf = wf.at(FixedClock(midnight + timedelta(hours=9)))
    assert wf.reminders.enqueue() == 0  # enqueuing twice is a no-op
    assert len(notice_rows(wf)[key]) == 2


def test_the_message_in_each_reader_language(prog):
    wf = prog
    n = notice(wf, date(2021, 1, 27), "Bilan <script>alert(1)</script> [/] non transmis")  # terminable on 28 Feb
    wf = at(wf, 2021, 2, 28, 0, 5)
    wf.reminders.enqueue()
    rows = {r.recipient: r for r in notice_rows(wf)[f"notice:{n.id}:terminable"]}
    fr, en = rows[COORD], rows[COORD2]
    assert fr.subject == f"Mise en demeure n°{NB}{n.id} sans réponse{NB}: la convention avec Grand Est est résiliable"
    assert en.subject == f"Formal notice #{n.id} unanswered: the agreement with Grand Est is terminable"
    assert "Depuis le 28 février 2021, la convention avec Grand Est peut être résiliée." in fr.body_text
    assert "Since February 28, 2021, the agreement with Grand Est may be terminated." in en.body_text
    assert f"    preincub notice list --programme \"Trait d'union\"" in en.body_text
    assert "Breach: Bilan <script>alert(1)</script> [/] non transmis" in en.body_text
    assert "<script>" not in en.body_html and "&lt;script&gt;alert(1)&lt;/script&gt; [/]" in en.body_html


def test_an_answered_notice_sends_nothing(prog):
    wf = prog
    answered = notice(wf, date(2021, 1, 31))
    late = notice(wf, date(2021, 2, 1), "Autre manquement")  # to be answered by 1 March
    wf = at(wf, 2021, 2, 27, 10, 0)
    wf.notices.answer(answered.id, date(2021, 2, 27), "Réglé.")
    wf = at(wf, 2021, 3, 1, 0, 1)
    wf.notices.answer(late.id, date(2021, 3, 1), "Réglé le jour même.")  # on its day: in time
    for when in ((2021, 2, 28, 0, 1), (2021, 3, 1, 9, 0), (2021, 3, 20, 9, 0)):
        wf = at(wf, *when)
        assert wf.reminders.enqueue() == 0
    assert notice_rows(wf) == {} and wf.reminders.preview(paris(2021, 4, 30, 23, 0)) == []


def test_a_daemon_down_on_the_day_sends_it_once_when_back(prog):
    wf = prog
    wf = wf.with_settings(wf.settings.replace(deadline_days="1", committee_days="1"))  # a short horizon: 9 days
    n = notice(wf, date(2021, 1, 31))  # terminable from 1 March
    key = f"notice:{n.id}:terminable"
    wf = at(wf, 2021, 3, 20, 9, 0)  # back 20 days later, past the horizon
    assert wf.reminders.enqueue() == 2
    wf = at(wf, 2021, 3, 21, 9, 0)
    assert wf.reminders.enqueue() == 0 and len(notice_rows(wf)[key]) == 2
    # Down for more than a month after its day: stale, not sent; status still flags it.
    late = notice(wf, date(2021, 4, 1), "Autre manquement")  # terminable from 2 May, stale from 3 June
    wf = at(wf, 2021, 6, 3, 0, 1)
    assert wf.reminders.enqueue() == 0 and f"notice:{late.id}:terminable" not in notice_rows(wf)
    assert [r.id for r in wf.notices.terminable(PROG)] == [n.id, late.id]


def test_the_tick_delivers_it_by_email(prog):
    wf = prog
    n = notice(wf, date(2021, 1, 31))
    wf = at(wf, 2021, 3, 1, 9, 0)  # terminable from 1 March
    with smtp_server() as (url, box):
        wf = wf.with_settings(wf.settings.replace(smtp_url=url))
        first = wf.reminders.tick("h1")
        assert (first.enqueued, first.sent, first.failed) == (2, 2, 0)
        assert box.wait_for(2, timeout=10) == 2
        again = wf.reminders.tick("h1")
        assert (again.enqueued, again.sent) == (0, 0)
    subjects = {m["To"].addresses[0].addr_spec: m["Subject"] for m in box.messages()}
    assert subjects == {
        COORD: f"Mise en demeure n°{NB}{n.id} sans réponse{NB}: la convention avec Grand Est est résiliable",
        COORD2: f"Formal notice #{n.id} unanswered: the agreement with Grand Est is terminable"}
    with wf.store.read() as s:
        ids = dict(s.execute(select(Person.email, Person.id)).all())
    # The key travels with the message, so receivers can drop duplicates.
    assert sorted(str(m["X-Preincub-Key"]) for m in box.messages()) == sorted(
        f"notice:{n.id}:terminable:p{ids[who]}:email" for who in (COORD, COORD2))


# ---- scopes: notices of one's programme, or to one's partner body ------------------------------------------

def test_each_reads_and_answers_only_the_notices_of_their_scope(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    w = at(wf, 2020, 8, 5, 10, 0)  # every notice of 30 June is terminable since 31 July
    ca, cb = w.acting_as(sc.COORD_A), w.acting_as(sc.COORD_B)
    committee, reader = w.acting_as(sc.COMMITTEE_A), w.acting_as(sc.PARTNER_X)

    def about(rows):
        return sorted((r.programme, r.partner) for r in rows)

    assert about(ca.notices.listing()) == about(committee.notices.listing()) == [(sc.A, sc.X), (sc.A, sc.Y)]
    assert about(cb.notices.listing()) == [(sc.B, sc.Z)]
    assert about(reader.notices.listing()) == about(reader.notices.listing(sc.A)) == [(sc.A, sc.X)]
    assert about(reader.notices.terminable()) == about(reader.notices.flags()) == [(sc.A, sc.X)]
    assert about(reader.notices.flags(sc.A)) == [(sc.A, sc.X)] and reader.notices.flags(sc.B) == []
    assert about(committee.notices.flags()) == [(sc.A, sc.X), (sc.A, sc.Y)] and committee.notices.flags(sc.B) == []
    assert w.acting_as(sc.COACH_A).notices.flags() == [] and w.acting_as(sc.ADMIN).notices.flags() == []
    for who, other in ((cb, sc.A), (committee, sc.B), (reader, sc.B)):
        sc.refused_in(who.notices.listing, other, other)
        sc.refused_in(who.notices.terminable, other, other)
    assert about(reader.funding.show(sc.A).terminable) == [(sc.A, sc.X)]  # funding show: the same scope
    # Changes: the programme's coordinators only; refused elsewhere, nothing written.
    before = counts(w)
    (b_notice,) = cb.notices.listing()
    sc.refused_in(ca.notices.add, sc.B, sc.B, sc.Z, date(2020, 7, 1), "Autre manquement")
    sc.refused_in(ca.notices.answer, sc.B, b_notice.id, date(2020, 7, 2), "Réponse")
    for who in (committee, reader):
        with pytest.raises(Forbidden) as e:
            who.notices.answer(b_notice.id, date(2020, 7, 2), "Réponse")
        assert e.value.code == "role_needed"
    assert counts(w) == before
    assert cb.notices.answer(b_notice.id, date(2020, 7, 2), "Réponse").state == "answered"
