"""The signed links' reads and writes on both stores: the person, the team, the check-in to correct,
who may give an opinion, and revoking."""

from __future__ import annotations

from datetime import date

from tests.conftest import COORD, paris
from tests.workflow.store.conftest import PROG, TEAM, person_id, team_id
from workflow.clock import FixedClock
from workflow.store import links


def test_person_is_one_row_or_none(world):
    pid = person_id(world, "coach@example.org")
    with world.store.read() as s:
        row = links.person(s.connection(), pid)
        assert (row.id, row.email, row.name, row.link_generation) == (pid, "coach@example.org", "Coach Un", 0)
        assert links.person(s.connection(), pid + 1000) is None


def test_target_is_the_team_its_programme_partner_and_coaches(world):
    tid = team_id(world)
    with world.store.read() as s:
        row, coaches = links.target(s.connection(), tid)
        assert tuple(row) == (TEAM, "investigation", PROG, "Pas-de-Calais")
        assert coaches == ["coach@example.org"]
        assert links.target(s.connection(), tid + 1000) is None


def test_own_checkin_is_the_last_the_person_logged_that_week(world):
    tid, coord = team_id(world), person_id(world, COORD)
    w = world.at(FixedClock(paris(2020, 7, 9, 18, 0)))
    with w.store.read() as s:
        assert links.own_checkin(s.connection(), tid, "2020-W28", coord) is None
    w.checkins.log(TEAM, on=date(2020, 7, 7), notes="un")
    second = w.checkins.log(TEAM, on=date(2020, 7, 8), notes="deux")
    with w.store.read() as s:
        assert links.own_checkin(s.connection(), tid, "2020-W28", coord) == second.id
        assert links.own_checkin(s.connection(), tid, "2020-W28", person_id(w, "coach@example.org")) is None
        assert links.own_checkin(s.connection(), tid, "2020-W29", coord) is None


def test_committee_members_and_coordinators_of_the_teams_programme_give_opinions(world):
    world.directory.add_person("Membre", "committee@example.org", ["committee"])
    world.directory.add_programme("FAST 2021", date(2021, 1, 4), kind="fast")
    world.directory.add_partner("Nord", "FAST 2021")
    world.teams.add("Ailleurs", "FAST 2021", "Nord")
    world.directory.add_person("Autre", "other@example.org", ["coach"])
    world.directory.grant("other@example.org", "coordinator", "FAST 2021")
    tid, other = team_id(world), team_id(world, "Ailleurs")
    with world.store.read() as s:
        assert links.gives_opinions(s, person_id(world, "committee@example.org"), tid)
        assert links.gives_opinions(s, person_id(world, COORD), tid)
        assert not links.gives_opinions(s, person_id(world, "coach@example.org"), tid)
        # Per programme: the committee of one programme, the coordinator of another, give none elsewhere.
        assert not links.gives_opinions(s, person_id(world, "committee@example.org"), other)
        assert not links.gives_opinions(s, person_id(world, "other@example.org"), tid)
        assert links.gives_opinions(s, person_id(world, "other@example.org"), other)


def test_revoke_bumps_the_generation_of_that_person_only(world):
    coach, agent = person_id(world, "coach@example.org"), person_id(world, "agent0@example.org")
    with world.store.write() as s:
        assert links.revoke(s, coach) == 1
        assert links.revoke(s, coach) == 2
    with world.store.read() as s:
        assert links.person(s.connection(), coach).link_generation == 2
        assert links.person(s.connection(), agent).link_generation == 0
