"""The facade: services around one frozen context; acting as someone else or at another time is a new facade."""

from __future__ import annotations

import dataclasses

import pytest

from notifications.i18n import text
from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.context import Context
from workflow.errors import Forbidden, Invalid, NotFound, Refused
from workflow.services.checkins import CheckIns
from workflow.services.directory import Directory
from workflow.services.outbox import Outbox
from workflow.services.reminders import Reminders
from workflow.services.teams import Teams
from workflow.services.transitions import Transitions


def test_the_services_share_one_frozen_context(wf):
    assert isinstance(wf.ctx, Context)
    for service, kind in ((wf.directory, Directory), (wf.teams, Teams), (wf.transitions, Transitions),
                          (wf.checkins, CheckIns), (wf.reminders, Reminders), (wf.outbox, Outbox)):
        assert isinstance(service, kind) and service.ctx is wf.ctx
    with pytest.raises(dataclasses.FrozenInstanceError):
        wf.ctx.actor = "someone@example.org"


def test_acting_as_and_at_are_new_facades_and_leave_wf_as_it_was(wf):
    seed(wf)
    ready_team(wf, "T")
    coach = wf.acting_as("coach@example.org")
    later = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    assert (wf.actor, coach.actor, later.actor) == (COORD, "coach@example.org", COORD)
    assert later.clock.now() == paris(2020, 7, 6, 9, 0) and wf.clock.now() == paris(2020, 7, 1, 10, 0)
    with pytest.raises(Forbidden):
        coach.transitions.advance("T", "select")
    ev = later.transitions.advance("T", "select")  # a write returns the event it recorded
    assert (ev.trigger, ev.from_, ev.to, ev.actor) == ("select", "selection", "investigation", COORD)
    assert ev.at == "2020-07-06T09:00:00+02:00"


def test_a_role_change_is_seen_at_once_by_the_facade_that_made_it(wf):
    seed(wf)
    wf.directory.add_person("Deux", "coord2@example.org", ["coordinator"])  # of the only programme
    wf.directory.grant("coord2@example.org", "admin")
    wf.directory.edit_person(COORD, remove_roles=["coordinator", "admin"], add_roles=["coach"])
    with pytest.raises(Forbidden):
        wf.directory.add_partner("Nord", "Pré-incubation 2020")


def test_errors_carry_a_stable_code_and_params_and_no_command(wf):
    seed(wf)
    with pytest.raises(NotFound) as nf:
        wf.teams.show("Nope")
    assert (nf.value.code, nf.value.params) == ("unknown_team", {"team": "Nope"})
    assert "preincub" not in nf.value.text("en") and "preincub" not in nf.value.text("fr")
    assert not hasattr(nf.value, "exit_code")
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais")
    with pytest.raises(Refused) as refused:
        wf.transitions.advance("T", "submit")
    assert refused.value.code == "refused"
    assert refused.value.params == {"team": "T", "trigger": "submit", "unmet": ["problem", "intrapreneur"]}
    assert all(u.missing and "(" not in text("en", u.message, u.params) for u in refused.value.reasons)
    with pytest.raises(Invalid) as nothing:
        wf.teams.edit("T")
    assert (nothing.value.code, nothing.value.params) == ("nothing_to_change", {"command": "team edit"})


def test_writes_on_a_team_return_their_event(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais", problem="p", intrapreneurs=["agent0@example.org"])
    wf.transitions.advance("T", "submit")
    ev = wf.teams.assess("T", real=True, major=True, actionable=False, note="n")
    assert (ev.action, ev.reason, ev.data) == ("assess", "n", {"real": True, "major": True,
                                                                       "actionable": False})
    assert wf.teams.agree("T", "partner").data == {"party": "partner"}
