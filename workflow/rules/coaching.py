"""Coaching weeks: ISO weeks in Europe/Paris, what was held and what is missing. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from workflow.errors import N_, Invalid

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@lru_cache(maxsize=8192)
def iso_week(d: date) -> str:
    """'2020-W30' for any day of that ISO week (2020-W53 exists; 1 January may be in the previous year)."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def parse_week(text: str) -> str:
    """Validate an ISO week such as 2020-W30 and return it normalised."""
    m = _WEEK.match(text.strip())
    try:
        if not m:
            raise ValueError
        date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise Invalid(N_("{value!q} is not an ISO week; use YYYY-Www, e.g. 2020-W30"), value=text) from None
    return f"{m[1]}-W{m[2]}"


@lru_cache(maxsize=4096)
def _weeks(first_monday: date, last_monday: date) -> tuple[str, ...]:
    out = []
    monday = first_monday
    while monday <= last_monday:
        out.append(iso_week(monday))
        monday += timedelta(days=7)
    return tuple(out)


def weeks(start: date, end: date) -> list[str]:
    """Every ISO week from the one holding ``start`` to the one holding ``end``, in order.

    Cached by week: thousands of teams that started the same week share one computation.
    """
    return list(_weeks(start - timedelta(days=start.weekday()), end - timedelta(days=end.weekday())))


@dataclass(frozen=True, slots=True)
class Coaching:
    expected: list[str]  # weeks a check-in was due
    held: list[str]      # of those, the weeks with at least one check-in held
    missing: list[str]   # of those, the weeks without (expected = held + missing)

    def as_dict(self) -> dict:
        return {"weeks_expected": len(self.expected), "weeks_held": len(self.held),
                "weeks_missing": self.missing}


def coaching(start: date, end: date | None, today: date, held: Collection[str], last: int | None = None) -> Coaching:
    """The coaching record of a team in investigation from ``start`` to ``end`` (None: still in it).

    The week in progress (or the week the team left investigation) is expected only once a
    check-in was held in it: until then it is not missed yet. ``last`` keeps the last N weeks.
    """
    stop = min(end, today) if end is not None else today
    expected = weeks(start, stop) if stop >= start else []
    if expected and expected[-1] not in held:
        expected.pop()  # the week in progress, or the one the team left in: not missed (yet)
    if last is not None:
        expected = expected[-last:] if last > 0 else []
    return Coaching(expected, [w for w in expected if w in held], [w for w in expected if w not in held])
