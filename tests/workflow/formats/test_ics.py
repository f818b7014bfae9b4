"""A programme's calendar: its deadline, each committee and each team's weekly coaching slot, with UIDs
that stay the same from one export to the next; the reminders ahead only for coordinators."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from tests.conftest import paris, ready_team, seed
from workflow.clock import PARIS, FixedClock
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


# ---- the time-zone block, read by the calendar libraries people use ------------------------------------------
# A July slot at 09:00 is 09:00+02:00 and a January one 09:00+01:00, whichever library reads the file: icalendar
# (from the VTIMEZONE itself, not its own tz database), vobject (under Radicale and khal), dateutil's tzical.

JULY, JANUARY = datetime(2020, 7, 13, 9, 0), datetime(2021, 1, 11, 9, 0)
SUMMER, WINTER = timedelta(hours=2), timedelta(hours=1)


def vtimezone(raw: bytes) -> str:
    """The calendar's one VTIMEZONE block, as text."""
    (tz,) = icalendar.Calendar.from_ical(raw).walk("VTIMEZONE")
    return tz.to_ical().decode()


def test_the_time_zone_block_is_rule_based_with_transitions_at_local_time(cal_wf):
    (tz,) = icalendar.Calendar.from_ical(cal_wf.calendars.ics("Pré-incubation 2020")).walk("VTIMEZONE")
    assert str(tz["tzid"]) == "Europe/Paris"
    parts = {c.name: c for c in tz.subcomponents}
    assert set(parts) == {"DAYLIGHT", "STANDARD"} and len(tz.subcomponents) == 2
    summer, winter = parts["DAYLIGHT"], parts["STANDARD"]
    assert "RDATE" not in summer and "RDATE" not in winter
    # RFC 5545: each onset in the local time before it (02:00 CET in March, 03:00 CEST in October)
    assert summer["rrule"]["BYMONTH"] == [3] and summer["rrule"]["BYDAY"] == ["-1SU"]
    assert winter["rrule"]["BYMONTH"] == [10] and winter["rrule"]["BYDAY"] == ["-1SU"]
    assert summer["dtstart"].dt.time() == time(2, 0) and summer["dtstart"].dt.weekday() == 6
    assert winter["dtstart"].dt.time() == time(3, 0) and winter["dtstart"].dt.weekday() == 6
    assert (summer["tzoffsetfrom"].td, summer["tzoffsetto"].td) == (WINTER, SUMMER)
    assert (winter["tzoffsetfrom"].td, winter["tzoffsetto"].td) == (SUMMER, WINTER)
    assert (str(summer["tzname"]), str(winter["tzname"])) == ("CEST", "CET")


def test_the_rule_agrees_with_the_tz_database_for_fifty_years():
    from workflow.formats.ics import paris_timezone

    tz = paris_timezone().to_tz(lookup_tzid=False)  # the block's own rules, not icalendar's tz database
    for year in range(1996, 2046):  # every UTC hour of the weeks holding a change, and mid-winter, mid-summer
        days = [datetime(year, m, d, tzinfo=timezone.utc) for m in (3, 10) for d in range(24, 32)]
        for u in [d + timedelta(hours=h) for d in days for h in range(24)] + [
                datetime(year, 1, 15, 8, tzinfo=timezone.utc), datetime(year, 7, 15, 7, tzinfo=timezone.utc)]:
            ours, theirs = u.astimezone(tz), u.astimezone(PARIS)
            assert (ours.replace(tzinfo=None), ours.utcoffset()) == (theirs.replace(tzinfo=None), theirs.utcoffset()), u


def test_icalendar_reads_the_block_as_plus_two_in_july_and_plus_one_in_january(cal_wf):
    (tz,) = icalendar.Calendar.from_ical(cal_wf.calendars.ics("Pré-incubation 2020")).walk("VTIMEZONE")
    paris_tz = tz.to_tz(lookup_tzid=False)
    assert JULY.replace(tzinfo=paris_tz).utcoffset() == SUMMER
    assert JANUARY.replace(tzinfo=paris_tz).utcoffset() == WINTER


