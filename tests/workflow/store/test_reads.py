"""The reports', the intake's and ``status``' reads on both stores: a programme's teams, their check-ins,
coaches and investigations, the last check-ins per team, lookups of many names at once, and the rows
of ``status`` (one per team, in order, within the reader's scope)."""

from __future__ import annotations

from datetime import date

import pytest

from sqlmodel import select

from tests.conftest import COORD, paris, ready_team
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.clock import FixedClock, stored_utc
from workflow.store import reads
from workflow.store.models import PersonRole, Team, TeamMember


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


# ---- the status of many teams -------------------------------------------------------------------

def _second_coach(w, email: str = "a-coach@example.org") -> None:
    """Give TEAM a second coach, whose e-mail comes first (the store allows it; the services name one)."""
    from workflow.store import teams as team_rows

    w.directory.add_person("Coach Zéro", email, ["coach"])
    with w.store.write() as s:
        team_rows.add_member(s, team_id(w), person_id(w, email), "coach")


def test_status_one_row_per_team_in_order_with_the_first_coach_by_email(two):
    _second_coach(two)
    pid, tid, other = programme_id(two), team_id(two), team_id(two, "Dossiers MDPH")
    with two.store.read() as s:
        rows = list(reads.status(two.store, s.connection(), reads.status_scope()))
    assert [(r[0], r[1], r[2], r[4], r[6]) for r in rows] == [
        (other, "Dossiers MDPH", pid, "selection", "coach@example.org"),
        (tid, TEAM, pid, "investigation", "a-coach@example.org")]
    assert stored_utc(rows[1][5]) == paris(2020, 7, 6, 9, 0)  # as the driver gives it, converted by the caller


def test_status_scope_takes_a_team_subquery_as_its_own_conditions(two):
    tid, other = team_id(two), team_id(two, "Dossiers MDPH")
    only = select(Team.id).where(Team.id == tid)
    scope = reads.status_scope(visible=only)
    assert scope == [only.whereclause]  # no ``team.id IN (SELECT team.id ...)``
    members = select(TeamMember.team_id).where(TeamMember.person_id == person_id(two, "agent0@example.org"))
    other_shape = reads.status_scope(visible=members)  # not ``team.id`` of ``team``: kept as a subquery
    assert "IN (SELECT team_member.team_id" in str(select(Team.id).where(*other_shape))
    first = select(Team.id).where(Team.id.in_([tid, other])).order_by(Team.name).limit(1)  # more than conditions
    assert "LIMIT" in str(select(Team.id).where(*reads.status_scope(visible=first)))
    with two.store.read() as s:
        conn = s.connection()
        for visible in (only, members):
            assert [r[0] for r in reads.status(two.store, conn, reads.status_scope(visible=visible))] == [tid]
        assert [r[0] for r in reads.status(two.store, conn, reads.status_scope(visible=first))] == [other]
        selection = reads.status_scope(programme_id(two), "selection")
        assert [r[0] for r in reads.status(two.store, conn, selection)] == [other]
        assert list(reads.status(two.store, conn, reads.status_scope(programme_id(two) + 1000))) == []


def test_scope_subqueries_over_memberships_are_not_tied_to_the_coach_join(two):
    """A scope may hold a subquery over the memberships (an intrapreneur's teams): it keeps the teams
    it names, not those whose coach, found by the rows' own join, would match it."""
    _second_coach(two)
    agent = person_id(two, "agent0@example.org")
    theirs = select(Team.id).where(Team.id.in_(select(TeamMember.team_id).where(
        TeamMember.person_id == PersonRole.person_id, PersonRole.role == "intrapreneur",
        TeamMember.person_id == agent)))
    with two.store.read() as s:
        rows = list(reads.status(two.store, s.connection(), reads.status_scope(visible=theirs)))
    assert [(r[1], r[6]) for r in rows] == [(TEAM, "a-coach@example.org")]


def test_held_checkins_of_the_scope_leave_missed_weeks_out(two):
    tid = team_id(two)
    with two.store.read() as s:
        conn = s.connection()
        [(team, weeks, last)] = list(reads.held_checkins(conn, reads.status_scope()))
        assert (team, set(weeks.split(","))) == (tid, {"2020-W28", "2020-W29"})
        assert str(last) == "2020-07-14"  # the missed one of the 16th is not a check-in held
        assert list(reads.held_checkins(conn, reads.status_scope(phase="selection"))) == []
