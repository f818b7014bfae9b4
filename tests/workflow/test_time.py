"""Deadlines and the clock: French dates, timezone-aware, DST-safe."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from workflow.clock import PARIS, FixedClock, parse_date, parse_datetime
from workflow.rules.deadlines import days_left, deadline


@pytest.mark.parametrize("signed,months,due", [
    (date(2020, 6, 23), 6, date(2020, 12, 23)),   # seed 1
    (date(2019, 10, 31), 6, date(2020, 4, 30)),   # seed 2 takes effect at the second signature; month end clamps
    (date(2020, 8, 31), 6, date(2021, 2, 28)),
    (date(2019, 8, 31), 6, date(2020, 2, 29)),    # leap year
])
def test_six_calendar_months(signed, months, due):
    assert deadline(signed, months) == due


def test_days_left_counts_calendar_days():
    assert days_left(date(2020, 12, 23), date(2020, 11, 16)) == 37
    assert days_left(date(2020, 12, 23), date(2020, 12, 23)) == 0
    assert days_left(date(2020, 12, 23), date(2020, 12, 25)) == -2


def test_naive_times_are_paris_wall_clock_across_dst():
    summer = parse_datetime("2020-07-01T10:00")
    winter = parse_datetime("2020-12-01T10:00")
    assert summer.utcoffset().total_seconds() == 7200 and winter.utcoffset().total_seconds() == 3600
    assert parse_datetime("2020-10-25").tzinfo is not None
    # an explicit offset is honoured and shown in Paris time
    assert parse_datetime("2020-07-01T08:00:00Z") == summer
    assert FixedClock(datetime(2020, 3, 29, 0, 30, tzinfo=timezone.utc)).today() == date(2020, 3, 29)
    assert FixedClock(datetime(2020, 3, 28, 23, 30, tzinfo=timezone.utc)).now().hour == 0  # 00:30 Paris, CET


def test_a_paris_evening_is_the_next_utc_day_or_not():
    # 23:30 on 31 Dec in Paris is still 2020 there, whatever UTC says.
    assert FixedClock(datetime(2020, 12, 31, 23, 30, tzinfo=PARIS)).today() == date(2020, 12, 31)


@pytest.mark.parametrize("bad", ["2020-13-01", "tomorrow", "23/06/2020", ""])
def test_bad_dates_say_the_format(bad):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(bad)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_datetime(bad)
