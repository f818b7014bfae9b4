"""A programme's calendar: its deadline, each committee and each team's weekly coaching slot, with UIDs
that stay the same from one export to the next; the reminders ahead only for coordinators."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.errors import NotFound

icalendar = pytest.importorskip("icalendar")


@pytest.fixture
def cal_wf(wf):
    seed(wf)
    ready_team(wf, "Insertion RSA")
    w = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    w.transitions.advance("Insertion RSA", "select")
    return w


def events(raw: bytes) -> dict[str, object]:
    return {str(c["summary"]): c for c in icalendar.Calendar.from_ical(raw).walk("VEVENT")}


def uids(raw: bytes) -> list[str]:
    return sorted(str(c["uid"]) for c in icalendar.Calendar.from_ical(raw).walk("VEVENT"))


def test_the_deadline_is_an_all_day_event_six_months_after_the_signature(cal_wf):
    cal = icalendar.Calendar.from_ical(cal_wf.calendars.ics("Pré-incubation 2020", "en"))
    assert str(cal["x-wr-calname"]) == "Pré-incubation 2020"
    deadline = events(cal.to_ical())["Deadline of Pré-incubation 2020"]
    assert deadline["dtstart"].dt == date(2020, 12, 23) and deadline["transp"] == "TRANSPARENT"


def test_uids_are_stable_and_the_coaching_slot_is_weekly(cal_wf):
    first = cal_wf.calendars.ics("Pré-incubation 2020")
    again = cal_wf.at(FixedClock(paris(2020, 7, 8, 9, 0))).calendars.ics("Pré-incubation 2020")
    assert uids(first) == uids(again)
    assert all(u.endswith("@preincub") for u in uids(first))
    slots = [c for c in icalendar.Calendar.from_ical(first).walk("VEVENT") if c.get("rrule")]
    assert slots and slots[0]["rrule"]["FREQ"] == ["WEEKLY"]


def test_a_committee_date_is_an_event_and_reminders_only_for_coordinators(cal_wf):
    cal_wf.teams.poc("Insertion RSA", "Un prototype")
    cal_wf.teams.committee("Insertion RSA", on=date(2020, 9, 10))
    summaries = set(events(cal_wf.calendars.ics("Pré-incubation 2020", "en")))
    assert "Strategic committee: Insertion RSA" in summaries
    assert any(s.startswith("Reminder:") for s in summaries)
    coach = set(events(cal_wf.acting_as("coach@example.org").calendars.ics("Pré-incubation 2020", "en")))
    assert not any(s.startswith("Reminder:") for s in coach)


def test_an_unknown_programme_is_not_found(cal_wf):
    with pytest.raises(NotFound):
        cal_wf.calendars.ics("Inconnu")


def test_a_calendar_of_a_programme_one_reads_nothing_of_is_refused(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    assert b"BEGIN:VCALENDAR" in wf.acting_as(sc.COACH_A).calendars.ics(sc.A)  # a coach of A: its calendar
    for who, other in ((sc.COORD_B, sc.A), (sc.COMMITTEE_A, sc.B), (sc.COACH_A, sc.B)):
        sc.refused_in(wf.acting_as(who).calendars.ics, other, other)
    assert b"Beta" not in wf.acting_as(sc.COORD_A).calendars.ics(sc.A)
