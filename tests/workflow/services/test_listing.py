"""The status listing: rows as the cursor yields them, in programme then team order, errors before the
first row; rows made by slot, and the collector paused while they are."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import pytest

from tests.conftest import paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.errors import Invalid, NotFound
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
    rows = list(status_rows(two.ctx, two.checkins))
    assert [(r.name, r.phase) for r in rows] == [("Abeille", "selection"), ("Zèbre", "investigation")]
    assert rows[1].phase_since == "2020-07-06T09:00:00+02:00" and rows[1].coach == "coach@example.org"
    assert [r.name for r in status_rows(two.ctx, two.checkins, phase="investigation")] == ["Zèbre"]
    assert list(status_rows(two.ctx, two.checkins, "Pré-incubation 2020", "abandoned")) == []


def test_errors_come_at_the_first_next_before_any_row(two):
    rows = status_rows(two.ctx, two.checkins, "Inconnu")
    with pytest.raises(NotFound):
        next(rows)
    with pytest.raises(Invalid):
        next(status_rows(two.ctx, two.checkins, phase="nowhere"))


@dataclass(frozen=True, slots=True)
class _Pair:
    a: int
    b: str


@dataclass(frozen=True)
class _Plain:
    a: int


def test_maker_sets_slots_and_leaves_other_classes_to_themselves():
    make = maker(_Pair)
    assert make(1, "x") == _Pair(1, "x") and make is maker(_Pair)
    assert maker(_Plain) is _Plain
    assert maker(TeamRow).__name__ == "make"


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
