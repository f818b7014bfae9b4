"""People's named queries on both stores: who acts, their grants, roles and ties, what a reach filters,
lookups by name, the grants themselves, the directory."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tests.conftest import COORD
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.rules.permissions import Grant, Reach
from workflow.store import people
from workflow.store.engine import open_store
from workflow.store.models import PersonGrant, PersonRole


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
        assert people.grants(conn, coach) == {Grant("coach")}
        # the first person is the administrator, and coordinates the programme they added
        assert people.roles(conn, person_id(world, COORD)) == {"admin", "coordinator"}
        assert people.grants(conn, person_id(world, COORD)) == {Grant("admin"), Grant("coordinator", programme_id(world))}
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
        assert people.names(s, "team", "", 10, among=[team_id(world)]) == [TEAM]
        assert people.names(s, "person", "coach", 10, among=[person_id(world, "agent0@example.org")]) == []


def test_the_directory_one_row_per_person_holding_a_role(world):
    world.directory.add_person("Zoé", "zoe@example.org", ["coach", "committee"])
    zoe = person_id(world, "zoe@example.org")
    with world.store.read() as s:
        assert people.anyone(s)
        assert people.holding(s, "coach") == 2
        assert people.held_teams(s, person_id(world, "coach@example.org"), "coach", ("investigation",)) == [TEAM]
        assert people.held_teams(s, person_id(world, "coach@example.org"), "coach", ("selection",)) == []
        # a team role (person_role) or a grant (person_grant): the same one row
        assert [tuple(r) for r in people.directory(s, "committee")] == [(zoe, "Zoé", "zoe@example.org", "email", "fr")]
        assert [r.email for r in people.directory(s, "coach")] == ["coach@example.org", "zoe@example.org"]
        assert [r.email for r in people.directory(s, None, [zoe])] == ["zoe@example.org"]
        assert people.team_roles(s, [zoe]) == [(zoe, "coach")] and people.team_roles_of(s, zoe) == {"coach"}


def test_what_a_reach_filters(world):
    world.directory.add_programme("FAST 2019", date(2020, 6, 1), kind="fast")
    world.directory.add_partner("Nord", "FAST 2019")
    world.teams.add("Autre", "FAST 2019", "Nord", intrapreneurs=["agent3@example.org"])
    p1, p2 = programme_id(world), programme_id(world, "FAST 2019")
    t1, t2 = team_id(world), team_id(world, "Autre")
    coach, agent3 = person_id(world, "coach@example.org"), person_id(world, "agent3@example.org")
    with world.store.read() as s:
        nord = people.partner_by_name(s, p2, "Nord").id

        def teams(r: Reach, who: int = coach) -> set[int]:
            f = people.team_filter(r, who)
            return {t1, t2} if f is None else set(s.execute(f).scalars())

        def programmes(r: Reach, who: int = coach) -> set[int]:
            f = people.programme_filter(r, who)
            return {p1, p2} if f is None else set(s.execute(f).scalars())

        assert people.team_filter(Reach(everything=True), coach) is None
        assert people.programme_filter(Reach(everything=True), coach) is None
        assert teams(Reach()) == set() and programmes(Reach()) == set()
        assert teams(Reach(programmes=frozenset({p2}))) == {t2} and programmes(Reach(programmes=frozenset({p2}))) == {p2}
        assert teams(Reach(partners=frozenset({nord}))) == {t2} and programmes(Reach(partners=frozenset({nord}))) == {p2}
        assert teams(Reach(team_roles=frozenset({"coach"}))) == {t1}
        assert teams(Reach(team_roles=frozenset({"intrapreneur"})), agent3) == {t2}
        assert programmes(Reach(team_roles=frozenset({"coach"}))) == {p1}
        assert teams(Reach(team_roles=frozenset({"sponsor"}))) == set()
        assert people.programmes_of(s, coach) == {p1} and people.programmes_of(s, agent3) == {p2}
        assert people.programmes_of(s, person_id(world, COORD)) == {p1, p2}  # granted coordinator of both
        assert people.programmes_of(s, person_id(world, "agent9@example.org")) == set()


def test_grants_are_held_counted_shown_and_taken_away(world):
    p1 = programme_id(world)
    world.directory.add_partner("Somme", PROG)
    zoe_grant = world.directory.add_person("Zoé", "zoe@example.org", ["committee"])
    assert zoe_grant.grants[0].programme == PROG
    zoe, coord = person_id(world, "zoe@example.org"), person_id(world, COORD)
    with world.store.write() as s:
        bodies = {n: people.partner_by_name(s, p1, n).id for n in ("Pas-de-Calais", "Somme")}
        assert people.grant_held(s, zoe, Grant("committee", p1)) and not people.grant_held(s, zoe, Grant("committee"))
        people.insert_grant(s, zoe, Grant("partner", p1, bodies["Somme"]))
        people.insert_grant(s, zoe, Grant("partner", p1, bodies["Pas-de-Calais"]))
        assert people.grant_holders(s, "committee") == 1 and people.grant_holders(s, "committee", p1 + 100) == 0
        assert people.grant_holders(s, "admin") == 1 and people.grant_holders(s, "coordinator", p1) == 1
        assert people.grants_shown(s, [zoe, coord]) == [
            (coord, "admin", None, None), (coord, "coordinator", PROG, None), (zoe, "committee", PROG, None),
            (zoe, "partner", PROG, "Pas-de-Calais"), (zoe, "partner", PROG, "Somme")]
        assert people.grants_shown(s, [zoe, coord], [p1 + 100]) == [(coord, "admin", None, None)]  # the instance's
        assert sorted(people.programme_holders(s.connection(), ("committee", "partner"))) == [
            (zoe, "committee", p1, None), (zoe, "partner", p1, bodies["Pas-de-Calais"]),
            (zoe, "partner", p1, bodies["Somme"])]
        assert people.programme_holders(s.connection(), ("coordinator",), [p1 + 100]) == []
        assert people.partner_name(s, bodies["Somme"]) == "Somme" and people.partner_name(s, None) is None
        assert people.delete_grants(s, zoe, "partner", p1) == 2  # every partner body of the programme
        assert people.delete_grants(s, zoe, "partner", p1) == 0
        assert people.delete_grants(s, coord, "admin", None) == 1 and people.grant_holders(s, "admin") == 0
        assert people.programme_of(s, p1).name == PROG


def test_the_people_one_sees(world):
    world.directory.add_person("Comité", "committee@example.org", ["committee"])
    world.directory.add_person("Libre", "free@example.org", ["coach"])  # on no team yet
    coach, agent0 = person_id(world, "coach@example.org"), person_id(world, "agent0@example.org")
    committee, free = person_id(world, "committee@example.org"), person_id(world, "free@example.org")
    with world.store.read() as s:
        def seen(f):
            return set(s.execute(f).scalars())
        team = people.team_ids(coach, ["coach"])
        # the coach sees their team's members and themselves; not the committee, nor anyone unplaced
        assert seen(people.people_filter(team, [], coach)) == {coach, agent0}
        # who reads the programme as a whole also sees those granted a role there
        everyone_in = seen(people.people_filter(sa.select(sa.literal(team_id(world))), [programme_id(world)], committee))
        assert {committee, person_id(world, COORD), coach, agent0} <= everyone_in and free not in everyone_in
        unplaced = seen(people.or_unplaced(people.people_filter(team, [], coach)))
        assert {coach, agent0, free} <= unplaced and committee not in unplaced
        assert person_id(world, "agent7@example.org") in unplaced  # named on no team
        assert people.among_people(s, free, people.or_unplaced(people.people_filter(team, [], coach)))


def test_global_roles_of_before_grants_become_grants(world):
    """Schema 0008: coordinator and committee were global roles (person_role); the migration and an
    older backup map them: nothing widened, nothing lost."""
    world.directory.add_programme("FAST 2019", date(2020, 6, 1), kind="fast")
    p1, p2 = programme_id(world), programme_id(world, "FAST 2019")
    coach, agent = person_id(world, "coach@example.org"), person_id(world, "agent0@example.org")
    with world.store.write() as s:
        s.execute(sa.delete(PersonGrant.__table__))
        s.add_all([PersonRole(person_id=agent, role="coordinator"), PersonRole(person_id=coach, role="coordinator"),
                   PersonRole(person_id=coach, role="committee")])
        s.flush()
        assert people.grants_from_roles(s.connection()) == sorted([coach, agent])
        conn = s.connection()
        first = min(coach, agent)
        assert people.grants(conn, first) >= {Grant("admin")}
        assert people.grants(conn, coach) - {Grant("admin")} == {
            Grant("coach"), Grant("coordinator", p1), Grant("coordinator", p2), Grant("committee", p1),
            Grant("committee", p2)}
        assert people.grants(conn, agent) - {Grant("admin")} == {
            Grant("intrapreneur"), Grant("coordinator", p1), Grant("coordinator", p2)}
        assert people.grant_holders(s, "admin") == 1
        assert not people.has_role(s, coach, "coordinator") and not people.has_role(s, coach, "committee")
        assert people.grants_from_roles(s.connection()) == []  # nothing left to map


def test_no_one_in_a_new_store(db_url):
    store = open_store(db_url, create=True)  # created without the first coordinator Workflow.open records
    try:
        with store.read() as s:
            assert not people.anyone(s)
    finally:
        store.close()
