"""The injectable clock. Every 'now' goes through a Clock, so any date can be tested (``--now``).

A clock gives two readings: business time (:meth:`Clock.now`, in Paris: what is due, phases, events)
and wall time (:meth:`Clock.wall`, in UTC: what the outbox and the daemon's lease stamp, retry
delays, claims). The real clock reads the real time for both; a fixed clock (``--now``) gives its
instant for both, so everything a tick writes follows ``--now``. Only the daemon's real waiting
(its schedule, its heartbeat's pace) reads real time of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timezone
from zoneinfo import ZoneInfo

from workflow.errors import N_, Invalid

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    """The real time, in Europe/Paris."""

    def now(self) -> datetime:
        return datetime.now(PARIS)

    def wall(self) -> datetime:
        """The instant stamped on outbox rows and the daemon's lease, in UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


@dataclass(frozen=True)
class FixedClock(Clock):
    """A clock stopped at one instant (``--now``, tests)."""

    at: datetime

    def now(self) -> datetime:
        return self.at.astimezone(PARIS)

    def wall(self) -> datetime:
        return self.at.astimezone(UTC)


YEARS = (2000, 2100)  # programmes outside these years are typing mistakes


def _in_range(d: date, text: str) -> None:
    if not YEARS[0] <= d.year <= YEARS[1]:
        raise Invalid(N_("{value!q} is out of range: use a date between {first} and {last}"), value=text,
                      first=YEARS[0], last=YEARS[1])


def parse_datetime(text: str) -> datetime:
    """An ISO date or datetime; naive values are Paris wall-clock time (a date means its midnight)."""
    text = text.strip()
    try:
        from dateutil import parser as dateparser  # on first use: the CLI's start-up stays light

        dt = dateparser.isoparse(text)
    except (ValueError, OverflowError):
        raise Invalid(N_("{value!q} is not a date or datetime; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"),
                      value=text) from None
    _in_range(dt.date(), text)
    if dt.tzinfo is None:
        # fold=0 picks the first of an ambiguous autumn hour; zoneinfo moves a spring-gap time forward.
        dt = dt.replace(tzinfo=PARIS)
    return dt.astimezone(PARIS)


def parse_date(text: str) -> date:
    """A calendar date, YYYY-MM-DD."""
    try:
        d = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(N_("{value!q} is not a date; use YYYY-MM-DD"), value=text) from None
    _in_range(d, text)
    return d


def clock_from(text: str | None) -> Clock:
    return FixedClock(parse_datetime(text)) if text else Clock()


def as_aware(dt: datetime) -> datetime:
    """Datetimes come back naive from SQLite; the store always holds UTC."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def stored_utc(value: str | datetime) -> datetime:
    """A stored datetime, aware: SQLite's text when read without per-row type processing
    (:meth:`workflow.store.engine.Store.as_stored`), or the driver's datetime."""
    return as_aware(datetime.fromisoformat(value) if isinstance(value, str) else value)


def paris(dt: datetime) -> datetime:
    return as_aware(dt).astimezone(PARIS)


def until_datetime(d: date) -> datetime:
    """``--until DATE`` covers that whole day, in Paris."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=PARIS)
