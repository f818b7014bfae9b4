"""The status listing: rows as the cursor yields them, in programme then team order, errors before the
first row, the coaching marks of the teams in investigation; rows made as the class itself makes them,
and the collector paused while they are."""

from __future__ import annotations

import gc
from dataclasses import FrozenInstanceError, dataclass

import pytest

from tests.conftest import COORD, paris, ready_team, seed
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A1, A2, B, B1, names
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.records import TeamRow
from workflow.services.listing import collected, gc_paused, maker, status_rows


@pytest.fixture
def two(wf):
    seed(wf)
    ready_team(wf, "Zèbre")
    ready_team(wf, "Abeille", 1)
    w = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    w.transitions.advance("Zèbre", "select")
    return w


def test_rows_in_team_order_with_the_phase_filter(two):
    rows = list(status_rows(two.ctx))
    assert [(r.name, r.phase) for r in rows] == [("Abeille", "selection"), ("Zèbre", "investigation")]
    assert rows[1].phase_since == "2020-07-06T09:00:00+02:00" and rows[1].coach == "coach@example.org"
    assert [r.name for r in status_rows(two.ctx, phase="investigation")] == ["Zèbre"]
    assert list(status_rows(two.ctx, "Pré-incubation 2020", "abandoned")) == []


def test_errors_come_at_the_first_next_before_any_row(two):
    rows = status_rows(two.ctx, "Inconnu")
    with pytest.raises(NotFound):
        next(rows)
    with pytest.raises(Invalid):
        next(status_rows(two.ctx, phase="nowhere"))


def test_marks_count_the_weeks_missed_as_the_team_record_does(two):
    """In investigation: the last check-in held and the weeks missed since it entered (a missed week
    recorded is no check-in held); in another phase, no mark."""
    w = two.at(FixedClock(paris(2020, 7, 8, 18, 0)))  # W28
    w.checkins.log("Zèbre", notes="un")
    w = two.at(FixedClock(paris(2020, 7, 15, 18, 0)))  # W29
    w.checkins.log("Zèbre", missed=True, reason="Congés.")
    # On 17 July W29 is in progress (not missed yet); on 5 August (W32) W29, W30 and W31 are missing.
    for when, missing in ((paris(2020, 7, 17, 9, 0), 0), (paris(2020, 8, 5, 9, 0), 3)):
        w = two.at(FixedClock(when))
        rows = {r.name: r for r in status_rows(w.ctx)}
        zebre, coaching = rows["Zèbre"], w.teams.show("Zèbre").coaching
        assert (zebre.last_checkin, zebre.weeks_missing) == ("2020-07-08", missing) == \
            (coaching.last_checkin, len(coaching.weeks_missing))
        assert zebre.drifting is (missing >= w.ctx.settings.reminders.missed_weeks)
        assert (rows["Abeille"].last_checkin, rows["Abeille"].weeks_missing, rows["Abeille"].drifting) == \
            (None, None, False)


@dataclass(frozen=True, slots=True)
class _Pair:
    a: int
    b: str


@dataclass(frozen=True)
class _Plain:
    a: int


class _Base:
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class _Derived(_Base):
    a: int


def test_maker_sets_slots_makes_the_class_itself_and_leaves_other_classes_to_themselves():
    args = ("Alpha", "P", None, "selection", "2020-07-01T10:00:00+02:00", "c@example.org", "2020-12-23", 100,
            None, None, False)
    make = maker(TeamRow)
    assert make is maker(TeamRow) and make.__name__ == "make"  # the slot setter, not the class's __init__
    row = make(*args)
    assert type(row) is TeamRow and row == TeamRow(*args) and hash(row) == hash(TeamRow(*args))
    assert repr(row) == repr(TeamRow(*args))
    with pytest.raises(FrozenInstanceError):
        row.name = "Beta"  # type: ignore[misc]
    assert maker(_Pair)(1, "x") == _Pair(1, "x") and type(maker(_Derived)(3)) is _Derived
    assert maker(_Plain) is _Plain


def test_the_collector_is_paused_while_rows_are_taken_then_resumed(two):
    rows = status_rows(two.ctx)
    next(rows)
    assert not gc.isenabled()  # between two rows too: the caller writing them out is paused with it
    list(rows)
    assert gc.isenabled()
    rows = status_rows(two.ctx)
    next(rows)
    del rows  # dropped before its last row
    assert gc.isenabled()


def test_the_collector_is_paused_then_resumed_unless_it_was_paused_already():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        assert collected(iter([3, 1])) == [3, 1]
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---- who sees what: two programmes, each reader their scope ----------------------------------------

SEES = {COORD: {A1, A2}, scopes.COORD_A: {A1, A2}, scopes.COORD_B: {B1}, scopes.COMMITTEE_A: {A1, A2},
        scopes.PARTNER_X: {A2}, scopes.COACH_A: {A1}, scopes.COACH_B: {B1}, scopes.AGENT_B: {B1}}


@pytest.fixture
def world(wf):
    return scopes.two_programmes(wf)


def test_status_and_team_list_show_each_reader_their_scope_only(world):
    for who, teams in SEES.items():
        w = world.acting_as(who)
        assert names(w.teams.status()) == teams, who
        assert names(w.teams.rows()) == teams, who
        assert names(w.teams.status(phase="investigation")) == teams & {A1, B1}, who
        programmes = {r.programme for r in w.teams.status()}
        assert programmes == {A if t != B1 else B for t in teams}, who


def test_status_of_a_programme_one_reads_part_of_is_that_part(world):
    assert names(world.acting_as(scopes.PARTNER_X).teams.status(A)) == {A2}
    assert names(world.acting_as(scopes.COACH_B).teams.status(B)) == {B1}
    assert names(world.acting_as(scopes.COORD_B).teams.status(B)) == {B1}


@pytest.mark.parametrize("who", [scopes.COORD_A, scopes.COMMITTEE_A, scopes.PARTNER_X, scopes.COACH_A])
def test_status_of_a_programme_one_does_not_read_is_refused_naming_it(world, who):
    w = world.acting_as(who)
    with pytest.raises(Forbidden) as e:
        w.teams.status(B)
    assert e.value.code == "grant_needed" and e.value.params["programme"] == B
    with pytest.raises(Forbidden):
        list(w.teams.rows(B))


def test_the_administrator_reads_only_the_programmes_they_coordinate(world):
    world.directory.grant(scopes.COORD_A, "admin")
    world.acting_as(scopes.COORD_A).directory.revoke(COORD, "coordinator", A)
    admin = world.acting_as(COORD)  # administrator only: no team read, and no programme's status
    assert admin.teams.status() == []
    for programme in (A, B):
        with pytest.raises(Forbidden) as e:
            admin.teams.status(programme)
        assert (e.value.code, e.value.params["programme"]) == ("grant_needed", programme)
