"""The shortcuts a tick over 10,000 teams takes (benchmarks/reminders.py) give what the plain way gives.

* ``due_now`` skips the weeks already stale (``occurrences(..., fresh_at=now)``) and computes each
  week's slot, staleness and past weeks once per call (``_Weeks``): the same reminders as filtering
  every occurrence, across DST changes, holiday Mondays, week and year boundaries;
* ``snapshot`` (workflow.store.reminders) reads each team's held weeks and last check-in in one
  aggregated row;
* ``people`` reads rows, not Person objects, and ``channels_for`` caches per stored text;
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from jinja2 import UndefinedError

from notifications.render import render
from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.rules import due
from workflow.rules.coaching import iso_week
from workflow.rules.due import ProgrammeFacts, Snapshot, TeamFacts
from workflow.services.outbox import channels_for
from workflow.settings import Settings
from workflow.store import reminders as reminder_rows

STORED_START = datetime(2020, 7, 6, 7, 0)  # naive UTC, as SQLite gives a period back: 09:00 Paris


def _team(i: int, held: set[str], *, start: datetime, end: datetime | None = None,
          decided: datetime | None = None) -> TeamFacts:
    return TeamFacts(i, f"T{i}", 1, "investigation", ((start, end),), None, decided, None, (100 + i,), (200 + i,),
                     frozenset(held), max((date.fromisocalendar(int(w[:4]), int(w[6:]), 3) for w in held),
                                          default=None))


def _weeks_between(first: date, last: date, skip: set[int]) -> set[str]:
    out, d = set(), first
    while d <= last:
        if d.toordinal() // 7 % 5 not in skip:
            out.add(iso_week(d))
        d += timedelta(days=7)
    return out


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    """Teams with held weeks in various patterns, in a programme whose deadline is well after the clocks."""
    teams = []
    for i in range(12):
        start = paris(2020, 7, 6, 9, 0) + timedelta(days=3 * i, hours=i)
        held = _weeks_between(date(2020, 7, 8), date(2021, 4, 30), {i % 5, (i * 2) % 5} if i % 3 else set())
        end = paris(2021, 1, 4, 10, 0) if i == 4 else None
        decided = paris(2020, 12, 28, 11, 0) if i == 5 else None
        teams.append(_team(i, held, start=start, end=end, decided=decided))
    teams.append(_team(99, set(), start=STORED_START))  # never a check-in: missed-coaching alerts
    return Snapshot({1: ProgrammeFacts(1, "P", date(2021, 6, 30))}, teams, (1, 2))


def _plain(snap: Snapshot, now: datetime, cfg: Settings) -> list[tuple]:
    """due_now the plain way: every occurrence in the horizon, then those not yet stale."""
    dues = sorted((d for d in due.occurrences(snap, now - due.horizon(cfg), now, now, cfg)
                   if now < d.stale), key=lambda d: (d.at, d.key))
    return [_full(d) for d in dues]


def _full(d: due.Due) -> tuple:
    return (d.key, d.kind, d.at, d.at.utcoffset(), d.stale, d.stale.utcoffset(), d.recipients, d.team_id,
            d.programme_id, d.context)


CLOCKS = [
    paris(2020, 10, 25, 1, 59), paris(2020, 10, 25, 3, 30), paris(2020, 10, 26, 8, 59),  # autumn DST
    paris(2020, 10, 26, 9, 0), paris(2020, 11, 1, 23, 59), paris(2020, 11, 2, 0, 0),  # a week boundary
    paris(2020, 12, 28, 9, 0), paris(2021, 1, 3, 23, 59, 59), paris(2021, 1, 4, 0, 0),  # 2020-W53 -> 2021-W01
    paris(2021, 1, 4, 9, 30), paris(2021, 3, 28, 3, 0), paris(2021, 3, 29, 9, 0),  # spring DST
    paris(2021, 4, 5, 9, 0), paris(2021, 4, 6, 9, 0), paris(2021, 5, 24, 10, 0),  # holiday Mondays
]


@pytest.mark.parametrize("values", [{}, {"missed_weeks": 3, "remind_weekday": 2},
                                    {"missed_weeks": 1, "remind_at": "07:30"}])
def test_due_now_is_every_occurrence_not_yet_stale(snap, values):
    cfg = Settings(**values)
    kinds = set()
    for now in CLOCKS:
        got = [_full(d) for d in due.due_now(snap, now, cfg)]
        assert got == _plain(snap, now, cfg), now
        kinds |= {g[1] for g in got}
    assert {"coaching", "missed_coaching"} <= kinds  # both were put to the test


def test_one_call_across_dst_and_a_new_year_gets_each_week_right(snap):
    """One ``occurrences`` shares each week between teams: its slot and staleness still follow that
    week's own offset, and the missed weeks the year's end."""
    cfg = Settings()
    t = next(t for t in snap.teams if t.id == 99)
    one = Snapshot(snap.programmes, [t], snap.coordinators)
    dues = {d.key: d for d in due.occurrences(one, paris(2020, 10, 12), paris(2021, 1, 12), paris(2021, 2, 1),
                                                     cfg)}
    w42, w44 = dues["coaching:99:2020-W42"], dues["coaching:99:2020-W44"]
    assert (w42.at.isoformat(), w42.stale.isoformat()) == ("2020-10-12T09:00:00+02:00", "2020-10-19T00:00:00+02:00")
    assert (w44.at.isoformat(), w44.stale.isoformat()) == ("2020-10-26T09:00:00+01:00", "2020-11-02T00:00:00+01:00")
    w43 = dues["coaching:99:2020-W43"]
    assert w43.stale.isoformat() == "2020-10-26T00:00:00+01:00"  # the Monday after the change: winter time
    assert dues["missed:99:2020-W53"].context["weeks"] == ["2020-W52", "2020-W53"]
    assert dues["missed:99:2020-W53"].context["week"] == "2021-W01"
    assert dues["missed:99:2021-W01"].at.isoformat() == "2021-01-11T09:00:00+01:00"
    # Each missed alert has its own list: changing one's context changes no other.
    dues["missed:99:2020-W53"].context["weeks"].append("x")
    assert dues["missed:99:2021-W01"].context["weeks"] == ["2020-W53", "2021-W01"]


def test_fresh_at_only_leaves_out_stale_weeks(snap):
    cfg, now = Settings(), paris(2020, 11, 4, 10, 0)
    lo = now - due.horizon(cfg)
    every = [_full(d) for d in due.occurrences(snap, lo, now, now, cfg)]
    fresh = [_full(d) for d in due.occurrences(snap, lo, now, now, cfg, fresh_at=now)]
    assert fresh == [d for d in every if now < d[4]]  # in the same order
    assert len(fresh) < len(every)


# ---- the snapshot: held weeks and the last check-in, aggregated by the database ------------------

def test_snapshot_held_weeks_and_last_check_in(wf):
    seed(wf)
    for name, i in (("A", 0), ("B", 1), ("C", 2)):
        ready_team(wf, name, i)
    selected = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    for name in "ABC":
        selected.transitions.advance(name, "select")
    wf = wf.at(FixedClock(paris(2020, 7, 31, 10, 0)))
    wf.checkins.log("A", on=date(2020, 7, 7), notes="W28")
    wf.checkins.log("A", on=date(2020, 7, 9), notes="W28 again")
    wf.checkins.log("A", on=date(2020, 7, 21), notes="W30")
    wf.checkins.log("A", on=date(2020, 7, 28), missed=True, reason="Congés.")  # later, but missed
    wf.checkins.log("B", on=date(2020, 7, 14), missed=True, reason="Malade.")
    with wf.store.read() as s:
        facts = {t.name: t for t in reminder_rows.snapshot(s, paris(2020, 7, 1)).teams}
    assert facts["A"].held == frozenset({"2020-W28", "2020-W30"})
    assert facts["A"].last_checkin == date(2020, 7, 21)
    assert (facts["B"].held, facts["B"].last_checkin) == (frozenset(), None)
    assert (facts["C"].held, facts["C"].last_checkin) == (frozenset(), None)


def test_people_are_rows_with_what_messages_need(wf):
    seed(wf)
    with wf.store.read() as s:
        everyone = reminder_rows.people(s, set(range(1, 40)))
        assert reminder_rows.people(s, set()) == {}
    coach = next(p for p in everyone.values() if p.email == "coach@example.org")
    assert (coach.name, coach.lang, coach.erased_at) == ("Coach Un", "fr", None)
    assert channels_for(coach) == ["email"]
    assert {p.email for p in everyone.values()} >= {COORD, "coach@example.org"}


class _P:
    def __init__(self, channels: str | None) -> None:
        self.channels = channels


def test_channels_for_is_cached_per_text_and_gives_a_new_list_each_time():
    assert channels_for(_P(" chat, email ,chat,fax,")) == ["chat", "email"]
    first = channels_for(_P("console"))
    first.append("email")
    assert channels_for(_P("console")) == ["console"]
    assert channels_for(_P(None)) == channels_for(_P("")) == channels_for(_P("fax")) == ["email"]


# ---- rendering: every kind, in both languages, hostile values escaped in the HTML ------------------

CONTEXTS = {
    "coaching": {"team": 'É "q" !x', "programme": "P<b>", "last_checkin": "2020-10-01", "days_left": 1,
                 "week": "2020-W41", "checkin_url": "https://x.example/checkin/1"},
    "missed_coaching": {"team": "T & U", "programme": "P", "last_checkin": None, "days_left": 2, "week": "2020-W41",
                        "weeks": ["2020-W39", "2020-W40"]},
    "deadline": {"programme": "P", "deadline": "2020-12-23", "days_left": 7, "undecided": ["A", "B <c>"]},
    "deadline_passed": {"programme": "P", "deadline": "2020-12-23", "days_late": 8, "undecided": ["A"]},
    "committee_soon": {"team": "T", "programme": "P", "committee_on": "2020-12-10", "days_left": 1,
                       "committee_url": "https://x.example/c/1"},
    "notice_terminable": {"id": 3, "programme": "P", "partner": "Somme", "on": "2020-11-02",
                          "terminable_on": "2020-12-02", "breach": "Rien <reçu>."},
}


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", due.KINDS)
def test_every_kind_renders_with_the_values_escaped_in_html(kind, lang):
    ctx = {**CONTEXTS[kind], "name": "Inès <Haddad>", "email": "ines@example.org"}
    subject, text, html = render(kind, lang, ctx)
    assert subject and "\n" not in subject and text.endswith("\n")
    assert "Inès <Haddad>" in text and "Inès &lt;Haddad&gt;" in html and "<Haddad>" not in html
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in html


def test_render_still_refuses_a_missing_value():
    with pytest.raises(UndefinedError):
        render("coaching", "fr", {"team": "T"})
