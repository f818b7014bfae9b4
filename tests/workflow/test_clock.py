"""The clock: French dates, timezone-aware, DST-safe."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from workflow.clock import PARIS, FixedClock, parse_date, parse_datetime


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
