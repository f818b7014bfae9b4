"""The shortcuts a tick over 10,000 teams takes (benchmarks/reminders.py) give what the plain way gives.

* ``due_now`` skips the weeks already stale (``occurrences(..., fresh_at=now)``) and computes each
  week's slot, staleness and past weeks once per call (``_Weeks``): the same reminders as filtering
  every occurrence, across DST changes, holiday Mondays, week and year boundaries;
* the snapshot and the people a tick reads: tests/workflow/store/test_reminders.py;
  ``channels_for``: tests/workflow/services/test_outbox.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.conftest import paris
from workflow.rules import due
from workflow.rules.coaching import iso_week
from workflow.rules.due import ProgrammeFacts, Snapshot, TeamFacts
from workflow.settings import Settings

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
    return Snapshot({1: ProgrammeFacts(1, "P", date(2021, 6, 30))}, teams, {1: (1, 2)})


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


def test_a_deadline_names_for_each_reader_the_undecided_teams_they_may_read():
    """Coordinators: every undecided team of their programme; a partner body's reader: that body's; a
    coach or an intrapreneur: their own. Another programme's people are not told."""
    start = paris(2021, 1, 4, 9, 0)

    def team(i: int, programme: int, partner: int, coach: int, intrapreneur: int) -> TeamFacts:
        return TeamFacts(i, f"T{i}", programme, "investigation", ((start, None),), None, None, None, (coach,),
                         (intrapreneur,), frozenset(), None, partner)

    snap = Snapshot({1: ProgrammeFacts(1, "P", date(2021, 6, 30)), 2: ProgrammeFacts(2, "Q", date(2021, 6, 30))},
                    [team(1, 1, 10, 100, 201), team(2, 1, 11, 100, 202), team(3, 1, 11, 101, 203),
                     team(4, 2, 20, 101, 204)],
                    {1: (1,), 2: (2,)}, partner_readers={11: (300,), 20: (301,)})
    d = next(x for x in due.occurrences(snap, paris(2021, 5, 31, 0, 0), paris(2021, 6, 1, 0, 0),
                                        paris(2021, 5, 31, 0, 0), Settings()) if x.key == "deadline:1:J-30")
    assert set(d.recipients) == {1, 100, 101, 201, 202, 203, 300}  # not 2, 204, 301: programme Q's
    assert d.context["undecided"] == ["T1", "T2", "T3"] and 1 not in d.per_reader  # the coordinator's copy
    assert {pid: x["undecided"] for pid, x in d.per_reader.items()} == {
        100: ["T1", "T2"], 101: ["T3"], 201: ["T1"], 202: ["T2"], 203: ["T3"], 300: ["T2", "T3"]}
