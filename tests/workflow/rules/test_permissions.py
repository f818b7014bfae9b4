"""Who may do what: the table, exhaustively, and the API refusing without writing anything."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import date

import pytest

from tests.conftest import COORD, ready_team, seed
from workflow.api import Workflow
from workflow.errors import Forbidden
from workflow.rules.permissions import ACTIONS, ROLES, allowed
from workflow.records import PersonRecord

# The table: action -> role -> "yes" | "own" | "no".
EXPECTED = {
    "manage":  {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "decide":  {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "opinion": {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "yes", "sponsor": "no"},
    "privacy": {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "agreements": {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "agreements_read": {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "yes", "sponsor": "no"},
    "audit": {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "checkin": {"coordinator": "yes", "coach": "own", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
    "read":    {"coordinator": "yes", "coach": "own", "intrapreneur": "own", "committee": "yes", "sponsor": "own"},
    "remind":  {"coordinator": "yes", "coach": "no", "intrapreneur": "no", "committee": "no", "sponsor": "no"},
}


@pytest.mark.parametrize("action,role,tied", list(itertools.product(ACTIONS, ROLES, [False, True])))
def test_every_action_role_and_tie(action, role, tied):
    rule = EXPECTED[action][role]
    ties = {role} if tied else set()
    assert allowed(action, {role}, ties) == (rule == "yes" or (rule == "own" and tied))


def test_roles_combine():
    assert allowed("checkin", {"coach", "intrapreneur"}, {"intrapreneur"}) is False  # not their coachee
    assert allowed("read", {"coach", "intrapreneur"}, {"intrapreneur"}) is True
    assert allowed("manage", set()) is False


@pytest.fixture
def people(wf):
    seed(wf)
    wf.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    wf.directory.add_person("Comité", "committee@example.org", ["committee"])
    ready_team(wf, "A", 0)
    ready_team(wf, "B", 1)
    wf.teams.edit("B", coach="coach2@example.org")
    wf.transitions.advance("A", "select")
    wf.transitions.advance("B", "select")
    return wf


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
    with pytest.raises(Forbidden, match="needs the role coordinator"):
        me.transitions.advance("A", "abandon", reason="x")
    with pytest.raises(Forbidden, match="needs the role coordinator or coach"):
        me.checkins.log("A", notes="x")


def test_the_committee_records_its_opinion_but_not_the_date(people):
    people.teams.poc("A", "s")
    people.teams.committee("A", on=date(2020, 12, 1))
    people.transitions.advance("A", "present")
    committee = as_(people, "committee@example.org")
    with pytest.raises(Forbidden, match="needs the role coordinator"):
        committee.teams.committee("A", on=date(2020, 12, 2))
    committee.teams.committee("A", opinion="Avis favorable.")
    assert asdict(people.teams.show("A").committee) == {"on": "2020-12-01", "opinion": "Avis favorable."}
    assert len(committee.teams.status()) == 2  # the committee reads every team


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


def test_unknown_actors_are_refused(people):
    with pytest.raises(Forbidden, match="unknown acting person nobody@example.org"):
        as_(people, "nobody@example.org").teams.status()
    with pytest.raises(Forbidden, match="system user 'ghost'"):
        as_(people, "ghost (system user)").teams.status()


def test_the_first_init_makes_the_acting_person_coordinator(tmp_path):
    w = Workflow.open(str(tmp_path / "s.db"), create=True)  # no --as: the system user
    assert w.actor.endswith("(system user)")
    login = w.actor.split(" ")[0]
    assert w.directory.people() == [PersonRecord(login, f"{login}@localhost", ("coordinator",), ("email",), "fr")]
    w.directory.add_programme("P", date(2021, 1, 4))
    w.close()
    # A second init by someone else does not make them coordinator.
    other = Workflow.open(str(tmp_path / "s.db"), create=True, actor=COORD)
    with pytest.raises(Forbidden):
        other.directory.add_programme("Q", date(2021, 1, 4))
    other.close()
