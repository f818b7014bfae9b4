"""The numbers each programme kind brings (docs/domain.md, "The two programme kinds"): seed 1 is
`preincubation`, seed 2 is `fast`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindRules:
    kind: str
    months: int
    capacity: int
    min_days_per_week: float
    requires_sponsor: bool


PROGRAMME_KINDS: dict[str, KindRules] = {
    # Seed 1: at most 8 teams, intrapreneurs freed at least one day a week, six months.
    "preincubation": KindRules("preincubation", months=6, capacity=8, min_days_per_week=1.0, requires_sponsor=False),
    # Seed 2: one Startup d'État, at least 50 % of a 5-day week, a sponsor named by the partner body.
    "fast": KindRules("fast", months=6, capacity=1, min_days_per_week=2.5, requires_sponsor=True),
}

# The partner bodies that sign an agreement (collectivités).
PARTNER_KINDS: tuple[str, ...] = ("departement", "region", "other")
