"""Check-ins through the library: dates against the investigation period, corrections, gaps."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A1, B, B1
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.clock import PARIS
from workflow.rules.coaching import iso_week
from workflow.store.models import CheckIn


def at(w: Workflow, *args: int) -> Workflow:
    return w.at(FixedClock(paris(*args)))


@pytest.fixture
def team(wf):
    seed(wf)
    ready_team(wf, "Insertion RSA")
    wf = at(wf, 2020, 7, 6, 9, 0)
    wf.transitions.advance("Insertion RSA", "select")
    return wf


def test_log_defaults_to_today_and_its_iso_week(team):
    team = at(team, 2020, 7, 23, 18, 0)
    c = team.checkins.log("Insertion RSA", notes="Entretiens", blockers="Accès aux données", next_steps="Prototype",
                         hours=6.5, mood=4)
    assert {k: getattr(c, k) for k in ("team", "author", "on", "week", "hours", "mood", "missed")} == {
        "team": "Insertion RSA", "author": "coord@example.org", "on": "2020-07-23", "week": "2020-W30",
        "hours": 6.5, "mood": 4, "missed": False}
    assert team.transitions.history("Insertion RSA")[-1].action == "checkin.log"


@pytest.mark.parametrize("on,message", [
    (date(2020, 7, 24), "is in the future"),
    (date(2020, 7, 5), "July 5, 2020 is before 'Insertion RSA' entered investigation (July 6, 2020)"),
])
def test_dates_outside_the_investigation_are_refused(team, on, message):
    team = at(team, 2020, 7, 23, 18, 0)
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        team.checkins.log("Insertion RSA", on=on, notes="x")
    assert team.checkins() == []


def test_after_leaving_investigation_only_earlier_dates(team):
    team.teams.poc("Insertion RSA", "s")
    team.teams.committee("Insertion RSA", on=date(2020, 12, 1))
    team = at(team, 2020, 9, 1, 10, 0)
    team.transitions.advance("Insertion RSA", "present")
    team = at(team, 2020, 9, 10, 10, 0)
    with pytest.raises(Invalid, match=r"after 'Insertion RSA' left investigation \(September 1, 2020\)"):
        team.checkins.log("Insertion RSA", on=date(2020, 9, 2), notes="x")
    assert team.checkins.log("Insertion RSA", on=date(2020, 9, 1), notes="late entry").week == "2020-W36"


def test_a_team_never_in_investigation(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais")
    with pytest.raises(Invalid, match="has not entered investigation"):
        wf.checkins.log("T", notes="x")


def test_missed_needs_a_reason_and_held_needs_notes(team):
    team = at(team, 2020, 7, 10, 10, 0)
    with pytest.raises(Invalid, match="a missed check-in needs a reason"):
        team.checkins.log("Insertion RSA", missed=True)
    with pytest.raises(Invalid, match="a check-in needs notes"):
        team.checkins.log("Insertion RSA")
    with pytest.raises(Invalid, match="the mood must be between 1 and 5"):
        team.checkins.log("Insertion RSA", notes="x", mood=6)
    with pytest.raises(Invalid, match="the hours must be between 0 and 60"):
        team.checkins.log("Insertion RSA", notes="x", hours=-1)
    c = team.checkins.log("Insertion RSA", missed=True, reason="Coach malade")
    assert c.missed and c.reason == "Coach malade"


def test_corrections_within_seven_days_are_audited(team):
    team = at(team, 2020, 7, 9, 17, 0)
    cid = team.checkins.log("Insertion RSA", notes="Premier point", hours=5).id
    team = at(team, 2020, 7, 16, 16, 59)
    c = team.checkins.edit(cid, notes="Premier point, corrigé", hours=7, on=date(2020, 7, 8))
    assert (c.notes, c.hours, c.on, c.week) == ("Premier point, corrigé", 7, "2020-07-08", "2020-W28")
    edit = team.transitions.history("Insertion RSA")[-1]
    assert edit.action == "checkin.edit"
    assert edit.data == {"checkin": cid, "changes": {"notes": ["Premier point", "Premier point, corrigé"],
                                                       "hours": [5.0, 7.0], "on": ["2020-07-09", "2020-07-08"]}}
    team = at(team, 2020, 7, 16, 17, 1)
    with pytest.raises(Invalid, match="allowed for 7 days only"):
        team.checkins.edit(cid, notes="trop tard")
    with pytest.raises(NotFound):
        team.checkins.edit(999, notes="x")
    with pytest.raises(Invalid, match="nothing to change"):
        team.checkins.edit(cid)


def test_only_the_author_or_a_coordinator_corrects(team):
    team.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    team.teams.edit("Insertion RSA", coach="coach2@example.org")
    team = at(team, 2020, 7, 9, 17, 0)
    cid = team.checkins.log("Insertion RSA", notes="par le coordinateur").id
    coach2 = Workflow(team.store, team.clock, "coach2@example.org")
    with pytest.raises(Forbidden, match="only its author or a coordinator"):
        coach2.checkins.edit(cid, notes="x")
    own = coach2.checkins.log("Insertion RSA", notes="par le coach").id
    assert coach2.checkins.edit(own, mood=2).mood == 2


def test_list_filters(team):
    for day in (9, 16, 23):
        team = at(team, 2020, 7, day, 17, 0)
        team.checkins.log("Insertion RSA", notes=f"point du {day}")
    team = at(team, 2020, 7, 24, 9, 0)
    assert [c.on for c in team.checkins(week="2020-W29")] == ["2020-07-16"]
    assert [c.on for c in team.checkins(since=date(2020, 7, 16))] == ["2020-07-16", "2020-07-23"]
    assert len(team.checkins(coach="coord@example.org")) == 3 and team.checkins(coach="coach@example.org") == []
    with pytest.raises(Invalid, match="YYYY-Www"):
        team.checkins(week="2020-30")


def test_gaps_across_the_year_end_oldest_first(wf):
    seed(wf)
    wf.directory.add_programme("Hiver", date(2020, 11, 2))
    wf.directory.add_partner("Somme", "Hiver")
    for name, i in (("Hiver A", 0), ("Hiver B", 1)):
        wf.teams.add(name, "Hiver", "Somme", problem="p", intrapreneurs=[f"agent{i}@example.org"],
                    coach="coach@example.org", days_per_week=1)
        wf.transitions.advance(name, "submit")
        wf.teams.assess(name, real=True, major=True, actionable=True)
        wf.teams.agree(name, "partner")
        wf.teams.agree(name, "operator")
    wf = at(wf, 2020, 12, 14, 9, 0)  # W51
    wf.transitions.advance("Hiver A", "select")
    wf = at(wf, 2020, 12, 21, 9, 0)  # W52
    wf.transitions.advance("Hiver B", "select")
    for d in (date(2020, 12, 17), date(2021, 1, 7)):
        wf = wf.at(FixedClock(datetime.combine(d, datetime.min.time(), tzinfo=PARIS).replace(hour=18)))
        wf.checkins.log("Hiver A", notes="x")
    wf = at(wf, 2021, 1, 13, 9, 0)  # W02, in progress
    gaps = wf.checkins.gaps("Hiver")
    assert [(g.team, g.weeks_held, g.weeks_expected, g.weeks_missing) for g in gaps] == [
        ("Hiver B", 0, 3, ("2020-W52", "2020-W53", "2021-W01")),
        ("Hiver A", 2, 4, ("2020-W52", "2020-W53")),
    ]
    assert [g.team for g in wf.checkins.gaps("Hiver", weeks=1)] == ["Hiver B"]
    rows = {r.name: r for r in wf.teams.status("Hiver")}
    assert (rows["Hiver A"].last_checkin, rows["Hiver A"].weeks_missing, rows["Hiver A"].drifting) == \
        ("2021-01-07", 2, True)
    assert rows["Hiver B"].drifting is True


def test_team_show_compares_hours_with_the_commitment(team):
    for day, hours in ((9, 7), (16, 3), (16, 1)):
        team = at(team, 2020, 7, day, 17, 0)
        team.checkins.log("Insertion RSA", notes="x", hours=hours)
    team = at(team, 2020, 7, 28, 9, 0)  # W31: W30 had nothing
    c = team.teams.show("Insertion RSA").coaching
    assert asdict(c) == {"weeks_expected": 3, "weeks_held": 2, "weeks_missing": ("2020-W30",), "last_checkin": "2020-07-16",
                 "hours_per_week": 5.5, "hours_committed": 7.0, "hours_shortfall": True}


def test_weeks_follow_paris_dates_across_the_autumn_dst_change(team):
    # Sunday 25 October 2020 at 23:30 in Paris is still week 43 there (22:30 UTC); Monday is week 44.
    for day, hour in ((25, 23), (26, 0)):
        wf = at(team, 2020, 10, day, hour, 30)
        wf.checkins.log("Insertion RSA", notes=f"{day} {hour}h30")
    assert [(c.on, c.week) for c in team.checkins(since=date(2020, 10, 1))] == [
        ("2020-10-25", "2020-W43"), ("2020-10-26", "2020-W44")]
    team = at(team, 2020, 11, 2, 9, 0)  # W45 in progress
    (gap,) = team.checkins.gaps()
    assert "2020-W43" not in gap.weeks_missing and "2020-W44" not in gap.weeks_missing
    assert gap.weeks_missing[-1] == "2020-W42" and gap.weeks_expected == 17


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(0, 130), max_size=25), today=st.integers(0, 140))
def test_random_check_in_days_through_the_api(team, offsets, today):
    """held + missing = expected, and held is exactly the weeks of the days logged, via log_checkin and gaps()."""
    with team.store.write() as s:
        s.execute(sa.delete(CheckIn))
    start = date(2020, 7, 6)
    now = start + timedelta(days=today)
    days = sorted({start + timedelta(days=o) for o in offsets if o <= today})
    for d in days:
        team = team.at(FixedClock(datetime.combine(d, time(18, 0), tzinfo=PARIS)))
        team.checkins.log("Insertion RSA", notes="x")
    team = team.at(FixedClock(datetime.combine(now, time(12, 0), tzinfo=PARIS)))
    coaching = team.teams.show("Insertion RSA").coaching
    held = {iso_week(d) for d in days}
    assert coaching.weeks_held == len(held)
    assert coaching.weeks_held + len(coaching.weeks_missing) == coaching.weeks_expected
    assert not held & set(coaching.weeks_missing)
    gaps = team.checkins.gaps()
    assert [g.weeks_missing for g in gaps] == ([coaching.weeks_missing] if coaching.weeks_missing else [])


# ---- who logs, corrects and reads which check-ins: two programmes --------------------------------------


@pytest.fixture
def world(wf):
    """The two programmes, three weeks on, each team in investigation with one check-in by its coach."""
    w = scopes.two_programmes(wf)
    w = w.at(FixedClock(paris(2020, 7, 8, 18, 0)))
    w.acting_as(scopes.COACH_A).checkins.log(A1, notes="Point A")
    w.acting_as(scopes.COACH_B).checkins.log(B1, notes="Point B")
    return w.at(FixedClock(paris(2020, 7, 27, 18, 0)))


def _refused(call, programme: str) -> Forbidden:
    with pytest.raises(Forbidden) as e:
        call()
    assert (e.value.code, e.value.params["programme"]) == ("grant_needed", programme), e.value
    return e.value


def test_each_reader_lists_the_check_ins_and_gaps_of_their_scope(world):
    expect = {scopes.COORD_A: {A1}, scopes.COORD_B: {B1}, scopes.COMMITTEE_A: {A1}, scopes.PARTNER_X: set(),
              scopes.COACH_A: {A1}, scopes.COACH_B: {B1}, scopes.AGENT_B: {B1}}
    for who, teams in expect.items():
        w = world.acting_as(who)
        assert {c.team for c in w.checkins()} == teams, who
        assert {g.team for g in w.checkins.gaps()} == teams, who
    assert {c.team for c in world.acting_as(scopes.COORD_A).checkins(coach=scopes.COACH_B)} == set()


def test_check_ins_and_gaps_of_another_programme_are_refused_naming_it(world):
    a = world.acting_as(scopes.COORD_A)
    _refused(lambda: a.checkins(team=B1), B)
    _refused(lambda: a.checkins.gaps(B), B)
    _refused(lambda: world.acting_as(scopes.COMMITTEE_A).checkins.gaps(B), B)
    assert {g.team for g in world.acting_as(scopes.PARTNER_X).checkins.gaps(A)} == set()
    assert {g.team for g in world.acting_as(scopes.COORD_B).checkins.gaps(B)} == {B1}


def test_a_coordinator_of_a_logs_and_corrects_nothing_in_b(world):
    a = world.acting_as(scopes.COORD_A)
    (theirs,) = world.acting_as(scopes.COORD_B).checkins(team=B1)
    _refused(lambda: a.checkins.log(B1, on=date(2020, 7, 20), notes="Par A"), B)
    _refused(lambda: a.checkins.edit(theirs.id, notes="Corrigé par A"), B)
    _refused(lambda: world.acting_as(scopes.COMMITTEE_A).checkins.log(A1, on=date(2020, 7, 20), notes="x"), A)
    assert world.acting_as(scopes.COORD_B).checkins(team=B1) == [theirs]  # nothing written
    # The coordinator of B corrects it: a coordinator of the check-in's programme.
    b = world.at(FixedClock(paris(2020, 7, 10, 9, 0))).acting_as(scopes.COORD_B)
    assert b.checkins.edit(theirs.id, notes="Corrigé par B").notes == "Corrigé par B"


def test_only_a_coordinator_of_that_programme_corrects_another_coachs_check_in(world):
    """A coordinator of A who coaches a team of B may log there, as its coach, but not correct its
    former coach's check-in: in B they are no coordinator."""
    world.directory.edit_person(scopes.COORD_A, add_roles=["coach"])
    world.acting_as(scopes.COORD_B).teams.edit(B1, coach=scopes.COORD_A)
    a = world.at(FixedClock(paris(2020, 7, 10, 9, 0))).acting_as(scopes.COORD_A)
    (theirs,) = a.checkins(team=B1)
    with pytest.raises(Forbidden, match="only its author or a coordinator of 'Seed 2'") as e:
        a.checkins.edit(theirs.id, notes="Corrigé par A")
    assert (e.value.code, e.value.params["programme"]) == ("not_author", B)
    assert a.checkins.log(B1, notes="Par A, coach").author == scopes.COORD_A
