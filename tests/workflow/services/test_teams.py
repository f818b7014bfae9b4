"""Teams through the library, on both stores: adding, editing the record (not the phase), the selection's
assessment and agreements, the record shown, and how dates and events are given back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import PARIS
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A1, A2, B, B1, names
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.services.teams import event_record, iso, iso_date

PROG = "Pré-incubation 2020"


def test_iso_is_paris_time_to_the_second():
    assert iso(datetime(2020, 7, 1, 8, 0, 5, 123, tzinfo=PARIS)) == "2020-07-01T08:00:05+02:00"
    assert iso(None) is None and iso_date(None) is None
    assert iso_date(date(2020, 7, 1)) == "2020-07-01"


def test_event_record_from_a_row_mapping():
    rec = event_record({"at": paris(2020, 7, 1, 10, 0), "actor": COORD, "action": "team.edit", "trigger": None,
                        "from_phase": None, "to_phase": None, "reason": None, "forced": False,
                        "data": '{"problem": "x"}'})
    assert (rec.at, rec.action, rec.data) == ("2020-07-01T10:00:00+02:00", "team.edit", {"problem": "x"})


def test_add_then_show_and_a_name_taken_twice(wf):
    seed(wf)
    wf.teams.add("Alpha", PROG, "Pas-de-Calais", problem="Un problème.", coach="coach@example.org")
    team = wf.teams.show("Alpha")
    assert (team.name, team.phase, team.programme, team.partner, team.problem) == (
        "Alpha", "call_for_projects", PROG, "Pas-de-Calais", "Un problème.")
    with pytest.raises(Invalid):
        wf.teams.add("Alpha", PROG, "Pas-de-Calais")
    with pytest.raises(NotFound):
        wf.teams.show("Beta")


def test_edit_renames_and_refuses_nothing_to_change(wf):
    seed(wf)
    wf.teams.add("Alpha", PROG, "Pas-de-Calais")
    wf.teams.add("Beta", PROG, "Pas-de-Calais")
    assert wf.teams.edit("Alpha", rename="Gamma", problem="Nouveau.").name == "Gamma"
    assert wf.teams.show("Gamma").problem == "Nouveau."
    with pytest.raises(Invalid, match="already exists"):
        wf.teams.edit("Gamma", rename="Beta")
    with pytest.raises(Invalid) as e:
        wf.teams.edit("Gamma")
    assert e.value.code == "nothing_to_change"
    assert [h.action for h in wf.transitions.history("Gamma")][-1] == "team.edit"


def test_assessment_and_agreements_are_events_and_make_the_team_ready(wf):
    seed(wf)
    ready_team(wf, "Alpha")
    actions = [h.action for h in wf.transitions.history("Alpha")]
    assert actions.count("agree") == 2 and "assess" in actions
    assert [r.name for r in wf.teams.status(PROG, "selection")] == ["Alpha"]


# ---- who sees and changes what: two programmes -------------------------------------------------------


@pytest.fixture
def world(wf):
    return scopes.two_programmes(wf)


def refused(call, code: str = "grant_needed", programme: str | None = B) -> Forbidden:
    """``call()`` is refused with ``code``, naming ``programme`` (when given)."""
    with pytest.raises(Forbidden) as e:
        call()
    assert e.value.code == code, e.value
    if programme is not None:
        assert e.value.params["programme"] == programme
    return e.value


@pytest.mark.parametrize("who, teams", [(scopes.COORD_A, {A1, A2}), (scopes.COORD_B, {B1}),
                                        (scopes.COMMITTEE_A, {A1, A2}), (scopes.PARTNER_X, {A2}),
                                        (scopes.COACH_A, {A1}), (scopes.AGENT_B, {B1})])
def test_team_show_reads_the_readers_teams_only(world, who, teams):
    w = world.acting_as(who)
    for team in (A1, A2, B1):
        if team in teams:
            assert w.teams.show(team).name == team
        else:
            with pytest.raises(Forbidden) as e:
                w.teams.show(team)
            assert e.value.code in ("grant_needed", "not_your_team")
    assert names(w.teams.status()) == teams


def test_a_coordinator_of_a_does_not_edit_or_add_in_b(world):
    a = world.acting_as(scopes.COORD_A)
    before = world.acting_as(scopes.COORD_B).teams.show(B1)
    e = refused(lambda: a.teams.edit(B1, problem="Changé par A"))
    assert e.params["grant"] == ["coordinator"] and e.params["team"] == B1
    refused(lambda: a.teams.edit(B1, rename="Volée"))
    refused(lambda: a.teams.add("Nouvelle", B, "Somme"))
    refused(lambda: a.teams.committee(B1, on=date(2020, 9, 1)))
    refused(lambda: a.teams.poc(B1, "Une preuve"))
    after = world.acting_as(scopes.COORD_B).teams.show(B1)
    assert after == before  # nothing changed: not the record, not the version
    assert names(world.acting_as(scopes.COORD_B).teams.status()) == {B1}
    # In their own programme, they do.
    assert a.teams.edit(A2, problem="Changé par A").problem == "Changé par A"
    assert a.teams.add("Nouvelle", A, "Nord").programme == A


def test_readers_do_not_change_teams_even_of_their_programme(world):
    before = world.teams.show(A2)
    refused(lambda: world.acting_as(scopes.COMMITTEE_A).teams.edit(A2, problem="x"), programme=A)
    refused(lambda: world.acting_as(scopes.PARTNER_X).teams.edit(A2, problem="x"), programme=A)
    refused(lambda: world.acting_as(scopes.PARTNER_X).teams.add("X", A, "Nord"), "role_needed", None)  # manages nothing
    refused(lambda: world.acting_as(scopes.COMMITTEE_A).teams.assess(A2, real=True, major=True, actionable=True),
            programme=A)
    assert world.teams.show(A2) == before


def test_the_committee_of_a_gives_no_opinion_in_b(world):
    refused(lambda: world.acting_as(scopes.COMMITTEE_A).teams.committee(B1, opinion="Favorable"))
    refused(lambda: world.acting_as(scopes.COORD_A).teams.committee(B1, opinion="Favorable"))
    assert world.acting_as(scopes.COORD_B).teams.show(B1).committee.opinion is None
