"""People's named queries on both stores: who acts, their roles and ties, lookups by name, the directory."""

from __future__ import annotations

from tests.conftest import COORD
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.store import people
from workflow.store.engine import open_store


def test_login_of_a_system_user_and_of_an_email():
    assert people.login_of("camille" + people.SYSTEM) == "camille"
    assert people.login_of("camille@example.org") is None


def test_actor_id_by_email_and_none_once_erased(world):
    coach = person_id(world, "coach@example.org")
    with world.store.read() as s:
        assert people.actor_id(s.connection(), "coach@example.org") == coach
        assert people.actor_id(s.connection(), "nobody@example.org") is None
        assert people.actor_id(s.connection(), "coach" + people.SYSTEM) is None  # no one has that login
    world.privacy.erase("agent5@example.org", "asked")
    with world.store.read() as s:
        assert people.actor_id(s.connection(), "agent5@example.org") is None


def test_roles_and_ties(world):
    coach, agent = person_id(world, "coach@example.org"), person_id(world, "agent0@example.org")
    tid = team_id(world)
    with world.store.read() as s:
        conn = s.connection()
        assert people.roles(conn, coach) == {"coach"}
        assert people.roles(conn, person_id(world, COORD)) == {"coordinator"}
        assert people.ties(conn, tid, coach) == {"coach"}
        assert people.ties(conn, tid, agent) == {"intrapreneur"}
        assert people.ties(conn, tid, person_id(world, "agent1@example.org")) == frozenset()
        assert people.has_role(s, coach, "coach") and not people.has_role(s, coach, "sponsor")
        assert people.role_row(s, coach, "coach").role == "coach"
        assert s.execute(people.team_ids(coach, ["coach"])).scalars().all() == [tid]
        assert s.execute(people.team_ids(coach, ["sponsor"])).scalars().all() == []


def test_lookups_by_name(world):
    with world.store.read() as s:
        assert people.person_by_email(s, "coach@example.org").name == "Coach Un"
        assert people.person_by_email(s, "COACH@example.org") is None
        assert people.programme_by_name(s, PROG).id == programme_id(world)
        assert people.team_by_name(s, TEAM).phase == "investigation"
        assert people.team_by_name(s, "Inconnue") is None
        assert people.partner_by_name(s, programme_id(world), "Pas-de-Calais").name == "Pas-de-Calais"
        assert people.partner_by_name(s, programme_id(world), "Nord") is None


def test_names_by_prefix_take_percent_and_underscore_literally(world):
    world.teams.add("Insertion_100%", PROG, "Pas-de-Calais")
    with world.store.read() as s:
        assert people.names(s, "team", "Ins", 10) == ["Insertion RSA", "Insertion_100%"]
        assert people.names(s, "team", "Insertion_", 10) == ["Insertion_100%"]
        assert people.names(s, "team", "Insertion%", 10) == []
        assert set(people.names(s, "person", "agent1", 10)) == {
            "agent1@example.org", "agent10@example.org", "agent11@example.org"}
        assert len(people.names(s, "person", "agent1", 2)) == 2
        assert people.names(s, "team", "", 10, teams=[team_id(world)]) == [TEAM]


def test_the_directory_one_row_per_role(world):
    world.directory.add_person("Zoé", "zoe@example.org", ["coach", "committee"])
    with world.store.read() as s:
        assert people.anyone(s)
        assert people.holding(s, "coach") == 2
        assert people.held_teams(s, person_id(world, "coach@example.org"), "coach", ("investigation",)) == [TEAM]
        assert people.held_teams(s, person_id(world, "coach@example.org"), "coach", ("selection",)) == []
        assert [r[:3] for r in people.directory(s, "committee")] == [
            ("Zoé", "zoe@example.org", "coach"), ("Zoé", "zoe@example.org", "committee")]


def test_no_one_in_a_new_store(db_url):
    store = open_store(db_url, create=True)  # created without the first coordinator Workflow.open records
    try:
        with store.read() as s:
            assert not people.anyone(s)
    finally:
        store.close()