def test_vobject_reads_the_slots_as_plus_two_in_july_and_plus_one_in_november(cal_wf):
    vobject = pytest.importorskip("vobject", reason="vobject is not installed: pip install vobject (the test extra)")
    cal = vobject.readOne(cal_wf.calendars.ics("Pré-incubation 2020", "en").decode())
    paris_tz = cal.vtimezone.gettzinfo()
    assert JULY.replace(tzinfo=paris_tz).utcoffset() == SUMMER
    assert JANUARY.replace(tzinfo=paris_tz).utcoffset() == WINTER
    (slot,) = [ev for ev in cal.vevent_list if ev.summary.value.startswith("Coaching")]
    first = slot.dtstart.value
    assert (first.date(), first.time(), first.utcoffset()) == (date(2020, 7, 6), time(9, 0), SUMMER)
    occurrences = list(slot.getrruleset())
    assert {o.utcoffset() for o in occurrences if o.month in (7, 8, 9)} == {SUMMER}
    assert {o.utcoffset() for o in occurrences if o.month in (11, 12)} == {WINTER}
    assert {o.time() for o in occurrences} == {time(9, 0)}  # the slot stays at 09:00 local over the change


def test_dateutil_tzical_reads_the_block_as_plus_two_in_july_and_plus_one_in_january(cal_wf):
    from io import StringIO

    from dateutil import tz as dtz

    paris_tz = dtz.tzical(StringIO(vtimezone(cal_wf.calendars.ics("Pré-incubation 2020")))).get("Europe/Paris")
    assert JULY.replace(tzinfo=paris_tz).utcoffset() == SUMMER
    assert JANUARY.replace(tzinfo=paris_tz).utcoffset() == WINTER
    assert datetime(2020, 10, 25, 1, 59).replace(tzinfo=paris_tz).utcoffset() == SUMMER
    assert datetime(2020, 10, 25, 3, 1).replace(tzinfo=paris_tz).utcoffset() == WINTER
    assert datetime(2021, 3, 28, 1, 59).replace(tzinfo=paris_tz).utcoffset() == WINTER
    assert datetime(2021, 3, 28, 3, 0).replace(tzinfo=paris_tz).utcoffset() == SUMMER


# ---- counted sentences -----------------------------------------------------------------------------------


def test_a_reminder_one_day_ahead_says_one_day(cal_wf):
    cal_wf.teams.poc("Insertion RSA", "Un prototype")
    cal_wf.teams.committee("Insertion RSA", on=date(2020, 12, 22))
    late = cal_wf.at(FixedClock(paris(2020, 12, 20, 12, 0)))
    summaries = set(events(late.calendars.ics("Pré-incubation 2020", "en")))
    assert "Reminder: the deadline of Pré-incubation 2020 is in 1 day" in summaries
    assert "Reminder: the committee of Insertion RSA is in 1 day" in summaries
    assert "Reminder: the deadline of Pré-incubation 2020 is in 7 days" not in summaries  # already past
    assert not any("1 days" in s for s in summaries)
    far = set(events(cal_wf.calendars.ics("Pré-incubation 2020", "en")))
    assert "Reminder: the deadline of Pré-incubation 2020 is in 30 days" in far


def test_a_reminder_one_day_ahead_says_one_day_in_french(cal_wf):
    late = cal_wf.at(FixedClock(paris(2020, 12, 20, 12, 0)))
    summaries = set(events(late.calendars.ics("Pré-incubation 2020", "fr")))
    assert not any("1 jours" in s or "1 days" in s for s in summaries)
    assert any(s.endswith("dans 1 jour") for s in summaries), summaries  # needs the catalog's French plural


def test_a_one_month_programme_says_one_month(wf):
    wf.directory.add_programme("Court", date(2020, 6, 23), months=1)
    (deadline,) = icalendar.Calendar.from_ical(wf.calendars.ics("Court", "en")).walk("VEVENT")
    assert str(deadline["description"]) == "Court: 1 month from June 23, 2020"
