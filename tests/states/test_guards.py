"""Each guard on its own: what it reads of the team and its programme, and the reason it gives, with
whether the fact is missing (not recorded yet) or recorded and not good enough."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from states import guards
from states.guards import ProgrammeView, TeamView

PROG = ProgrammeView("P", "preincubation", date(2020, 12, 23), capacity=8, occupied=2, min_days_per_week=1.0,
                     requires_sponsor=False)
READY = TeamView("T", "selection", PROG, date(2020, 7, 1), problem="Un problème", partner="Nord", intrapreneurs=1,
                 coaches=1, min_days_per_week=1.0, criteria={"real": True, "major": True, "actionable": True},
                 agreed=frozenset({"partner", "operator"}), poc_summary="x", committee_on=date(2020, 12, 1),
                 committee_opinion="Favorable", reason="parce que")
EVERY = [guards.has_problem, guards.has_partner, guards.has_intrapreneur, guards.has_coach, guards.has_sponsor,
         guards.enough_time, guards.has_room, guards.before_deadline, guards.has_poc, guards.committee_in_time,
         guards.has_opinion, guards.has_reason, *(g.check for g in guards.G_CRITERIA + guards.G_AGREEMENTS)]


def test_a_team_with_everything_meets_every_guard():
    assert [g(READY) for g in EVERY] == [None] * len(EVERY)
    assert guards.criteria_met(READY) == []


@pytest.mark.parametrize("change,guard,code", [
    ({"problem": "  "}, guards.has_problem, "problem"),
    ({"partner": None}, guards.has_partner, "partner"),
    ({"intrapreneurs": 0}, guards.has_intrapreneur, "intrapreneur"),
    ({"coaches": 0}, guards.has_coach, "coach"),
    ({"min_days_per_week": None}, guards.enough_time, "time"),
    ({"poc_summary": ""}, guards.has_poc, "poc"),
    ({"committee_on": None}, guards.committee_in_time, "committee_date"),
    ({"committee_opinion": None}, guards.has_opinion, "opinion"),
    ({"reason": "\n"}, guards.has_reason, "reason"),
])
def test_what_is_not_recorded_is_missing(change, guard, code):
    unmet = guard(replace(READY, **change))
    assert (unmet.code, unmet.missing) == (code, True)


def test_what_is_recorded_and_not_good_enough_gives_its_figures():
    short = guards.enough_time(replace(READY, min_days_per_week=0.5))
    assert (short.code, short.missing, dict(short.params)) == ("time", False, {"got": 0.5, "need": 1.0})
    full = guards.has_room(replace(READY, programme=replace(PROG, occupied=8)))
    assert dict(full.params) == {"occupied": 8, "capacity": 8} and not full.missing
    late = guards.before_deadline(replace(READY, today=date(2020, 12, 24)))
    assert late.params == {"deadline": date(2020, 12, 23)}
    assert guards.before_deadline(replace(READY, today=date(2020, 12, 23))) is None  # the deadline day still counts
    after = guards.committee_in_time(replace(READY, committee_on=date(2020, 12, 24)))
    assert (after.code, after.missing) == ("committee_date", False)


def test_criteria_not_assessed_or_assessed_no():
    unmet = guards.criteria_met(replace(READY, criteria={"real": False, "major": True}))
    assert [(u.code, u.missing) for u in unmet] == [("criterion_real", False), ("criterion_actionable", True)]
    assert guards.G_CRITERIA[0](replace(READY, criteria={"real": False})).code == "criterion_real"
    assert guards.G_CRITERIA[1](replace(READY, criteria={"real": False, "major": True})) is None


def test_a_sponsor_only_where_the_programme_requires_one():
    fast = replace(PROG, requires_sponsor=True)
    assert guards.has_sponsor(replace(READY, sponsors=0)) is None
    assert guards.has_sponsor(replace(READY, programme=fast, sponsors=0)).code == "sponsor"
    assert guards.has_sponsor(replace(READY, programme=fast, sponsors=1)) is None


def test_each_party_agrees_for_itself():
    partner, operator = guards.G_AGREEMENTS
    only_partner = replace(READY, agreed=frozenset({"partner"}))
    assert partner(only_partner) is None
    assert operator(only_partner).code == "agreement_operator"
