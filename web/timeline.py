"""A team's phase timeline as a small inline SVG, in the page's language (drawn by notifications/timeline.py,
which the committee pack shares)."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from notifications import timeline as _shared
from workflow.records import TeamRecord

from web.pages import lang


def timeline(team: TeamRecord, today: date, deadline: date) -> Markup:
    """One bar per phase period, from the first start to the later of today and the deadline."""
    return _shared.timeline(team, today, deadline, lang())
