"""Reminders through the library: what is due, when and to whom; idempotent ticks; catch-up; preview."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import COORD, paris, ready_team, seed
from workflow import demo
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.clock import PARIS
from workflow.services.daemon import run_tick, trigger
from workflow.services.reminders import Reminders
from workflow.store.models import DaemonLease, Event, Outbox, Team

PROG = "Pré-incubation 2020"  # signed 2020-06-23: deadline 2020-12-23 (J-30 11-23, J-14 12-09, J-7 12-16, J-1 12-22)
COORD2 = "coord2@example.org"
COACH = "coach@example.org"
COACH2 = "coach2@example.org"


def together(*calls) -> list[object]:
    """Run the calls in threads at once; each one's result, or the exception it raised."""
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    return results


def at(w: Workflow, *args: int) -> Workflow:
    """The facade at that time (Paris)."""
    return w.at(FixedClock(paris(*args)))


def at_seconds(w: Workflow, seconds: float) -> Workflow:
    """The facade ``seconds`` later than its clock."""
    return w.at(FixedClock(w.clock.now() + timedelta(seconds=seconds)))


def tid(w: Workflow, name: str) -> int:
    with w.store.read() as s:
        return s.exec(select(Team.id).where(Team.name == name)).one()


def queued(w: Workflow) -> dict[str, list[str]]:
    """Each reminder in the outbox, with its recipients (sorted)."""
    with w.store.read() as s:
        rows = s.exec(select(Outbox).order_by(Outbox.id)).all()
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r.reminder, []).append(r.recipient)
    return {k: sorted(v) for k, v in out.items()}


def enqueue_at(w: Workflow, *when: int) -> dict[str, list[str]]:
    """Enqueue what is due at ``when``; return the reminders that were new, with their recipients."""
    before = queued(w)
    n = at(w, *when).reminders.enqueue()
    after = queued(w)
    assert all(after[k] == v for k, v in before.items())  # nothing already queued is touched or duplicated
    new = {k: v for k, v in after.items() if k not in before}
    assert n == sum(len(v) for v in new.values())
    return new


def investigating(w: Workflow, name: str, i: int, *, since: tuple[int, ...] = (2020, 7, 6, 9, 0)) -> str:
    """A team with coach@ and agent<i>, selected (in investigation) at ``since``."""
    ready_team(w, name, i)
    at(w, *since).transitions.advance(name, "select")
    return name


def counts(w: Workflow) -> tuple[int, int, int]:
    with w.store.read() as s:
        return tuple(s.execute(select(sa.func.count()).select_from(m)).scalar_one()
                     for m in (Outbox, Event, DaemonLease))


@pytest.fixture
def one_team(wf):
    """Team A in investigation since Monday 2020-07-06, coached by coach@, no check-in ever."""
    seed(wf)
    investigating(wf, "A", 0)
    return wf


@pytest.fixture
def world(wf):
    """Two coordinators, two coaches and five teams in different situations (clock 2020-12-16 10:00).

    A: investigation, coach@, agent0, check-ins held in weeks 49 and 50.
    B: investigation, coach2@, agent1, never a check-in.
    C: PoC committee on 2020-12-10 (presented 2020-10-05), coach@, agent2.
    D: abandoned on 2020-09-14 (decided), coach@, agent3.
    E: still in the call for projects (undecided), no coach, agent4.
    """
    seed(wf)
    wf.directory.add_person("Coord Deux", COORD2, ["coordinator"])
    wf.directory.add_person("Coach Deux", COACH2, ["coach"])
    for name, i in (("A", 0), ("B", 1), ("C", 2), ("D", 3)):
        ready_team(wf, name, i)
    wf.teams.edit("B", coach=COACH2)
    wf.teams.add("E", PROG, "Pas-de-Calais", intrapreneurs=["agent4@example.org"])
    wf = at(wf, 2020, 7, 6, 9, 0)
    for name in "ABCD":
        wf.transitions.advance(name, "select")
    wf = at(wf, 2020, 9, 14, 10, 0)
    wf.transitions.advance("D", "abandon", reason="L'intrapreneur a changé de poste.")
    wf = at(wf, 2020, 10, 5, 10, 0)
    wf.teams.poc("C", "Prototype testé.", "https://example.org/")
    wf.teams.committee("C", on=date(2020, 12, 10))
    wf.transitions.advance("C", "present")
    wf = at(wf, 2020, 12, 16, 10, 0)
    wf.checkins.log("A", on=date(2020, 12, 3), notes="Semaine 49.")
    wf.checkins.log("A", on=date(2020, 12, 10), notes="Semaine 50.")
    return wf


# ---- idempotency ---------------------------------------------------------------------------------

