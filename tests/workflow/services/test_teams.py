"""Teams through the library, on both stores: adding, editing the record (not the phase), the selection's
assessment and agreements, the record shown, and how dates and events are given back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import PARIS
from workflow.errors import Invalid, NotFound
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
