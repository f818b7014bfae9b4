"""An idle tick costs one row: the reminders' last full look holds until the store changes (the audit chain's
head moves), the settings change, or the next moment a reminder can fall due (workflow.rules.due.quiet_until)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from tests.conftest import paris, seed
from tests.workflow.services.test_reminders import COACH, at, investigating, queued
from workflow.clock import PARIS
from workflow.errors import Forbidden
from workflow.rules import due
from workflow.settings import Settings
from workflow.store import reminders as reminder_rows


@pytest.fixture
def looks(monkeypatch):
    """How many full looks (snapshots) the enqueues took."""
    n = [0]
    real = reminder_rows.snapshot

    def counted(*args, **kwargs):
        n[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(reminder_rows, "snapshot", counted)
    return n


@pytest.fixture
def one_team(wf):
    seed(wf)
    investigating(wf, "A", 0)  # selected Monday 2020-07-06 09:00
    return wf


def test_an_idle_tick_takes_no_full_look_until_a_reminder_can_fall_due(one_team, looks):
    w = one_team
    assert at(w, 2020, 7, 13, 9, 5).reminders.enqueue() == 1  # the weekly reminder of 2020-W29, to coach@
    assert looks[0] == 1
    for hour, minute in ((9, 10), (12, 0), (23, 59)):
        assert at(w, 2020, 7, 13, hour, minute).reminders.enqueue() == 0
    assert looks[0] == 1  # the same day after 09:00: nothing can fall due before midnight
    assert at(w, 2020, 7, 14, 0, 0).reminders.enqueue() == 0 and looks[0] == 2  # midnight: a look
    assert at(w, 2020, 7, 20, 9, 0).reminders.enqueue() >= 1 and looks[0] == 3  # the next Monday's reminders
    assert {"coaching:1:2020-W29", "coaching:1:2020-W30"} <= set(queued(w))


def test_any_change_makes_the_next_tick_look_again(one_team, looks):
    w = one_team
    at(w, 2020, 7, 13, 9, 5).reminders.enqueue()
    investigating(w, "B", 1, since=(2020, 7, 13, 10, 0))  # a new team in investigation: its week is due at once
    assert at(w, 2020, 7, 13, 10, 5).reminders.enqueue() == 1 and looks[0] == 2
    assert "coaching:2:2020-W29" in queued(w)
    at(w, 2020, 7, 13, 11, 0).checkins.log("A", on=date(2020, 7, 13), notes="Fait.")
    assert at(w, 2020, 7, 13, 11, 5).reminders.enqueue() == 0 and looks[0] == 3


def test_other_settings_or_an_earlier_clock_make_it_look_again(one_team, looks):
    w = one_team
    at(w, 2020, 7, 13, 9, 5).reminders.enqueue()
    later = w.with_settings(Settings(missed_weeks=3))
    assert at(later, 2020, 7, 13, 9, 10).reminders.enqueue() == 0 and looks[0] == 2
    assert at(w, 2020, 7, 13, 8, 0).reminders.enqueue() == 0 and looks[0] == 3  # --now before the last look


def test_the_plan_read_outside_the_session_is_the_sessions_row(one_team):
    """On SQLite the idle tick reads its row by the driver's cursor (workflow.store.driver): the same
    values, the time aware, as SQLAlchemy's own path gives."""
    w = one_team
    at(w, 2020, 7, 13, 9, 5).reminders.enqueue()
    with w.store.read() as s:
        fast = reminder_rows.plan(w.store, s)
        slow = s.connection().execute(reminder_rows._PLAN_NOW, {"name": "all"}).first()
    assert tuple(fast) == tuple(slow)
    assert fast[3] == paris(2020, 7, 13, 9, 5) and fast[3].utcoffset() is not None
    with w.store.read() as s:
        assert reminder_rows.plan(w.store, s, "nobody") is None


def test_a_coordinator_of_some_programmes_always_looks(one_team, looks):
    """The plan is the instance's whole view; a coordinator's run sees only their programmes."""
    w = one_team
    w.directory.add_person("Coord Deux", "coord2@example.org", ["coordinator"])
    theirs = w.acting_as("coord2@example.org")
    assert theirs.reminders.delivery.may_remind() is not None  # not everything: some programmes
    at(theirs, 2020, 7, 13, 9, 5).reminders.enqueue()
    at(theirs, 2020, 7, 13, 9, 10).reminders.enqueue()
    assert looks[0] == 2
    with pytest.raises(Forbidden):
        at(w, 2020, 7, 13, 9, 15).acting_as(COACH).reminders.enqueue()  # refused before any look
    assert looks[0] == 2


@pytest.mark.parametrize("now,expected", [
    (paris(2020, 7, 13, 8, 0), paris(2020, 7, 13, 9, 0)),
    (paris(2020, 7, 13, 9, 0), paris(2020, 7, 14, 0, 0)),
    (paris(2020, 7, 13, 23, 30), paris(2020, 7, 14, 0, 0)),
    (paris(2020, 10, 24, 12, 0), paris(2020, 10, 25, 0, 0)),  # the night the clocks go back
    (paris(2020, 10, 25, 0, 0), paris(2020, 10, 25, 9, 0)),
])
def test_quiet_until_is_the_next_reminder_time_or_midnight_in_paris(now, expected):
    assert due.quiet_until(now, Settings()) == expected
    assert due.quiet_until(now, Settings()).utcoffset() == expected.utcoffset()


def test_quiet_until_follows_the_reminder_time_setting():
    assert due.quiet_until(paris(2020, 7, 13, 8, 0), Settings(remind_at=time(7, 30))) == paris(2020, 7, 14, 0, 0)
    assert due.quiet_until(datetime(2020, 7, 13, 5, 0, tzinfo=PARIS), Settings(remind_at=time(7, 30))) == paris(
        2020, 7, 13, 7, 30)