def test_a_second_tick_at_the_same_moment_enqueues_nothing(one_team, capsys):
    wf = one_team
    wf = at(wf, 2020, 12, 16, 10, 0)
    first = wf.reminders.tick("h1", console=True)
    assert {k: getattr(first, k) for k in ("enqueued", "sent", "retry", "failed")} == {
        "enqueued": 5, "sent": 5, "retry": 0, "failed": 0}
    a = tid(wf, "A")
    expected = {f"coaching:{a}:2020-W51": [COACH], f"missed:{a}:2020-W50": [COORD],
                "deadline:1:J-7": sorted([COORD, COACH, "agent0@example.org"])}
    assert queued(wf) == expected
    out = capsys.readouterr().out  # --console: the console prints each message once
    assert out.count("--- to ") == 5
    second = wf.reminders.tick("h1", console=True)
    assert {k: getattr(second, k) for k in ("enqueued", "sent", "retry", "failed")} == {
        "enqueued": 0, "sent": 0, "retry": 0, "failed": 0}
    assert queued(wf) == expected
    assert capsys.readouterr().out == ""
    assert {r.status for r in wf.outbox()} == {"sent"} and len(wf.outbox()) == 5


def test_a_restarted_workflow_enqueues_nothing_new(one_team, db_url):
    one_team = at(one_team, 2020, 12, 16, 10, 0)
    assert one_team.reminders.tick().enqueued == 5
    one_team.close()
    for hour, minute in ((10, 0), (10, 5), (18, 0)):  # the restarted daemon ticks again, the same day
        again = Workflow.open(db_url, clock=FixedClock(paris(2020, 12, 16, hour, minute)), actor=COORD)
        try:
            r = again.reminders.tick()
            assert (r.enqueued, r.sent) == (0, 0)
            assert len(again.outbox()) == 5
        finally:
            again.close()


