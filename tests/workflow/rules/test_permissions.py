"""Who may do what, and where: the table (action × role × scope) exhaustively against the one written
here, :class:`Reach` and :func:`reach` alone, and the API refusing, across programmes, without writing."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from tests.conftest import COORD, ready_team, seed
from workflow.api import Workflow
from workflow.errors import Forbidden
from workflow.records import GrantRecord, PersonRecord
from workflow.rules.permissions import (ACTIONS, INSTANCE_ROLES, PROGRAMME_ROLES, ROLES, TABLE, TEAM_ROLES, Grant,
                                        Reach, grantor_action, reach, roles_allowed)

# The table, written out: action -> role -> how far it reaches ("—": nowhere).
# instance: everything; programme: the programmes granted in; partner: the partner body granted for;
# team: the teams one is a member of in that role; own: one's own data only.
ROLE_ORDER = ("admin", "coordinator", "committee", "partner", "intrapreneur", "coach", "sponsor")
EXPECTED_ROWS = """
action           admin     coordinator committee  partner   intrapreneur coach  sponsor
programmes       instance  —           —          —         —            —      —
manage           instance  programme   —          —         —            —      —
decide           —         programme   —          —         —            —      —
opinion          —         programme   programme  —         —            —      —
checkin          —         programme   —          —         —            team   —
read             —         programme   programme  partner   team         team   team
remind           instance  programme   —          —         —            —      —
privacy          instance  programme   own        own       own          own    own
agreements       —         programme   —          —         —            —      —
agreements_read  —         programme   programme  partner   —            —      —
audit            instance  programme   —          —         —            —      —
"""
_lines = [line.split() for line in EXPECTED_ROWS.strip().splitlines()]
assert tuple(_lines[0][1:]) == ROLE_ORDER
EXPECTED = {row[0]: dict(zip(ROLE_ORDER, row[1:])) for row in _lines[1:]}

# A small world: programme 1 with partner bodies 10 and 11, programme 2 with partner body 20; one team
# of each partner body. The person is tied (in their team role) to team "t1" only.
TEAMS = {"t1": (1, 10), "t2": (1, 11), "t3": (2, 20)}
TIED = "t1"


def place(role: str) -> Grant:
    """The grant of ``role`` a person holds in the world: in programme 1, for partner body 10."""
    if role in PROGRAMME_ROLES:
        return Grant(role, 1, 10 if role == "partner" else None)
    return Grant(role)


def oracle(scope: str, team: str) -> bool:
    """Whether a grant placed as :func:`place` places it, with ``scope``, reaches ``team``."""
    programme, partner = TEAMS[team]
    return {"instance": True, "programme": programme == 1, "partner": partner == 10,
            "team": team == TIED, "own": False, "—": False}[scope]


def test_the_table_is_the_expected_one_word_for_word():
    assert set(TABLE) == set(EXPECTED) == set(ACTIONS)
    assert ROLE_ORDER == ROLES == INSTANCE_ROLES + PROGRAMME_ROLES + TEAM_ROLES
    for action, rules in EXPECTED.items():
        assert {r: s for r, s in rules.items() if s != "—"} == TABLE[action], action


@pytest.mark.parametrize("action,role", list(itertools.product(EXPECTED, ROLE_ORDER)))
def test_every_action_role_and_scope_reaches_exactly_its_teams(action, role):
    scope = EXPECTED[action][role]
    r = reach(action, [place(role)])
    for team, (programme, partner) in TEAMS.items():
        ties = {role} if team == TIED and role in TEAM_ROLES else set()
        assert r.covers(programme, partner, ties) == oracle(scope, team), (action, role, team)
    assert r.everything == (scope == "instance")
    assert r.anything == (scope in ("instance", "programme", "partner", "team"))
    assert r.own == (scope in ("own", "instance"))
    # A programme or a partner body as a whole (no team, no tie): only the wide scopes reach it.
    assert r.covers(1) == (scope in ("instance", "programme"))
    assert r.covers(2) == (scope == "instance")


@pytest.mark.parametrize("action", list(EXPECTED))
def test_roles_allowed_are_those_reaching_something_in_role_order(action):
    assert roles_allowed(action) == [r for r in ROLE_ORDER if EXPECTED[action][r] not in ("—", "own")]


@pytest.mark.parametrize("action,role", list(itertools.product(EXPECTED, PROGRAMME_ROLES)))
def test_a_programme_grant_without_its_place_reaches_nothing(action, role):
    # coordinator or committee of no programme; a partner reader of no partner body
    unplaced = Grant(role) if role != "partner" else Grant(role, 1)
    r = reach(action, [unplaced])
    assert not r.anything and r.programmes == r.partners == frozenset()
    assert r.own == (EXPECTED[action][role] == "own")


def test_grants_add_up_each_for_its_own_action():
    grants = [Grant("coordinator", 1), Grant("partner", 2, 20), Grant("coach")]
    read = reach("read", grants)
    assert read == Reach(False, frozenset({1}), frozenset({20}), frozenset({"coach"}), False)
    assert all(read.covers(*TEAMS[t]) for t in TEAMS)
    agreements = reach("agreements", grants)
    assert agreements.programmes == {1} and not agreements.partners and not agreements.team_roles
    assert not agreements.covers(*TEAMS["t3"])
    checkin = reach("checkin", grants)  # the coach: only where tied
    assert checkin.covers(2, 20, {"coach"}) and not checkin.covers(2, 20, {"intrapreneur"})
    assert reach("decide", [Grant("coordinator", 1), Grant("coordinator", 2)]).programmes == {1, 2}
    assert reach("read", [Grant("partner", 1, 10), Grant("partner", 1, 11)]).partners == {10, 11}


def test_no_grant_reaches_nothing_and_owns_nothing():
    for action in ACTIONS:
        assert reach(action, []) == Reach()
        assert not Reach().covers(1, 10, set(ROLES))


def test_an_administrator_reaches_everything_they_are_given_and_nothing_else():
    admin = [Grant("admin")]
    for action in ACTIONS:
        r = reach(action, admin)
        assert r.everything == (action in ("programmes", "manage", "remind", "privacy", "audit"))
    assert not reach("read", admin).anything  # an administrator does not read teams


def test_reach_covers_each_way_in():
    assert Reach(everything=True).covers(None)
    assert Reach(programmes=frozenset({1})).covers(1) and not Reach(programmes=frozenset({1})).covers(2, 10)
    # a partner body is reached whatever programme is named with it, and never without it
    assert Reach(partners=frozenset({10})).covers(2, 10) and not Reach(partners=frozenset({10})).covers(1)
    assert not Reach(partners=frozenset({10})).covers(1, 11)
    # a team role reaches where the person is tied in that role, in any programme
    r = Reach(team_roles=frozenset({"coach", "sponsor"}))
    assert r.covers(7, None, {"sponsor"}) and not r.covers(7, None, {"intrapreneur"}) and not r.covers(7)
    assert Reach(own=True).anything is False and Reach(team_roles=frozenset({"coach"})).anything is True


def test_a_grant_s_figure_names_its_place():
    assert Grant("admin").figure == "admin"
    assert Grant("coach").figure == "coach"
    assert Grant("coordinator", 3).figure == "coordinator:p3"
    assert Grant("partner", 3, 5).figure == "partner:p3:b5"
    assert sorted([Grant("partner", 1, 2), Grant("admin"), Grant("coordinator", 1)])[0] == Grant("admin")


def test_who_grants_what():
    assert grantor_action("admin") == grantor_action("coordinator") == "programmes"
    assert grantor_action("committee") == grantor_action("partner") == "manage"


# ---- the API: refusals across programmes write nothing ------------------------------------------------

@pytest.fixture
def people(wf):
    seed(wf)
    wf.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    wf.directory.add_person("Comité", "committee@example.org", ["committee"])  # the only programme
    ready_team(wf, "A", 0)
    ready_team(wf, "B", 1)
    wf.teams.edit("B", coach="coach2@example.org")
    wf.transitions.advance("A", "select")
    wf.transitions.advance("B", "select")
    return wf


@pytest.fixture
def two(people):
    """A second programme, coordinated by coord2 only (COORD, the administrator, adds it for them), with a
    team C, its committee member, and a partner reader of its partner body Nord."""
    people.directory.add_person("Coord Deux", "coord2@example.org", ["coach"])
    people.directory.add_programme("FAST 2019", date(2020, 6, 1), kind="fast", coordinator="coord2@example.org")
    c2 = as_(people, "coord2@example.org")
    c2.directory.add_partner("Nord", "FAST 2019")
    c2.directory.add_person("Comité Deux", "committee2@example.org", ["committee"], programme="FAST 2019")
    c2.directory.add_person("Lecteur Nord", "nord@example.org", ["partner"], programme="FAST 2019", partner="Nord")
    c2.teams.add("C", "FAST 2019", "Nord", problem="Un autre problème.", intrapreneurs=["agent5@example.org"])
    return people


def as_(w: Workflow, who: str) -> Workflow:
    return Workflow(w.store, w.clock, who)


def test_a_coach_logs_for_their_team_only(people):
    coach = as_(people, "coach@example.org")
    coach.checkins.log("A", notes="ok")
    with pytest.raises(Forbidden, match=r"acting as coach@example.org \(coach\).*'B': it is not one of your teams"):
        coach.checkins.log("B", notes="not mine")
    assert [c.team for c in people.checkins()] == ["A"]


def test_a_coach_reads_their_teams_only(people):
    coach = as_(people, "coach2@example.org")
    assert [t.name for t in coach.teams.status()] == ["B"]
    assert coach.teams.show("B").name == "B"
    with pytest.raises(Forbidden):
        coach.teams.show("A")
    with pytest.raises(Forbidden):
        coach.transitions.history("A")


def test_an_intrapreneur_reads_their_team_and_changes_nothing(people):
    me = as_(people, "agent0@example.org")
    assert [t.name for t in me.teams.status()] == ["A"]
    with pytest.raises(Forbidden, match="it needs the grant coordinator of 'Pré-incubation 2020'"):
        me.transitions.advance("A", "abandon", reason="x")
    with pytest.raises(Forbidden, match="needs the grant coordinator"):
        me.checkins.log("A", notes="x")


def test_the_committee_records_its_opinion_but_not_the_date(people):
    people.teams.poc("A", "s")
    people.teams.committee("A", on=date(2020, 12, 1))
    people.transitions.advance("A", "present")
    committee = as_(people, "committee@example.org")
    with pytest.raises(Forbidden, match="coordinator"):
        committee.teams.committee("A", on=date(2020, 12, 2))
    committee.teams.committee("A", opinion="Avis favorable.")
    assert people.teams.show("A").committee.opinion == "Avis favorable."
    assert len(committee.teams.status()) == 2  # the committee reads every team of its programme


def test_refusals_write_nothing(people):
    before = people.transitions.history("A")
    for who in ("coach@example.org", "agent0@example.org", "committee@example.org"):
        w = as_(people, who)
        with pytest.raises(Forbidden):
            w.transitions.advance("A", "abandon", reason="x")
        with pytest.raises(Forbidden):
            w.directory.add_programme("Autre", date(2021, 1, 4))
    assert people.transitions.history("A") == before
    assert [p.name for p in people.directory.programmes()] == ["Pré-incubation 2020"]


def test_a_coordinator_of_one_programme_reads_and_changes_nothing_of_another(two):
    c2 = as_(two, "coord2@example.org")
    assert [t.name for t in c2.teams.status()] == ["C"]
    assert [p.name for p in c2.directory.programmes()] == ["FAST 2019"]
    before = two.transitions.history("A")
    for attempt in (lambda: c2.transitions.advance("A", "abandon", reason="x"),
                    lambda: c2.directory.add_partner("Oise", "Pré-incubation 2020"),
                    lambda: c2.directory.grant("coach2@example.org", "committee", "Pré-incubation 2020"),
                    lambda: c2.teams.show("A")):
        with pytest.raises(Forbidden) as e:
            attempt()
        assert e.value.code == "grant_needed" and e.value.params["programme"] == "Pré-incubation 2020"
    assert two.transitions.history("A") == before
    assert "Oise" not in [x.name for x in two.directory.programme("Pré-incubation 2020").partners]


def test_a_committee_member_and_a_partner_reader_read_their_place_only(two):
    assert [t.name for t in as_(two, "committee@example.org").teams.status()] == ["A", "B"]
    assert [t.name for t in as_(two, "committee2@example.org").teams.status()] == ["C"]
    assert [t.name for t in as_(two, "nord@example.org").teams.status()] == ["C"]
    with pytest.raises(Forbidden):
        as_(two, "nord@example.org").directory.add_partner("Oise", "FAST 2019")


def test_unknown_actors_are_refused(people):
    with pytest.raises(Forbidden, match="unknown acting person nobody@example.org"):
        as_(people, "nobody@example.org").teams.status()
    with pytest.raises(Forbidden, match="system user 'ghost'"):
        as_(people, "ghost (system user)").teams.status()


def test_the_first_init_makes_the_acting_person_the_administrator(tmp_path):
    w = Workflow.open(str(tmp_path / "s.db"), create=True)  # no --as: the system user
    assert w.actor.endswith("(system user)")
    login = w.actor.split(" ")[0]
    assert w.directory.people() == [PersonRecord(login, f"{login}@localhost", ("admin",), ("email",), "fr",
                                                 (GrantRecord("admin"),))]
    w.directory.add_programme("P", date(2021, 1, 4))  # the administrator adds it, and coordinates it
    assert w.directory.person(f"{login}@localhost").grants == (GrantRecord("admin"), GrantRecord("coordinator", "P"))
    w.close()
    # A second init by someone else does not make them administrator.
    other = Workflow.open(str(tmp_path / "s.db"), create=True, actor=COORD)
    with pytest.raises(Forbidden):
        other.directory.add_programme("Q", date(2021, 1, 4))
    other.close()
