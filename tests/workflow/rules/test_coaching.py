"""Coaching weeks: ISO weeks across year ends (2020-W53) and DST, held + missing = expected."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.rules.coaching import coaching, iso_week, parse_week, weeks


def test_iso_weeks_across_the_year_end():
    assert iso_week(date(2020, 12, 31)) == "2020-W53"
    assert iso_week(date(2021, 1, 3)) == "2020-W53"   # a Sunday of 2021 in 2020's last week
    assert iso_week(date(2021, 1, 4)) == "2021-W01"
    assert iso_week(date(2019, 12, 30)) == "2020-W01"  # a Monday of 2019 in 2020's first week
    assert weeks(date(2020, 12, 20), date(2021, 1, 10)) == ["2020-W51", "2020-W52", "2020-W53", "2021-W01"]


def test_dst_weekends_do_not_shift_weeks():
    # 25 October 2020 (back to winter time) and 29 March 2020 (summer time) are Sundays.
    assert weeks(date(2020, 10, 19), date(2020, 11, 1)) == ["2020-W43", "2020-W44"]
    assert weeks(date(2020, 3, 23), date(2020, 4, 5)) == ["2020-W13", "2020-W14"]


def test_the_week_in_progress_is_not_missed_yet():
    start, today = date(2020, 7, 6), date(2020, 7, 22)  # W28, W29, W30 (in progress)
    c = coaching(start, None, today, {"2020-W28"})
    assert (c.expected, c.missing) == (["2020-W28", "2020-W29"], ["2020-W29"])
    c = coaching(start, None, today, {"2020-W28", "2020-W30"})
    assert (c.expected, c.held, c.missing) == (["2020-W28", "2020-W29", "2020-W30"], ["2020-W28", "2020-W30"],
                                               ["2020-W29"])


def test_a_team_that_left_investigation_is_counted_up_to_then():
    c = coaching(date(2020, 7, 6), date(2020, 7, 29), date(2020, 11, 16), {"2020-W28", "2020-W29"})
    assert c.expected == ["2020-W28", "2020-W29", "2020-W30"] and c.missing == ["2020-W30"]


def test_last_n_weeks():
    c = coaching(date(2020, 7, 6), None, date(2020, 8, 10), set(), last=2)
    assert c.expected == ["2020-W31", "2020-W32"]


@pytest.mark.parametrize("bad", ["2020-W54", "2021-W53", "2020-30", "W30", "2020-W3"])
def test_bad_weeks(bad):
    with pytest.raises(ValueError, match="YYYY-Www"):
        parse_week(bad)
    assert parse_week("2020-W53") == "2020-W53"


@settings(max_examples=300, deadline=None)
@given(start=st.dates(date(2019, 6, 1), date(2022, 6, 1)), length=st.integers(0, 400),
       spent=st.one_of(st.none(), st.integers(0, 400)),
       offsets=st.lists(st.integers(0, 400), max_size=40))
def test_held_plus_missing_is_expected(start, length, spent, offsets):
    today = start + timedelta(days=length)
    end = None if spent is None else start + timedelta(days=min(spent, length))
    stop = end or today
    days = [start + timedelta(days=o) for o in offsets if start + timedelta(days=o) <= stop]
    held = {iso_week(d) for d in days}
    c = coaching(start, end, today, held)
    assert len(c.held) + len(c.missing) == len(c.expected)
    assert set(c.held) == held & set(weeks(start, stop))  # every week with a check-in counts as held
    assert len(set(c.expected)) == len(c.expected)
    all_weeks = weeks(start, stop)
    assert c.expected in (all_weeks, all_weeks[:-1])  # only the last, partial week may be left out
