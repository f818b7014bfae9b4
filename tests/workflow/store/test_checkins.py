"""Check-ins' named queries on both stores: the investigation period, one per author and week, entries
by filter, the weeks held per team, and corrections."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import COORD, paris
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.clock import FixedClock
from workflow.store import checkins


@pytest.fixture
def logged(world):
    """Two check-ins of the coordinator in weeks 28 and 29 of 2020, as of Friday 17 July."""
    w = world.at(FixedClock(paris(2020, 7, 17, 18, 0)))
    w.checkins.log(TEAM, on=date(2020, 7, 8), notes="un", hours=2)
    w.checkins.log(TEAM, on=date(2020, 7, 15), notes="deux", hours=3)
    return w


def test_investigation_is_the_open_period(world):
    with world.store.read() as s:
        start, end = checkins.investigation(s.connection(), team_id(world))
        assert (start, end) == (paris(2020, 7, 6, 9, 0), None)
        assert checkins.investigation(s.connection(), team_id(world) + 1000) is None


def test_logged_in_week_is_per_author(logged):
    tid, coord = team_id(logged), person_id(logged, COORD)
    with logged.store.read() as s:
        assert checkins.logged_in_week(s, tid, coord, "2020-W28")
        assert not checkins.logged_in_week(s, tid, coord, "2020-W30")
        assert not checkins.logged_in_week(s, tid, person_id(logged, "coach@example.org"), "2020-W28")


def test_entries_in_order_of_day_filtered(logged):
    tid, coord = team_id(logged), person_id(logged, COORD)
    with logged.store.read() as s:
        assert [(c.notes, team, who) for c, team, who in checkins.entries(s, team_id=tid)] == [
            ("un", TEAM, COORD), ("deux", TEAM, COORD)]
        assert [c.notes for c, *_ in checkins.entries(s, week="2020-W29")] == ["deux"]
        assert [c.notes for c, *_ in checkins.entries(s, since=date(2020, 7, 9))] == ["deux"]
        assert [c.notes for c, *_ in checkins.entries(s, author_id=coord + 1000)] == []
        assert [c.notes for c, *_ in checkins.entries(s, teams=checkins.investigating(programme_id(logged)))] == [
            "un", "deux"]
        assert [c.hours for c in checkins.held(s, tid)] == [2, 3]
        assert checkins.names(s, tid, coord) == (TEAM, COORD)


def test_held_weeks_joined_by_the_database(logged):
    with logged.store.read() as s:
        [(team, missed, weeks, last)] = checkins.held_weeks(s.connection(), checkins.investigating()).all()
        assert (team, missed, sorted(weeks.split(",")), last) == (
            team_id(logged), False, ["2020-W28", "2020-W29"], date(2020, 7, 15))


def test_gap_rows(logged):
    with logged.store.read() as s:
        conn = s.connection()
        [row] = checkins.gap_rows(conn, checkins.investigating())
        assert tuple(row)[:4] == (team_id(logged), TEAM, PROG, "Pas-de-Calais")
        assert row[-1] == "coach@example.org"
        assert checkins.gap_rows(conn, checkins.investigating(programme_id(logged) + 1)) == []


def test_to_edit_and_update(logged):
    with logged.store.read() as s:
        first, *_ = next(iter(checkins.entries(s, week="2020-W28")))
        cid = first.id
    with logged.store.core_write() as conn:
        row = checkins.to_edit(conn, cid)
        assert (row.team_name, row.phase, row.author, row.notes) == (TEAM, "investigation", COORD, "un")
        new = {k: getattr(row, k) for k in checkins.FIELDS} | {"notes": "corrigé", "week": row.week,
                                                                "updated_at": paris(2020, 7, 17, 18, 0)}
        checkins.update(conn, cid, new)
        assert checkins.to_edit(conn, cid + 1000) is None
    with logged.store.read() as s:
        assert [c.notes for c, *_ in checkins.entries(s, week="2020-W28")] == ["corrigé"]
