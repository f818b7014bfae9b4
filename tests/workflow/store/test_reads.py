"""The reports' and the intake's reads on both stores: a programme's teams, their check-ins, coaches and
investigations, the last check-ins per team, and lookups of many names at once."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import COORD, paris, ready_team
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.clock import FixedClock
from workflow.store import reads


@pytest.fixture
def two(world):
    """TEAM in investigation with three check-ins, "Dossiers MDPH" in selection; as of 17 July 2020."""
    ready_team(world, "Dossiers MDPH", 1)
    w = world.at(FixedClock(paris(2020, 7, 17, 18, 0)))
    w.checkins.log(TEAM, on=date(2020, 7, 7), notes="un", blockers="b1")
    w.checkins.log(TEAM, on=date(2020, 7, 14), notes="deux", blockers="b2")
    w.checkins.log(TEAM, on=date(2020, 7, 16), missed=True, reason="Congés.")
    return w


def test_teams_by_name_of_only_and_phase(two):
    pid, tid = programme_id(two), team_id(two)
    with two.store.read() as s:
        assert [t.name for t in reads.teams(s, pid)] == ["Dossiers MDPH", TEAM]
        assert [t.name for t in reads.teams(s, pid, [tid])] == [TEAM]
        assert [t.name for t in reads.teams(s, pid, phase="selection")] == ["Dossiers MDPH"]
        assert reads.teams(s, pid + 1000) == []
        assert [p.name for p in reads.partners(s, pid)] == ["Pas-de-Calais"]


def test_checkins_events_coaches_and_investigations_of_teams(two):
    tid, other = team_id(two), team_id(two, "Dossiers MDPH")
    with two.store.read() as s:
        assert [(c.notes, who) for c, who in reads.checkins(s, [tid])] == [("un", COORD), ("deux", COORD), (None, COORD)]
        assert reads.checkins(s, [other]) == []
        assert {e.team_id for e in reads.team_events(s, [other])} == {other}
        assert all(e.team_id is None for e in reads.events_without_team(s))
        assert {e.action for e in reads.events_without_team(s)} >= {"person.add"}
        assert reads.coaches(s, [tid, other]) == {tid: ["Coach Un <coach@example.org>"],
                                                  other: ["Coach Un <coach@example.org>"]}
        assert reads.investigations(s, [tid, other]) == {tid: (paris(2020, 7, 6, 9, 0), None)}


def test_recent_checkins_newest_first_at_most_limit(two):
    tid = team_id(two)
    with two.store.read() as s:
        assert reads.recent_checkins(s, [tid], 2) == [
            (tid, date(2020, 7, 16), "2020-W29", None, None, True, "Congés."),
            (tid, date(2020, 7, 14), "2020-W29", "b2", None, False, None)]
        assert reads.recent_checkins(s, [team_id(two, "Dossiers MDPH")], 2) == []


def test_programme_figures_count_held_weeks_only(two):
    with two.store.read() as s:
        rows, periods, held = reads.programme_figures(s, two.store, programme_id(two), None)
        assert [(r[1], r[2], r[3]) for r in rows] == [("Dossiers MDPH", "selection", "coach@example.org"),
                                                     (TEAM, "investigation", "coach@example.org")]
        assert {p[1] for p in periods if p[0] == team_id(two)} == {"call_for_projects", "selection", "investigation"}
        assert held == {team_id(two): {"2020-W28", "2020-W29"}}
        rows, _, held = reads.programme_figures(s, two.store, programme_id(two), [team_id(two, "Dossiers MDPH")])
        assert [r[1] for r in rows] == ["Dossiers MDPH"] and held == {}


def test_lookups_of_many_names_at_once(two):
    emails = {f"agent{i}@example.org" for i in range(12)} | {"nobody@example.org"}
    with two.store.read() as s:
        assert reads.programme_of_teams(s, {TEAM, "Inconnue"}) == {TEAM: PROG}
        ids = reads.people_ids(s, emails)
        assert len(ids) == 12 and ids["agent3@example.org"] == person_id(two, "agent3@example.org")
        assert reads.roles_of(s, {ids["agent3@example.org"]}) == [(ids["agent3@example.org"], "intrapreneur")]
        assert reads.programme_exists(s, PROG) and not reads.programme_exists(s, "Autre")
        assert reads.person_exists(s, COORD) and not reads.person_exists(s, "nobody@example.org")
