"""The workflow definition: every trigger from every phase, every guard's reason, and random walks."""

from __future__ import annotations

import string

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import states
from states.machine import machine, mermaid

DEADLINE = date(2020, 12, 23)
PROG = states.ProgrammeView("P", "preincubation", DEADLINE, capacity=8, occupied=0, min_days_per_week=1.0,
                            requires_sponsor=False)
# A team that meets every team condition of every trigger.
GOOD = states.TeamView(
    name="T", phase="call_for_projects", programme=PROG, today=date(2020, 7, 1), problem="p", partner="Nord",
    intrapreneurs=1, coaches=1, sponsors=0, min_days_per_week=1.0,
    criteria={"real": True, "major": True, "actionable": True}, agreed=frozenset({"partner", "operator"}),
    poc_summary="s", committee_on=date(2020, 12, 1), committee_opinion="o",
)

TABLE = {  # docs/domain.md, "What a team needs to move": trigger: (sources, dest)
    "submit": ({"call_for_projects"}, "selection"),
    "select": ({"selection"}, "investigation"),
    "reject": ({"selection"}, "not_selected"),
    "present": ({"investigation"}, "poc_committee"),
    "hear": ({"poc_committee"}, "incubation_decision"),
    "incubate": ({"incubation_decision"}, "incubated"),
    "decline": ({"incubation_decision"}, "not_incubated"),
    "abandon": (set(states.NON_TERMINAL), "abandoned"),
}


def test_the_table_is_designs():
    assert {n: (set(t.sources), t.dest) for n, t in states.TRIGGERS.items()} == TABLE
    assert states.TERMINAL == ("incubated", "not_incubated", "not_selected", "abandoned")


@pytest.mark.parametrize("phase", list(states.PHASES))
@pytest.mark.parametrize("trigger", list(TABLE))
@pytest.mark.parametrize("force", [False, True])
def test_every_trigger_from_every_phase(phase, trigger, force):
    view = replace(GOOD, phase=phase)
    sources, dest = TABLE[trigger]
    if phase in sources:
        assert states.fire(trigger, view, reason="because", force=force) == dest
    else:
        with pytest.raises(states.InvalidTrigger) as exc:
            states.fire(trigger, view, reason="because", force=force)
        assert exc.value.valid == [t for t, (src, _) in TABLE.items() if phase in src]


def test_unknown_trigger_lists_the_valid_ones():
    with pytest.raises(states.InvalidTrigger, match="valid here: submit, abandon"):
        states.fire("launch", GOOD)


GUARD_CASES = [
    ("submit", "call_for_projects", {"problem": "  "}, ["problem"]),
    ("submit", "call_for_projects", {"partner": None}, ["partner"]),
    ("submit", "call_for_projects", {"intrapreneurs": 0}, ["intrapreneur"]),
    ("submit", "call_for_projects", {"problem": None, "intrapreneurs": 0}, ["problem", "intrapreneur"]),
    ("select", "selection", {"criteria": {}}, ["criterion_real", "criterion_major", "criterion_actionable"]),
    ("select", "selection", {"criteria": {"real": True, "major": False, "actionable": True}}, ["criterion_major"]),
    ("select", "selection", {"agreed": frozenset({"partner"})}, ["agreement_operator"]),
    ("select", "selection", {"agreed": frozenset()}, ["agreement_partner", "agreement_operator"]),
    ("select", "selection", {"coaches": 0}, ["coach"]),
    ("select", "selection", {"min_days_per_week": None}, ["time"]),
    ("select", "selection", {"min_days_per_week": 0.5}, ["time"]),
    ("select", "selection", {"programme": replace(PROG, occupied=8)}, ["capacity"]),
    ("select", "selection", {"today": date(2020, 12, 24)}, ["deadline"]),
    ("select", "selection", {"programme": replace(PROG, requires_sponsor=True, min_days_per_week=2.5),
                             "min_days_per_week": 2.5}, ["sponsor"]),
    ("present", "investigation", {"poc_summary": None}, ["poc"]),
    ("present", "investigation", {"committee_on": None}, ["committee_date"]),
    ("present", "investigation", {"committee_on": date(2020, 12, 24)}, ["committee_date"]),
    ("hear", "poc_committee", {"committee_opinion": ""}, ["opinion"]),
]


