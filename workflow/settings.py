"""Settings read from the environment, with the agreements' defaults. Secrets never leave here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time

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


def _days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        days = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise Invalid(f"{name}={raw!r}: give days as numbers, e.g. 30,14,7,1",
                      f"{name}={raw!r} : donnez des nombres de jours, par ex. 30,14,7,1") from None
    if not days or any(d < 1 or d > 365 for d in days):
        raise Invalid(f"{name}: days must be between 1 and 365", f"{name} : les jours vont de 1 à 365")
    return days


def _hour(name: str, default: time) -> time:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name}={raw!r} is not a time; use HH:MM", f"{name}={raw!r} n'est pas une heure ; utilisez HH:MM") from None


@dataclass(frozen=True)
class Settings:
    hours_per_day: float = 7.0  # one day a week of intrapreneur time, in hours (seed 1)
    checkin_edit_days: int = 7  # how long the author may correct a check-in
    # Reminders (DESIGN.md, "Reminders and the daemon").
    weekly_weekday: int = 0  # Monday
    remind_at: time = time(9, 0)  # Europe/Paris
    deadline_days: tuple[int, ...] = (30, 14, 7, 1)
    committee_days: tuple[int, ...] = (7, 1)
    missed_weeks: int = 2
    # Delivery.
    smtp_url: str | None = None
    smtp_from: str = "preincub <preincub@localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0
    webhook_url: str | None = None
    retry_max: int = 5
    retry_base_seconds: float = 60.0
    lease_seconds: float = 120.0
    tick_cron: str = "*/5 * * * *"
    smtp_password: str | None = field(default=None, repr=False)  # from the environment only; never stored

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            hours_per_day=_float("PREINCUB_HOURS_PER_DAY", 7.0, 1, 12),
            weekly_weekday=int(_float("PREINCUB_REMIND_WEEKDAY", 0, 0, 4)),
            remind_at=_hour("PREINCUB_REMIND_AT", time(9, 0)),
            deadline_days=_days("PREINCUB_DEADLINE_DAYS", (30, 14, 7, 1)),
            committee_days=_days("PREINCUB_COMMITTEE_DAYS", (7, 1)),
            missed_weeks=int(_float("PREINCUB_MISSED_WEEKS", 2, 1, 10)),
            smtp_url=env("PREINCUB_SMTP_URL") or None,
            smtp_from=env("PREINCUB_SMTP_FROM") or "preincub <preincub@localhost>",
            smtp_starttls=(env("PREINCUB_SMTP_STARTTLS") or "").lower() in ("1", "yes", "true", "oui"),
            smtp_timeout=_float("PREINCUB_SMTP_TIMEOUT", 30.0, 1, 600),
            webhook_url=env("PREINCUB_WEBHOOK_URL") or None,
            retry_max=int(_float("PREINCUB_RETRY_MAX", 5, 1, 100)),
            retry_base_seconds=_float("PREINCUB_RETRY_BASE_SECONDS", 60.0, 0, 86400),
            lease_seconds=_float("PREINCUB_LEASE_SECONDS", 120.0, 1, 86400),
            tick_cron=env("PREINCUB_TICK_CRON") or "*/5 * * * *",
            smtp_password=env("PREINCUB_SMTP_PASSWORD") or None,
        )
