"""Deadlines: calendar months from a signature, days left in calendar days."""

from __future__ import annotations

from datetime import date
import pytest
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