def test_two_ticks_at_once_report_what_they_enqueued(one_team, db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the two enqueues cannot overlap")
    one_team = at(one_team, 2020, 12, 16, 10, 0)
    others = [Workflow.open(db_url, clock=one_team.clock, actor=COORD) for _ in range(2)]
    barrier = threading.Barrier(2)
    real = Reminders._queued

    def existing_then_wait(s, keys):  # both have looked for queued keys before either inserts
        found = real(s, keys)
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:  # the other could not get this far: no overlap to force
            pass
        return found

    monkeypatch.setattr(Reminders, "_queued", staticmethod(existing_then_wait))
    try:
        results = together(*(w.reminders.enqueue for w in others))
    finally:
        for o in others:
            o.close()
    assert len(one_team.outbox()) == 5  # the unique key did its job: each message once
    assert sorted(results, key=repr) == [0, 5], results


# ---- one clock -------------------------------------------------------------------------------------

def stamps(w: Workflow) -> dict[str, list[tuple[str, datetime | None]]]:
    """Every time the outbox's rows and the lease row hold, by key (aware, UTC)."""
    def aware(dt: datetime | None) -> datetime | None:
        return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt

    with w.store.read() as s:
        rows = [(r.key, r) for r in s.exec(select(Outbox))] + [("lease", r) for r in s.exec(select(DaemonLease))]
        return {key: [(c.name, aware(getattr(r, c.name))) for c in type(r).__table__.columns
                      if c.name.endswith(("_at", "_since", "until"))] for key, r in rows}


def test_a_tick_under_a_fixed_clock_writes_only_that_clock_s_times(one_team):
    """A fixed clock (--now) gives every time a tick writes: the outbox's rows (created, next attempt,
    sent, failing since, claims) and the daemon's lease (until, heartbeat, last tick); none is real time."""
    wf = at(one_team, 2020, 12, 16, 10, 0)
    t1 = wf.clock.wall()
    sent = run_tick(wf, "h1", cron=trigger(wf.settings.daemon.tick_cron), console=True)  # sent by the console
    assert sent.sent == sent.enqueued == 5
    later = at(wf, 2020, 12, 21, 10, 0)  # J-2 and week 52's pings: e-mail, not configured here: they wait
    t2 = later.clock.wall()
    assert later.reminders.tick("h2").waiting > 0
    assert later.delivery._claim("h3", 0)  # what a deliverer with e-mail would claim
    lease = timedelta(seconds=wf.settings.delivery.lease_seconds)
    times = stamps(wf)
    real = datetime.now(timezone.utc)
    assert all(abs(real - t) > timedelta(days=365) for row in times.values() for _, t in row if t), times
    first, waiting = ({k: dict(v) for k, v in times.items() if k != "lease" and dict(v)["created_at"] == t}
                      for t in (t1, t2))
    assert len(first) == 5 and len(waiting) + 5 + 1 == len(times)
    assert {(r["next_attempt_at"], r["sent_at"], r["failing_since"], r["claimed_until"]) for r in first.values()} == {
        (t1, t1, None, None)}
    assert {(r["next_attempt_at"], r["sent_at"], r["failing_since"], r["claimed_until"])
            for r in waiting.values()} == {(t2, None, t2, t2 + lease)}
    assert dict(times["lease"]) == {"until": t1 + lease, "last_tick_at": t1, "heartbeat_at": t1}


# ---- catch-up after downtime ---------------------------------------------------------------------

def test_down_from_j16_to_j12_sends_j14_only(one_team):
    wf = one_team
    a = tid(wf, "A")
    assert enqueue_at(wf, 2020, 11, 23, 10, 0) == {  # J-30, a Monday: the daemon runs
        f"coaching:{a}:2020-W48": [COACH], f"missed:{a}:2020-W47": [COORD],
        "deadline:1:J-30": sorted([COORD, COACH, "agent0@example.org"])}
    assert enqueue_at(wf, 2020, 12, 7, 10, 0) == {  # J-16, a Monday
        f"coaching:{a}:2020-W50": [COACH], f"missed:{a}:2020-W49": [COORD]}
    # Down from J-16 to J-12 (three days and more): only the deadline reminder that matters now.
    assert enqueue_at(wf, 2020, 12, 11, 10, 0) == {"deadline:1:J-14": sorted([COORD, COACH, "agent0@example.org"])}
    assert enqueue_at(wf, 2020, 12, 11, 10, 5) == {}


def test_first_tick_after_a_long_downtime_sends_no_stale_reminder(one_team):
    """Never ticked since July: on Wednesday 2020-12-16 only this week's ping, the current gap alert and J-7."""
    a = tid(one_team, "A")
    assert enqueue_at(one_team, 2020, 12, 16, 10, 0) == {
        f"coaching:{a}:2020-W51": [COACH],
        f"missed:{a}:2020-W50": [COORD],
        "deadline:1:J-7": sorted([COORD, COACH, "agent0@example.org"])}


def test_down_over_a_weekend_and_a_monday_skips_last_weeks_ping(one_team):
    wf = one_team
    a = tid(wf, "A")
    assert enqueue_at(wf, 2020, 12, 4, 8, 0) == {  # Friday of W49: J-30 still due (J-14 not yet)
        "deadline:1:J-30": sorted([COORD, COACH, "agent0@example.org"]),
        f"coaching:{a}:2020-W49": [COACH], f"missed:{a}:2020-W48": [COORD]}
    # Down from Friday to Tuesday 2020-12-15: week 50 is over, its ping and gap alert are not sent late;
    # this week's are, and J-14 (due 12-09, current until J-7), but not J-30 again.
    assert enqueue_at(wf, 2020, 12, 15, 10, 0) == {
        f"coaching:{a}:2020-W51": [COACH], f"missed:{a}:2020-W50": [COORD],
        "deadline:1:J-14": sorted([COORD, COACH, "agent0@example.org"])}
    assert f"coaching:{a}:2020-W50" not in queued(wf) and f"missed:{a}:2020-W49" not in queued(wf)


def test_catch_up_sends_nothing_about_a_team_decided_during_the_downtime(one_team):
    wf = one_team
    a = tid(wf, "A")
    assert enqueue_at(wf, 2020, 12, 16, 8, 0) == {
        f"coaching:{a}:2020-W51": [COACH], f"missed:{a}:2020-W50": [COORD],
        "deadline:1:J-14": sorted([COORD, COACH, "agent0@example.org"])}
    wf = at(wf, 2020, 12, 16, 12, 0)
    wf.transitions.advance("A", "abandon", reason="Projet arrêté.")  # the only team is decided; the daemon is down
    # Back the next day: J-7 (due 12-16 09:00) would tell everyone that team A is still undecided.
    assert enqueue_at(wf, 2020, 12, 17, 10, 0) == {}


# ---- the weekly slot: Monday 09:00 Paris, holidays, DST ------------------------------------------

@pytest.fixture
def team_2021(wf):
    """A team in investigation from Monday 2021-01-11 in a programme signed 2021-01-04 (deadline 2021-07-04)."""
    seed(wf)
    wf = at(wf, 2021, 1, 4, 10, 0)
    wf.directory.add_programme("Pré-incubation 2021", date(2021, 1, 4))
    wf.directory.add_partner("Somme", "Pré-incubation 2021")
    wf.teams.add("T", "Pré-incubation 2021", "Somme", problem="Un problème réel.",
                intrapreneurs=["agent5@example.org"], coach=COACH, days_per_week=1)
    wf.transitions.advance("T", "submit")
    wf.teams.assess("T", real=True, major=True, actionable=True)
    wf.teams.agree("T", "partner")
    wf.teams.agree("T", "operator")
    wf = at(wf, 2021, 1, 11, 8, 0)
    wf.transitions.advance("T", "select")
    return wf


def test_weekly_ping_is_monday_9_paris_moved_by_holidays_and_kept_across_dst(team_2021):
    wf = team_2021
    t = tid(wf, "T")
    wf = at(wf, 2021, 3, 15, 8, 0)
    rows = wf.reminders.preview(paris(2021, 6, 1, 23, 59))
    coaching = [(r.reminder, r.at) for r in rows if r.kind == "coaching"]
    assert coaching == [
        (f"coaching:{t}:2021-W11", "2021-03-15T09:00:00+01:00"),
        (f"coaching:{t}:2021-W12", "2021-03-22T09:00:00+01:00"),
        (f"coaching:{t}:2021-W13", "2021-03-29T09:00:00+02:00"),  # summer time since Sunday 28 March
        (f"coaching:{t}:2021-W14", "2021-04-06T09:00:00+02:00"),  # Easter Monday 5 April: Tuesday
        (f"coaching:{t}:2021-W15", "2021-04-12T09:00:00+02:00"),
        (f"coaching:{t}:2021-W16", "2021-04-19T09:00:00+02:00"),
        (f"coaching:{t}:2021-W17", "2021-04-26T09:00:00+02:00"),
        (f"coaching:{t}:2021-W18", "2021-05-03T09:00:00+02:00"),
        (f"coaching:{t}:2021-W19", "2021-05-10T09:00:00+02:00"),
        (f"coaching:{t}:2021-W20", "2021-05-17T09:00:00+02:00"),
        (f"coaching:{t}:2021-W21", "2021-05-25T09:00:00+02:00"),  # Pentecost Monday 24 May: Tuesday
        (f"coaching:{t}:2021-W22", "2021-05-31T09:00:00+02:00"),
    ]
    assert {r.to for r in rows if r.kind == "coaching"} == {COACH}


def test_autumn_dst_keeps_9_local(one_team):
    a = tid(one_team, "A")
    one_team = at(one_team, 2020, 10, 19, 8, 0)
    rows = one_team.reminders.preview(paris(2020, 11, 2, 12, 0))
    assert [(r.reminder, r.at) for r in rows if r.kind == "coaching"] == [
        (f"coaching:{a}:2020-W43", "2020-10-19T09:00:00+02:00"),
        (f"coaching:{a}:2020-W44", "2020-10-26T09:00:00+01:00"),  # winter time since Sunday 25 October
        (f"coaching:{a}:2020-W45", "2020-11-02T09:00:00+01:00"),
    ]
    # A tick at 08:00 UTC on 26 October is 09:00 in Paris: due; a minute before, not yet.
    assert enqueue_at(one_team, 2020, 10, 26, 8, 59) == {}
    assert enqueue_at(one_team, 2020, 10, 26, 9, 0) == {f"coaching:{a}:2020-W44": [COACH],
                                                        f"missed:{a}:2020-W43": [COORD]}
    with one_team.store.read() as s:
        due = s.exec(select(Outbox.due_at).where(Outbox.reminder == f"coaching:{a}:2020-W44")).one()
    assert due == datetime(2020, 10, 26, 8, 0, tzinfo=timezone.utc)  # stored as an instant: 08:00 UTC
    assert due.astimezone(PARIS).isoformat() == "2020-10-26T09:00:00+01:00"
    assert [r.due_at for r in one_team.outbox() if r.kind == "coaching"] == ["2020-10-26T09:00:00+01:00"]


@pytest.mark.parametrize("holiday,tuesday", [((2021, 4, 5), (2021, 4, 6)), ((2021, 5, 24), (2021, 5, 25))])
def test_a_holiday_monday_sends_nothing_and_tuesday_9_does(team_2021, holiday, tuesday):
    wf = team_2021
    t = tid(wf, "T")
    week = date(*holiday).isocalendar()
    week = f"{week[0]}-W{week[1]:02d}"
    # Check-ins held the two previous weeks, so only the weekly ping is in question.
    monday = date(*holiday)
    wf = at(wf, *holiday, 8, 0)
    wf.checkins.log("T", on=monday - timedelta(days=4), notes="x")
    wf.checkins.log("T", on=monday - timedelta(days=11), notes="x")
    enqueue_at(wf, *holiday, 8, 0)
    assert enqueue_at(wf, *holiday, 9, 0) == {}
    assert enqueue_at(wf, *holiday, 23, 0) == {}
    assert enqueue_at(wf, *tuesday, 8, 59) == {}
    assert enqueue_at(wf, *tuesday, 9, 0) == {f"coaching:{t}:{week}": [COACH]}


def test_a_check_in_this_week_cancels_the_weekly_ping(one_team):
    a = tid(one_team, "A")
    one_team = at(one_team, 2020, 12, 15, 8, 0)
    one_team.checkins.log("A", on=date(2020, 12, 10), notes="Semaine 50.")
    one_team.checkins.log("A", on=date(2020, 12, 14), notes="Semaine 51.")
    j14 = sorted([COORD, COACH, "agent0@example.org"])
    assert enqueue_at(one_team, 2020, 12, 15, 8, 30) == {"deadline:1:J-14": j14}
    assert not any(k.startswith(f"coaching:{a}") or k.startswith(f"missed:{a}") for k in queued(one_team))


# ---- who gets what -------------------------------------------------------------------------------

def test_recipients_of_each_kind(world):
    wf = world
    a, b, c = (tid(wf, n) for n in "ABC")
    coords = sorted([COORD, COORD2])
    # The committee of C: 7 days and 1 day before, to its intrapreneur, its coach and the coordinators.
    committee = sorted([*coords, COACH, "agent2@example.org"])
    new = enqueue_at(wf, 2020, 12, 3, 10, 0)
    assert {k: v for k, v in new.items() if k.startswith("committee:")} == {f"committee:{c}:2020-12-10:J-7": committee}
    new = enqueue_at(wf, 2020, 12, 9, 10, 0)
    assert {k: v for k, v in new.items() if k.startswith("committee:")} == {f"committee:{c}:2020-12-10:J-1": committee}
    # J-7 of the deadline: coaching of A and B, the gap of B (never a check-in), the deadline to the
    # coordinators, coaches and intrapreneurs of the undecided teams A, B, C, E (not D, abandoned).
    assert enqueue_at(wf, 2020, 12, 16, 10, 0) == {
        f"coaching:{a}:2020-W51": [COACH],
        f"coaching:{b}:2020-W51": [COACH2],
        f"missed:{b}:2020-W50": coords,
        "deadline:1:J-7": sorted([*coords, COACH, COACH2, "agent0@example.org", "agent1@example.org",
                                  "agent2@example.org", "agent4@example.org"]),
    }
    assert enqueue_at(wf, 2020, 12, 21, 10, 0) == {
        f"coaching:{a}:2020-W52": [COACH], f"coaching:{b}:2020-W52": [COACH2], f"missed:{b}:2020-W51": coords}
    assert enqueue_at(wf, 2020, 12, 22, 10, 0) == {
        "deadline:1:J-1": sorted([*coords, COACH, COACH2, "agent0@example.org", "agent1@example.org",
                                  "agent2@example.org", "agent4@example.org"])}
    # Past the deadline: the coordinators only, the day after, then weekly; no more weekly pings.
    assert enqueue_at(wf, 2020, 12, 24, 10, 0) == {"deadline_passed:1:2020-12-24": coords}
    assert enqueue_at(wf, 2020, 12, 30, 10, 0) == {}
    assert enqueue_at(wf, 2020, 12, 31, 10, 0) == {"deadline_passed:1:2020-12-31": coords}
    assert enqueue_at(wf, 2021, 1, 7, 9, 30) == {"deadline_passed:1:2021-01-07": coords}
    d = tid(wf, "D")
    assert not any(f":{d}:" in k for k in queued(wf))
    with wf.store.read() as s:
        assert s.exec(select(Outbox).where(Outbox.recipient == "agent3@example.org")).all() == []


def test_missed_coaching_needs_two_consecutive_weeks_without_check_in(one_team):
    wf = one_team
    a = tid(wf, "A")
    wf = at(wf, 2020, 8, 20, 18, 0)
    for day in (9, 16, 30):  # weeks 28, 29 and 31 held; week 30 missed
        wf.checkins.log("A", on=date(2020, 7, day), notes="x")
    wf.checkins.log("A", on=date(2020, 8, 6), missed=True, reason="Congés.")  # week 32: a missed point is no point
    assert enqueue_at(wf, 2020, 8, 3, 10, 0) == {f"coaching:{a}:2020-W32": [COACH]}  # one gap week: no alert
    assert enqueue_at(wf, 2020, 8, 10, 10, 0) == {f"coaching:{a}:2020-W33": [COACH]}  # W32 missed, W31 held
    assert enqueue_at(wf, 2020, 8, 17, 10, 0) == {f"coaching:{a}:2020-W34": [COACH],
                                                  f"missed:{a}:2020-W33": [COORD]}  # W32 and W33


def test_nothing_about_decided_teams(wf):
    seed(wf)
    investigating(wf, "A", 0)
    investigating(wf, "B", 1)
    ready_team(wf, "C", 2)
    wf = at(wf, 2020, 7, 3, 10, 0)
    wf.transitions.advance("C", "reject", reason="Hors champ.")
    wf = at(wf, 2020, 9, 1, 10, 0)
    wf.transitions.advance("A", "abandon", reason="Arrêt.")
    wf.transitions.advance("B", "abandon", reason="Arrêt.")
    for when in ((2020, 9, 7, 10, 0), (2020, 11, 23, 10, 0), (2020, 12, 16, 10, 0), (2020, 12, 24, 10, 0)):
        assert enqueue_at(wf, *when) == {}
    wf = at(wf, 2020, 9, 7, 11, 0)
    assert wf.reminders.preview(paris(2021, 1, 31, 0, 0)) == []  # nor planned: nothing at all
    assert queued(wf) == {}


# ---- preview ---------------------------------------------------------------------------------------

def test_preview_writes_nothing_lists_in_time_order_and_skips_what_is_queued(world):
    wf = world
    wf = at(wf, 2020, 11, 30, 8, 0)
    before = counts(wf)
    rows = wf.reminders.preview(paris(2021, 1, 15, 0, 0))
    assert counts(wf) == before
    moments = [datetime.fromisoformat(r.at) for r in rows]
    assert moments == sorted(moments)
    reminders = list(dict.fromkeys(r.reminder for r in rows))
    a, b, c = (tid(wf, n) for n in "ABC")
    # A held weeks 49 and 50; B never; C left investigation for its committee; D is decided; E has no coach.
    # Missed-coaching alerts are only known for weeks already over (the current week's, here W48's). Weeks
    # after the clock's are planned as if nothing was logged yet: A's W50 check-in lies in the clock's future.
    assert reminders == [
        "deadline:1:J-30",  # due since 23 November and not stale yet: due now
        f"coaching:{b}:2020-W49", f"missed:{a}:2020-W48", f"missed:{b}:2020-W48",  # Monday 30 November 09:00
        f"committee:{c}:2020-12-10:J-7",  # 3 December
        f"coaching:{a}:2020-W50", f"coaching:{b}:2020-W50",  # 7 December
        f"committee:{c}:2020-12-10:J-1", "deadline:1:J-14",  # 9 December
        f"coaching:{a}:2020-W51", f"coaching:{b}:2020-W51",  # 14 December
        "deadline:1:J-7",  # 16 December
        f"coaching:{a}:2020-W52", f"coaching:{b}:2020-W52",  # 21 December
        "deadline:1:J-1",  # 22 December; no weekly ping after the deadline
        "deadline_passed:1:2020-12-24", "deadline_passed:1:2020-12-31", "deadline_passed:1:2021-01-07",
        "deadline_passed:1:2021-01-14",
    ]
    assert sorted(r.to for r in rows if r.reminder == "deadline:1:J-30") == sorted(
        [COORD, COORD2, COACH, COACH2, "agent0@example.org", "agent1@example.org", "agent2@example.org",
         "agent4@example.org"])
    # Once reminders are queued, the preview no longer lists them.
    wf = at(wf, 2020, 11, 30, 9, 0)
    assert wf.reminders.enqueue() == 8 + 1 + 2 + 2  # J-30, coaching B W49, missed A and B W48 (two coordinators each)
    rows = wf.reminders.preview(paris(2021, 1, 15, 0, 0))
    assert list(dict.fromkeys(r.reminder for r in rows)) == reminders[4:]


def test_preview_of_the_demo_shows_the_six_months(db_url):
    wf = Workflow.open(db_url, clock=FixedClock(paris(2020, 6, 23, 10, 0)), actor=COORD, create=True)
    try:
        demo.build(wf)
        wf = at(wf, 2020, 6, 23, 0, 0)
        before = counts(wf)
        rows = wf.reminders.preview(paris(2020, 12, 31, 23, 59, 59))
        assert counts(wf) == before
        moments = [datetime.fromisoformat(r.at) for r in rows]
        assert moments == sorted(moments)
        ids = {name: tid(wf, name) for name, *_ in demo.TEAMS}
        firsts = {}
        for r in rows:
            firsts.setdefault(r.reminder, r.at)
        deadline = [(k, v) for k, v in firsts.items() if k.startswith("deadline")]
        assert deadline == [("deadline:1:J-30", "2020-11-23T09:00:00+01:00"),
                            ("deadline:1:J-14", "2020-12-09T09:00:00+01:00"),
                            ("deadline:1:J-7", "2020-12-16T09:00:00+01:00"),
                            ("deadline:1:J-1", "2020-12-22T09:00:00+01:00"),
                            ("deadline_passed:1:2020-12-24", "2020-12-24T09:00:00+01:00"),
                            ("deadline_passed:1:2020-12-31", "2020-12-31T09:00:00+01:00")]
        committee = [(k, v) for k, v in firsts.items() if k.startswith("committee")]
        heard = [ids[n] for n in ("Assistants familiaux", "Informations préoccupantes", "Signalements voirie")]
        transport = ids["Transport scolaire adapté"]
        assert committee == [
            *((f"committee:{t}:2020-11-05:J-7", "2020-10-29T09:00:00+01:00") for t in heard),
            *((f"committee:{t}:2020-11-05:J-1", "2020-11-04T09:00:00+01:00") for t in heard),
            (f"committee:{transport}:2020-12-10:J-7", "2020-12-03T09:00:00+01:00"),
            (f"committee:{transport}:2020-12-10:J-1", "2020-12-09T09:00:00+01:00"),
        ]
        coordinators = sorted([COORD, demo.COORDINATOR[1]])
        j7 = sorted(r.to for r in rows if r.reminder == "deadline:1:J-7")
        undecided = [t for t in demo.TEAMS if t[5] not in ("incubated", "not_incubated", "abandoned", "not_selected")]
        assert j7 == sorted({*coordinators, *(c[1] for c in demo.COACHES), *(t[2][1] for t in undecided)})
        assert sorted(r.to for r in rows if r.reminder == "deadline_passed:1:2020-12-24") == coordinators
        # The weekly coaching plan: every Monday of a team's investigation, to its coach, up to the deadline.
        rsa = [(r.at, r.to) for r in rows if r.reminder.startswith(f"coaching:{ids['Insertion RSA']}:")]
        assert len(rsa) == 25 and rsa[0] == ("2020-07-06T09:00:00+02:00", "julien.moreau@beta.example")
        assert rsa[-1] == ("2020-12-21T09:00:00+01:00", "julien.moreau@beta.example")
        abandoned = [r.at for r in rows if r.reminder.startswith(f"coaching:{ids['Cantines des collèges']}:")]
        assert abandoned[-1] == "2020-09-14T09:00:00+02:00"  # it abandoned that Monday at 10:00
    finally:
        wf.close()


def test_preview_refuses_a_date_in_the_past(one_team):
    one_team = at(one_team, 2020, 12, 16, 10, 0)
    with pytest.raises(Invalid, match=r"the end of the preview, December 15, 2020, is before now \(December 16, 2020\)"):
        one_team.reminders.preview(paris(2020, 12, 15, 23, 0))


# ---- the daemon's lease, two Workflow objects ------------------------------------------------------

def test_one_lease_holder_at_a_time(db_url, one_team):
    w1 = one_team
    w1 = w1.with_settings(w1.settings.replace(lease_seconds=1))
    w2 = Workflow.open(db_url, clock=w1.clock, actor=COORD)
    w2 = w2.with_settings(w2.settings.replace(lease_seconds=1))
    try:
        assert w1.lease.acquire("a") is True
        assert w2.lease.acquire("b") is False
        assert w1.lease.acquire("a") is True  # renewing
        assert w2.lease.acquire("b") is False
        w1.lease.release("a")
        assert w2.lease.acquire("b") is True
        assert w1.lease.acquire("a") is False
        w2.lease.release("a")  # releasing someone else's lease does nothing
        assert w1.lease.acquire("a") is False
        w1 = at_seconds(w1, 1.2)  # 1.2 s later, b's lease (1 s) has run out unrenewed
        assert w1.lease.acquire("a") is True
        assert w2.lease.acquire("b") is False
    finally:
        w2.close()


def test_first_lease_race_has_one_winner_and_one_plain_refusal(db_url, one_team):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race is PostgreSQL's")
    others = [Workflow.open(db_url, clock=one_team.clock, actor=COORD) for _ in range(2)]
    barrier = threading.Barrier(2)

    def hold_after_lease_select(state):
        """Both callers run their SELECT ... FOR UPDATE (finding no lease row) before either inserts."""
        stmt = state.statement
        if state.is_select and getattr(stmt, "_for_update_arg", None) is not None and any(
                d.get("entity") is DaemonLease for d in stmt.column_descriptions):
            result = state.invoke_statement()
            try:
                barrier.wait(timeout=3)
            except threading.BrokenBarrierError:  # the other caller could not get this far: no race to force
                pass
            return result
        return None

    sa.event.listen(sa.orm.Session, "do_orm_execute", hold_after_lease_select)
    try:
        results = together(lambda: others[0].lease.acquire("w0"), lambda: others[1].lease.acquire("w1"))
    finally:
        sa.event.remove(sa.orm.Session, "do_orm_execute", hold_after_lease_select)
        for o in others:
            o.close()
    assert sorted(map(repr, results)) == ["False", "True"], results


# ---- two programmes: each message written for its reader (issue 20) ----------------------------------

FAST = "FAST 2020"
COORD_B = "coordb@example.org"
PARTNER_READER = "lecteur@somme.example"
COMMITTEE_A, COMMITTEE_B = "comite.a@example.org", "comite.b@example.org"


@pytest.fixture
def two_programmes(wf):
    """A ("Pré-incubation 2020", coordinated by COORD) with partners Pas-de-Calais and Somme, teams A1
    (Pas-de-Calais: agent0, coach@) and A2 (Somme: agent1, coach2@), a committee member and a reader for
    the Somme; B ("FAST 2020", coordinated by coordb@) with team B1 (agent5, coach2@): coach2@ coaches in
    both. Every team is undecided, A2 and B1 have a committee on 2020-12-10."""
    seed(wf)
    wf.directory.add_partner("Somme", PROG)
    wf.directory.add_person("Coach Deux", COACH2, ["coach"])
    wf.directory.add_person("Coord B", COORD_B, ["coach"])
    wf.directory.add_programme(FAST, date(2020, 6, 23), kind="fast", coordinator=COORD_B)
    wf.directory.add_person("Comité A", COMMITTEE_A, ["committee"], programme=PROG)
    wf.directory.add_person("Lecteur Somme", PARTNER_READER, ["partner"], programme=PROG, partner="Somme")
    wf.teams.add("A1", PROG, "Pas-de-Calais", intrapreneurs=["agent0@example.org"], coach=COACH)
    wf.teams.add("A2", PROG, "Somme", intrapreneurs=["agent1@example.org"], coach=COACH2)
    _to_investigation(wf, "A2")
    wf.teams.committee("A2", on=date(2020, 12, 10))
    b = wf.acting_as(COORD_B)
    b.directory.add_partner("Grand Est", FAST, kind="region")
    b.directory.add_person("Comité B", COMMITTEE_B, ["committee"], programme=FAST)
    b.teams.add("B1", FAST, "Grand Est", intrapreneurs=["agent5@example.org"], coach=COACH2,
                sponsor="sponsor@example.org")
    _to_investigation(b, "B1")
    b.teams.committee("B1", on=date(2020, 12, 10))
    return wf


def _to_investigation(w: Workflow, team: str) -> None:
    for trigger in ("submit", "select"):
        w.transitions.advance(team, trigger, force=True, reason="Pour le test.")


def bodies(w: Workflow, reminder: str) -> dict[str, str]:
    """recipient -> text body of the messages of ``reminder``."""
    with w.store.read() as s:
        return {r.recipient: r.body_text for r in s.exec(select(Outbox).where(Outbox.reminder == reminder))}


def test_each_reader_is_told_of_the_teams_they_may_read_and_only_coordinators_get_commands(two_programmes):
    wf = two_programmes
    enqueue_at(wf, 2020, 11, 23, 10, 0)  # J-30 of both programmes
    a = bodies(wf, "deadline:1:J-30")
    b = bodies(wf, "deadline:2:J-30")
    # A's coordinator: every undecided team of A, and the command; nothing of B.
    assert "A1, A2" in a[COORD] and "B1" not in a[COORD] and "preincub status" in a[COORD]
    # The Somme's reader: the Somme's team only; no command line (they have no CLI).
    assert "A2" in a[PARTNER_READER] and "A1" not in a[PARTNER_READER] and "preincub" not in a[PARTNER_READER]
    # An intrapreneur: their own team; a coach: their own teams, programme by programme.
    assert "A1" in a["agent0@example.org"] and "A2" not in a["agent0@example.org"]
    assert "preincub" not in a["agent0@example.org"]
    assert "A2" in a[COACH2] and "A1" not in a[COACH2] and "B1" not in a[COACH2]
    assert "B1" in b[COACH2] and "A2" not in b[COACH2]
    # B's world: its coordinator, not A's, and A's people are not told of B.
    assert COORD_B in b and COORD not in b and "A1" not in b[COORD_B] and "preincub status" in b[COORD_B]
    assert not {PARTNER_READER, COMMITTEE_A, "agent0@example.org"} & set(b)


def test_with_a_base_url_readers_without_the_cli_get_a_link_to_the_board(two_programmes, monkeypatch):
    monkeypatch.setenv("PREINCUB_BASE_URL", "https://preincub.example.org")
    wf = two_programmes.with_settings(type(two_programmes.settings).from_env())
    enqueue_at(wf, 2020, 11, 23, 10, 0)
    a = bodies(wf, "deadline:1:J-30")
    assert "https://preincub.example.org/" in a[PARTNER_READER] and "preincub status" not in a[PARTNER_READER]
    assert "https://preincub.example.org/" not in a[COORD]  # they run it from the command line


def test_committee_reminders_go_to_that_programme_s_committee_only(two_programmes):
    wf = two_programmes
    new = enqueue_at(wf, 2020, 12, 3, 10, 0)
    a2, b1 = tid(wf, "A2"), tid(wf, "B1")
    assert new[f"committee:{a2}:2020-12-10:J-7"] == sorted([COORD, COMMITTEE_A, COACH2, "agent1@example.org"])
    assert new[f"committee:{b1}:2020-12-10:J-7"] == sorted([COORD_B, COMMITTEE_B, COACH2, "agent5@example.org"])
    committee = bodies(wf, f"committee:{a2}:2020-12-10:J-7")
    assert "preincub" not in committee[COMMITTEE_A] and "preincub check" in committee[COORD]


def test_a_placeholder_address_is_never_a_recipient_and_the_preview_says_so(tmp_path):
    # No --as: the first person is the system user, at login@localhost; they add the programme, so coordinate it.
    w = Workflow.open("sqlite:///" + str(tmp_path / "s.db"), clock=FixedClock(paris(2020, 7, 1, 10, 0)), create=True)
    try:
        w.directory.add_programme(PROG, date(2020, 6, 23))
        w.directory.add_partner("Somme", PROG)
        w.directory.add_person("Agent", "agent@example.org", ["intrapreneur"])
        w.teams.add("T", PROG, "Somme", intrapreneurs=["agent@example.org"])
        preview = at(w, 2020, 11, 23, 9, 0).reminders.preview(paris(2020, 11, 24, 0, 0))
        assert {p.to for p in preview if p.kind == "deadline"} == {None, "agent@example.org"}
        assert at(w, 2020, 11, 23, 10, 0).reminders.enqueue() == 1
        assert queued(w) == {"deadline:1:J-30": ["agent@example.org"]}
        assert [e.endswith("@localhost") for e in w.reminders.unreachable()] == [True]
    finally:
        w.close()


def test_a_coordinator_reminds_and_handles_the_outbox_of_their_programme_only(two_programmes):
    wf = two_programmes
    b = at(wf.acting_as(COORD_B), 2020, 11, 23, 10, 0)
    b1 = tid(wf, "B1")
    assert b.reminders.enqueue() > 0
    mine = {"deadline:2:J-30", f"coaching:{b1}:2020-W48", f"missed:{b1}:2020-W47"}
    assert set(queued(wf)) == mine  # B's only: A's are A's coordinators' to send
    assert {m.key.split(":p")[0] for m in b.outbox.messages()} == mine
    at(wf, 2020, 11, 23, 10, 0).reminders.enqueue()
    a_row = next(m for m in wf.outbox.messages() if m.key.startswith("deadline:1:"))
    assert {m.key.split(":p")[0] for m in b.outbox.messages()} == mine
    with pytest.raises(NotFound):
        b.outbox.cancel(a_row.id)
    counts = b.delivery.deliver(console=True)
    assert counts["sent"] == len(b.outbox.messages())
    assert all(m.status == "pending" for m in wf.outbox.messages() if m.key.startswith("deadline:1:"))
    assert b.outbox.health().pending == 0


def test_only_an_administrator_runs_the_daemon(two_programmes):
    from workflow.services.daemon import Lease

    with pytest.raises(Forbidden) as e:
        Lease(two_programmes.acting_as(COORD_B).ctx).acquire("h")
    assert e.value.code == "daemon_needs_admin"
    assert Lease(two_programmes.ctx).acquire("h")  # COORD: the store's administrator


def test_the_full_look_pauses_the_garbage_collector_and_resumes_it(one_team, monkeypatch):
    """~100,000 small acyclic objects at 10,000 teams: the collector would run over them again and again."""
    import gc

    seen = []
    look = Reminders._messages

    def spy(self, *args):
        seen.append(gc.isenabled())
        return look(self, *args)

    monkeypatch.setattr(Reminders, "_messages", spy)
    at(one_team, 2020, 7, 6, 10, 0).reminders.enqueue()
    at(one_team, 2020, 7, 6, 10, 0).reminders.preview(paris(2020, 7, 20, 10, 0))
    assert seen == [False, False] and gc.isenabled()
