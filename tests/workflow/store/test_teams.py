"""Teams' named queries on both stores: the compare-and-swap, members, periods, agreements, the status rows."""

from __future__ import annotations

import pytest

from tests.conftest import paris, ready_team
from tests.workflow.store.conftest import PROG, TEAM, programme_id, team_id
from workflow.errors import ChangedMeanwhile
from workflow.store import teams
from workflow.store.models import Team


def test_swap_phase_writes_only_at_the_version_it_read(world):
    tid = team_id(world)
    with world.store.read() as s:
        version = s.get(Team, tid).version
    with world.store.write() as s:
        with pytest.raises(ChangedMeanwhile) as e:
            teams.swap_phase(s.connection(), tid, version - 1, TEAM, problem="Perdu")
        assert e.value.code == "changed_meanwhile"
        teams.swap_phase(s.connection(), tid, version, TEAM, problem="Gagné")
    with world.store.read() as s:
        team = s.get(Team, tid)
        assert (team.version, team.problem) == (version + 1, "Gagné")


def test_bump_moves_the_held_team_to_the_next_version(world):
    with world.store.write() as s:
        team = s.get(Team, team_id(world))
        before = team.version
        teams.bump(s, team, problem="Nouveau")
        assert team.version == before + 1
        teams.bump(s, team, problem="Encore")  # the held object follows, so a second bump holds too
    with world.store.read() as s:
        assert s.get(Team, team_id(world)).version == before + 2


def test_members_people_and_roles(world):
    tid = team_id(world)
    with world.store.read() as s:
        assert teams.name_taken(s, TEAM) and not teams.name_taken(s, "Autre")
        assert [m.role for m in teams.members(s, tid, "coach")] == ["coach"]
        assert teams.people_of(s, tid) == [("intrapreneur", "Agent 0", "agent0@example.org", 1.0),
                                           ("coach", "Coach Un", "coach@example.org", None)]
        coach_id = teams.members(s, tid, "coach")[0].person_id
        assert teams.membership(s, tid, coach_id, "coach") is not None
        assert teams.membership(s, tid, coach_id, "sponsor") is None
    with world.store.write() as s:
        teams.drop_role(s, tid, "coach")
    with world.store.read() as s:
        assert teams.members(s, tid, "coach") == []
        assert [r[0] for r in teams.people_of(s, tid)] == ["intrapreneur"]


def test_periods_oldest_first_and_agreements_sorted(world):
    tid = team_id(world)
    with world.store.read() as s:
        assert [(p.phase, p.end is None) for p in teams.periods(s, tid)] == [
            ("call_for_projects", False), ("selection", False), ("investigation", True)]
        assert teams.agreements(s, tid) == ["operator", "partner"]


def test_places_taken_and_the_guards_view(world):
    ready_team(world, "Dossiers MDPH", 1)
    with world.store.read() as s:
        conn = s.connection()
        assert teams.places_taken(conn, programme_id(world)) == 1
        counted = teams.guards_view(conn, "Dossiers MDPH", None)
        assert (counted[1], counted[2], counted[-1]) == ("Dossiers MDPH", "selection", 1)
        assert teams.guards_view(conn, "Dossiers MDPH", 7)[-1] == 7  # the caller's count, when given
        assert teams.guards_view(conn, "Inconnue", 0) is None


def test_next_period_closes_the_open_one(world):
    tid = team_id(world)
    later = paris(2020, 9, 1, 10, 0)
    with world.store.core_write() as conn:
        teams.next_period(conn, tid, "poc_committee", later)
    with world.store.read() as s:
        last_two = [(p.phase, p.start, p.end) for p in teams.periods(s, tid)][-2:]
        assert last_two == [("investigation", paris(2020, 7, 6, 9, 0), later), ("poc_committee", later, None)]


def test_the_lookup_tables_of_status(world):
    with world.store.read() as s:
        conn = s.connection()
        assert [r[1] for r in teams.programme_terms(conn)] == [PROG]
        assert list(teams.partner_names(conn).values()) == ["Pas-de-Calais"]
