"""What a tick reads, on both stores: the snapshot (each team's held weeks and last check-in in one
aggregated row) and the people, as rows rather than Person objects."""

from __future__ import annotations

from datetime import date

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.services.outbox import channels_for
from workflow.store import reminders as reminder_rows


def test_snapshot_held_weeks_and_last_check_in(wf):
    seed(wf)
    for name, i in (("A", 0), ("B", 1), ("C", 2)):
        ready_team(wf, name, i)
    selected = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    for name in "ABC":
        selected.transitions.advance(name, "select")
    wf = wf.at(FixedClock(paris(2020, 7, 31, 10, 0)))
    wf.checkins.log("A", on=date(2020, 7, 7), notes="W28")
    wf.checkins.log("A", on=date(2020, 7, 9), notes="W28 again")
    wf.checkins.log("A", on=date(2020, 7, 21), notes="W30")
    wf.checkins.log("A", on=date(2020, 7, 28), missed=True, reason="Congés.")  # later, but missed
    wf.checkins.log("B", on=date(2020, 7, 14), missed=True, reason="Malade.")
    with wf.store.read() as s:
        facts = {t.name: t for t in reminder_rows.snapshot(s, paris(2020, 7, 1)).teams}
    assert facts["A"].held == frozenset({"2020-W28", "2020-W30"})
    assert facts["A"].last_checkin == date(2020, 7, 21)
    assert (facts["B"].held, facts["B"].last_checkin) == (frozenset(), None)
    assert (facts["C"].held, facts["C"].last_checkin) == (frozenset(), None)


def test_people_are_rows_with_what_messages_need(wf):
    seed(wf)
    with wf.store.read() as s:
        everyone = reminder_rows.people(s, set(range(1, 40)))
        assert reminder_rows.people(s, set()) == {}
    coach = next(p for p in everyone.values() if p.email == "coach@example.org")
    assert (coach.name, coach.lang, coach.erased_at) == ("Coach Un", "fr", None)
    assert channels_for(coach) == ["email"]
    assert {p.email for p in everyone.values()} >= {COORD, "coach@example.org"}
