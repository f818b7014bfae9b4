"""The six-month deadline (DOMAIN.md, "Time")."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta


def deadline(takes_effect: date, months: int) -> date:
    """``months`` calendar months after the agreement takes effect; a month end clamps.

    23 June 2020 + 6 months is 23 December 2020; 31 August + 6 months is the end of February.
    """
    return takes_effect + relativedelta(months=months)


def days_left(deadline_on: date, today: date) -> int:
    """Days from today to the deadline (0 on the day, negative once past)."""
    return (deadline_on - today).days
