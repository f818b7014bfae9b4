"""Settings read from the environment, with the agreements' defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass

from workflow.errors import Invalid


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(f"{name}={raw!r} is not a number", f"{name}={raw!r} n'est pas un nombre") from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low:g} and {high:g}", f"{name} doit être entre {low:g} et {high:g}")
    return value


@dataclass(frozen=True)
class Settings:
    hours_per_day: float = 7.0  # one day a week of intrapreneur time, in hours (seed 1)
    checkin_edit_days: int = 7  # how long the author may correct a check-in

    @classmethod
    def from_env(cls) -> Settings:
        return cls(hours_per_day=_float("PREINCUB_HOURS_PER_DAY", 7.0, 1, 12))
