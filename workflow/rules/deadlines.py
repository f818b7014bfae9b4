"""The six-month deadline (docs/domain.md, "Time")."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


def deadline(takes_effect: date, months: int) -> date:
    """``months`` calendar months after the agreement takes effect; a month end clamps.

    23 June 2020 + 6 months is 23 December 2020; 31 August + 6 months is the end of February.
    """
    return takes_effect + relativedelta(months=months)


def days_left(deadline_on: date, today: date) -> int:
    """Days from today to the deadline (0 on the day, negative once past)."""
    return (deadline_on - today).days


NOTICE_MONTHS = 1  # seed 1, art. 5: "mise en demeure restée sans réponse satisfaisante dans un délai d'un mois"


def answer_by(notice_on: date) -> date:
    """The last day to answer a formal notice sent on ``notice_on``: one calendar month later, a month end
    clamping (31 January → the end of February). An answer on that day is in time."""
    return notice_on + relativedelta(months=NOTICE_MONTHS)


def terminable_on(notice_on: date) -> date:
    """The first day the agreement is terminable if the notice sent on ``notice_on`` is still unanswered:
    the day after :func:`answer_by`."""
    return answer_by(notice_on) + timedelta(days=1)
