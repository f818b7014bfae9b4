"""The status of many teams (``status``, ``team list``, ``status --json``): one row per team from one
query, streamed, no ORM object and no Machine per row.

The query gives per row only what differs by team (ids, name, phase, since, coach); names, deadlines
and days left come once per programme or partner, the held check-ins from one query over the
check-ins of the teams that have any, and each distinct stored date is converted once. Per row, the
rest is a few dictionary lookups and the record itself (:func:`maker`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import Any, TypeVar

import states
from workflow.rules import validate
from workflow.clock import paris, stored_utc
from workflow.context import Context
from workflow.rules.coaching import coaching
from workflow.rules.deadlines import days_left, deadline
from workflow.records import TeamRow
from workflow.services.checkins import readable_programme
from workflow.store import reads
from workflow.store import teams as team_rows

T = TypeVar("T")

_INVESTIGATION = "investigation"  # the phase whose coaching weeks are counted (``rules.coaching``)


def status_rows(ctx: Context, programme: str | None = None, phase: str | None = None) -> Iterator[TeamRow]:
    """The rows of ``status``, made as the cursor yields them (a caller writing them out never holds
    them all), in programme then team name order. Errors (unknown programme or phase, permission)
    come at the first ``next``, before any row. A team in investigation shows the coaching weeks it
    missed since it entered it, as ``CheckIns.coaching_of`` counts them. The collector is paused
    (:func:`gc_paused`) from the first row until the last is taken or the rows are dropped: a caller
    writing 100,000 rows out (``status --json``) makes small objects by the hundred thousand too, and
    the collector's runs over them were a quarter of that."""
    if phase is not None:
        validate.choice(phase, tuple(states.PHASES), "phase")
    store = ctx.store
    today = ctx.clock.today()
    terminal = states.TERMINAL
    drift = ctx.settings.reminders.missed_weeks
    with store.read() as s:
        programme_id = None if programme is None else readable_programme(ctx, s, programme).id
        scope = reads.status_scope(programme_id, phase, ctx.visible_teams(s))
        conn = s.connection()
        # The few teams that held a check-in: their held weeks and their last check-in's day, as shown.
        held = {tid: (frozenset(weeks.split(",")), _iso_day(last))
                for tid, weeks, last in reads.held_checkins(conn, scope)}
        programmes: dict[int, tuple[str, str, int]] = {}  # name, deadline, days left
        for pid, pname, signed_on, months in team_rows.programme_terms(conn):
            due = deadline(signed_on, months)
            programmes[pid] = (pname, due.isoformat(), days_left(due, today))
        partners: dict[int | None, str | None] = team_rows.partner_names(conn)
        partners[None] = None
        shown: dict[Any, str | None] = {}  # stored phase_since -> as shown
        started: dict[Any, date] = {}  # stored phase_since -> the day in Paris
        unheld: dict[date, int] = {}  # weeks missing since a day, by a team that held none
        team_row = maker(TeamRow)
        held_of = held.get
        with gc_paused():  # until the last row: the caller writing them out makes objects too
            for tid, name, pid, partner_id, ph, since, coach in reads.status(store, conn, scope):
                prog, due, left = programmes[pid]
                since_iso = shown.get(since)
                if since_iso is None:
                    since_iso = shown[since] = _iso_stored(since)
                mark = held_of(tid)
                if ph != _INVESTIGATION:
                    yield team_row(name, prog, partners[partner_id], ph, since_iso, coach, due,
                                   None if ph in terminal else left, None if mark is None else mark[1], None, False)
                    continue
                # Thousands of teams share a start: its day, and its count when no week was held, once each.
                start = started.get(since)
                if start is None:
                    start = started[since] = paris(stored_utc(since)).date()
                if mark is None:
                    missing = unheld.get(start)
                    if missing is None:
                        missing = unheld[start] = len(coaching(start, None, today, ()).missing)
                    last = None
                else:
                    missing = len(coaching(start, None, today, mark[0]).missing)
                    last = mark[1]
                yield team_row(name, prog, partners[partner_id], ph, since_iso, coach, due, left, last, missing,
                               missing >= drift)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while many small acyclic objects are made (100,000 rows:
    without it the collector runs some 140 times over everything the process holds, a sixth of
    ``status``). Reference counting still frees everything; the collector is resumed after, unless
    it was paused already."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def collected(rows: Iterable[T]) -> list[T]:
    """``list(rows)`` with the collector paused (:func:`gc_paused`)."""
    with gc_paused():
        return list(rows)


_MAKERS: dict[type, Any] = {}


def maker(cls: type) -> Any:
    """``cls(*values)`` for a frozen dataclass with slots, at less than half the cost per row: the
    generated ``__init__`` of a frozen dataclass goes through ``object.__setattr__`` field by field
    (~2 µs for a ``TeamRow``, a fifth of ``status`` at 100,000 teams); this sets the slots directly.
    Anything else (no slots, a ``__post_init__``) is left to the class itself."""
    make = _MAKERS.get(cls)
    if make is None:
        make = _MAKERS[cls] = _slot_setter(cls) or cls
    return make


def _slotted(cls: type) -> list[str] | None:
    """The fields of a dataclass that keeps each of them in a slot and has no ``__post_init__``, else None."""
    names = [f.name for f in dataclass_fields(cls)]
    if hasattr(cls, "__post_init__") or not all(type(cls.__dict__.get(n)).__name__ == "member_descriptor"
                                                  for n in names):
        return None
    return names


def _slot_setter(cls: type) -> Any:
    """A function making a ``cls`` by setting its slots one by one, or None when it has none to set."""
    names = _slotted(cls)
    if names is None:
        return None
    env = {"new": object.__new__, "cls": cls, **{f"set{i}": cls.__dict__[n].__set__ for i, n in enumerate(names)}}
    exec("def make(" + ", ".join(names) + "):\n    o = new(cls)\n"  # noqa: S102 - fixed source, own names
         + "".join(f"    set{i}(o, {n})\n" for i, n in enumerate(names)) + "    return o\n", env)
    return env["make"]


def _iso_day(value: str | date | None) -> str | None:
    """A day read from the store (SQLite gives its text) as shown: ISO."""
    if value is None:
        return None
    return (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()


def _iso_stored(value: str | datetime | None) -> str | None:
    """A stored UTC datetime (SQLite gives its text) as ``teams.iso`` shows it: Paris time, to the second."""
    return None if value is None else paris(stored_utc(value)).isoformat(timespec="seconds")
