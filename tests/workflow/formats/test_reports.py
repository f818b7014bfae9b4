"""The reports' records (workflow/formats/reports.py): the committee pack and the programme report, on the
demo programme, on SQLite and PostgreSQL, with the permission ``read`` and few queries."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from tests import conftest
from workflow import demo

from workflow.api import Workflow

from workflow.clock import FixedClock
from workflow.clock import PARIS
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.formats.reports import CommitteePack, ProgrammeReport

PROG = demo.PROGRAMME
COORD = demo.COORDINATOR[1]
ADMIN = conftest.COORD  # the wf fixture's actor: the store's first person, its administrator
JULIEN, SARAH = (c[1] for c in demo.COACHES)


@pytest.fixture
def built(wf: Workflow) -> Workflow:
    demo.build(wf)
    return wf.at(FixedClock(datetime(2020, 11, 16, 18, 0, tzinfo=PARIS))).acting_as(COORD)


def test_the_committee_pack_holds_the_teams_in_the_committee_phase(built):
    pack = built.reports.committee(PROG)
    assert isinstance(pack, CommitteePack)
    assert (pack.programme, pack.deadline, pack.days_left, pack.today) == (PROG, "2020-12-23", 37, "2020-11-16")
    assert [s.team.name for s in pack.teams] == ["Transport scolaire adapté"]
    s = pack.teams[0]
    assert s.team.partner == "Somme" and s.team.problem.startswith("Les familles")
    assert s.team.criteria == {"real": True, "major": True, "actionable": True}
    assert s.team.agreements == ("operator", "partner")
    assert [p.phase for p in s.team.phases] == ["call_for_projects", "selection", "investigation", "poc_committee"]
    assert s.team.poc.summary and s.team.poc.link == "https://beta.gouv.fr/"
    assert s.team.committee.on == "2020-12-10" and s.committee_days_left == 24
    assert (s.team.coaching.weeks_held, s.team.coaching.weeks_expected) == (13, 13)
    # the last three check-ins, newest first
    assert [c.on for c in s.recent] == ["2020-10-01", "2020-09-24", "2020-09-17"]
    assert all(c.next_steps for c in s.recent)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pack.programme = "x"  # type: ignore[misc]


def test_named_teams_come_in_the_order_given_once_each(built):
    pack = built.reports.committee(PROG, ["Insertion RSA", "Transport scolaire adapté", "Insertion RSA"])
    assert [s.team.name for s in pack.teams] == ["Insertion RSA", "Transport scolaire adapté"]
    rsa = pack.teams[0]
    assert len(rsa.recent) == 3 and rsa.committee_days_left is None
    assert rsa.recent[0].on >= rsa.recent[1].on >= rsa.recent[2].on


def test_a_team_of_another_programme_or_an_empty_committee_is_refused(built):
    built.acting_as(ADMIN).directory.add_programme("Autre", date(2020, 9, 1), coordinator=COORD)
    with pytest.raises(Invalid) as e:
        built.reports.committee("Autre", ["Insertion RSA"])
    assert e.value.code == "team_not_in_programme"
    with pytest.raises(Invalid) as e:
        built.reports.committee("Autre")
    assert e.value.code == "no_committee_teams"
    with pytest.raises(NotFound):
        built.reports.committee("Nulle part")
    with pytest.raises(NotFound):
        built.reports.committee(PROG, ["Nulle équipe"])


def test_the_programme_report_counts_the_funnel_durations_and_coaching(built):
    r = built.reports.programme(PROG)
    assert isinstance(r, ProgrammeReport)
    assert r.teams == 10 and r.days_left == 37
    assert {p.phase: p.teams for p in r.funnel} == {
        "call_for_projects": 1, "selection": 1, "investigation": 2, "poc_committee": 1, "incubation_decision": 1,
        "incubated": 1, "not_incubated": 1, "not_selected": 1, "abandoned": 1}
    # 7 teams reached investigation, 1 was not selected; 1 of 10 abandoned; 1 of 2 decided was incubated
    assert (r.selected, r.selection_rate, r.abandon_rate, r.incubation_rate) == (7, 0.875, 0.1, 0.5)
    d = {x.phase: x for x in r.durations}
    assert set(d) == {"call_for_projects", "selection", "investigation", "poc_committee", "incubation_decision"}
    assert d["investigation"].periods == 5 and d["investigation"].min_days <= d["investigation"].median_days \
        <= d["investigation"].max_days
    coaching = {c.team: (c.weeks_held, c.weeks_expected) for c in r.coaching}
    assert len(coaching) == 7 and "Archives en ligne" not in coaching
    assert coaching["Insertion RSA"][0] <= coaching["Insertion RSA"][1]


def test_an_empty_programme_has_no_rates(built):
    built.acting_as(ADMIN).directory.add_programme("Vide", date(2020, 9, 1), coordinator=COORD)
    r = built.reports.programme("Vide")
    assert r.teams == 0 and r.selection_rate is None and r.incubation_rate is None and r.abandon_rate is None
    assert all(d.median_days is None for d in r.durations) and r.coaching == ()


def test_reports_need_read_and_show_a_coach_only_their_teams(built):
    julien = built.acting_as(JULIEN)
    r = julien.reports.programme(PROG)
    assert r.teams == 5  # the teams Julien coaches
    with pytest.raises(Forbidden):
        julien.reports.committee(PROG, ["Dossiers MDPH"])  # Sarah's
    assert [s.team.name for s in julien.reports.committee(PROG).teams] == ["Transport scolaire adapté"]
    sarah = built.acting_as(SARAH)
    with pytest.raises(Invalid) as e:
        sarah.reports.committee(PROG)  # none of her teams is in the committee phase
    assert e.value.code == "no_committee_teams"
    built.directory.add_person("Un Intrapreneur", "solo@example.org", ["intrapreneur"])  # of no team: reads none
    for report in (built.acting_as("solo@example.org").reports.programme,
                   built.acting_as("solo@example.org").reports.committee):
        with pytest.raises(Forbidden) as e:  # nothing of the programme to read: refused, naming the grant
            report(PROG)
        assert e.value.code == "grant_needed" and e.value.params["programme"] == PROG
    with pytest.raises(Forbidden):
        built.acting_as("unknown@example.org").reports.programme(PROG)


def test_the_programme_report_takes_the_same_queries_whatever_the_teams(built):
    def statements(w: Workflow) -> int:
        engine = w.store.engine
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            w.reports.programme(PROG)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    statements(built)  # the first looks the actor up
    before = statements(built)
    for i in range(5):
        built.teams.add(f"Équipe {i}", PROG, "Nord", problem="p")
    assert statements(built) == before


def test_each_reports_only_on_what_they_read_of_a_programme(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    assert wf.acting_as(sc.COORD_A).reports.programme(sc.A).teams == 1
    assert wf.acting_as(sc.PARTNER_X).reports.programme(sc.A).teams == 1  # Alpha, of X
    assert wf.acting_as(sc.COMMITTEE_A).reports.committee(sc.A, ["Alpha"]).teams[0].team.name == "Alpha"
    for who, other in ((sc.COORD_B, sc.A), (sc.COMMITTEE_A, sc.B), (sc.PARTNER_X, sc.B), (sc.COACH_A, sc.B)):
        sc.refused_in(wf.acting_as(who).reports.programme, other, other)
        sc.refused_in(wf.acting_as(who).reports.committee, other, other)
    with pytest.raises(Forbidden):  # a team of B named in A's pack: not theirs to read
        wf.acting_as(sc.COMMITTEE_A).reports.committee(sc.A, ["Beta"])