@pytest.mark.parametrize("trigger,phase,changes,codes", GUARD_CASES)
def test_each_guard_names_its_reason(trigger, phase, changes, codes):
    view = replace(GOOD, phase=phase, **changes)
    with pytest.raises(states.Blocked) as exc:
        states.fire(trigger, view, reason="r")
    assert [u.code for u in exc.value.unmet] == codes
    for u in exc.value.unmet:  # a catalog msgid whose every placeholder has its value
        fields = {f.split("!")[0] for _, f, _, _ in string.Formatter().parse(u.message) if f}
        assert u.message and fields <= set(u.params), (u.message, u.params)
    available, blocked = states.check(view)
    assert trigger not in available and [u.code for u in blocked[trigger]] == codes
    # Forcing overrides team conditions, not the table.
    assert states.fire(trigger, view, reason="override", force=True) == TABLE[trigger][1]


def test_boundaries_are_inclusive():
    at_deadline = replace(GOOD, phase="selection", today=DEADLINE, programme=replace(PROG, occupied=7))
    assert states.fire("select", at_deadline) == "investigation"
    assert states.fire("present", replace(GOOD, phase="investigation", committee_on=DEADLINE)) == "poc_committee"


@pytest.mark.parametrize("trigger,phase", [("reject", "selection"), ("incubate", "incubation_decision"),
                                           ("decline", "incubation_decision"), ("abandon", "investigation")])
def test_decisions_need_a_reason_even_forced(trigger, phase):
    view = replace(GOOD, phase=phase)
    for force in (False, True):
        with pytest.raises(states.Blocked) as exc:
            states.fire(trigger, view, reason=" ", force=force)
        assert [u.code for u in exc.value.unmet] == ["reason"]
    # check() treats the reason as input, so the trigger is available.
    assert trigger in states.check(view)[0]


def test_one_machine_and_no_model_is_ever_registered():
    for _ in range(100):
        states.fire("submit", GOOD)
    assert machine() is machine()
    assert machine().models == []


def test_mermaid_draws_every_transition():
    text = mermaid()
    assert "stateDiagram-v2" in text and "A team's path (preincub)" in text
    assert "A TEAM'S PATH (PREINCUB)" in mermaid(str.upper)  # the title goes through the reader's translation
    for name, (sources, dest) in TABLE.items():
        for src in sources:
            assert f"{src} --> {dest}: {name}" in text


views = st.builds(
    replace, st.just(GOOD),
    problem=st.sampled_from([None, "p"]), intrapreneurs=st.integers(0, 2), coaches=st.integers(0, 1),
    min_days_per_week=st.sampled_from([None, 0.5, 1.0, 5.0]),
    criteria=st.fixed_dictionaries({c: st.sampled_from([None, True, False]) for c in states.CRITERIA}),
    agreed=st.frozensets(st.sampled_from(states.PARTIES)), poc_summary=st.sampled_from([None, "s"]),
    committee_on=st.sampled_from([None, date(2020, 11, 1), date(2021, 1, 5)]),
    committee_opinion=st.sampled_from([None, "o"]),
)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(sorted(TABLE) + ["bogus"]), views, st.booleans(),
                                st.sampled_from([None, "", "why"])), max_size=12))
def test_random_walks_stay_in_the_table_and_chain(steps):
    phase, history = states.INITIAL, []
    for trigger, view, force, reason in steps:
        try:
            new = states.fire(trigger, replace(view, phase=phase), reason=reason, force=force)
        except states.StateError:
            continue
        assert trigger in TABLE and phase in TABLE[trigger][0] and new == TABLE[trigger][1]
        history.append((phase, new))
        phase = new
    assert phase in states.PHASES
    for (_, to), (frm, _) in zip(history, history[1:]):
        assert to == frm  # the history chains
    if history:
        assert history[0][0] == states.INITIAL
    assert all(not states.PHASES[frm].terminal for frm, _ in history)
