"""The status of many teams (``status``, ``team list``, ``status --json``): one row per team from a
few set-based queries, streamed, no ORM object and no Machine per row.

Per row only what differs by team is read (ids, name, phase, since); names, deadlines and days
left come once per programme or partner, coaches from one query over the team memberships, the
check-in marks from ``CheckIns.coaching_marks``, and each distinct stored date is converted once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any, TypeVar

import states
from workflow.rules import validate
from workflow.clock import paris, stored_utc
from workflow.context import Context
from workflow.rules.deadlines import days_left, deadline
from workflow.records import TeamRow
from workflow.services.checkins import CheckIns, readable_programme
from workflow.store import teams as team_rows

T = TypeVar("T")


def status_rows(ctx: Context, checkins: CheckIns, programme: str | None = None,
                phase: str | None = None) -> Iterator[TeamRow]:
    """The rows of ``status``, made as the cursor yields them (a caller writing them out never holds
    them all), in programme then team name order. Errors (unknown programme or phase, permission)
    come at the first ``next``, before any row."""
    if phase is not None:
        validate.choice(phase, tuple(states.PHASES), "phase")
    store = ctx.store
    today = ctx.clock.today()
    shown: dict[Any, str | None] = {}
    terminal = states.TERMINAL
    drift = ctx.settings.reminders.missed_weeks
    with store.read() as s:
        programme_id = None if programme is None else readable_programme(ctx, s, programme).id
        teams = team_rows.selected(programme_id, phase, ctx.visible_teams(s))
        conn = s.connection()
        # The marks of the few teams that have any, as shown: (last check-in, weeks missing, drifting).
        marks = {tid: (None if last is None else last.isoformat(), missing, missing is not None and missing >= drift)
                 for tid, (last, missing) in checkins.coaching_marks(s, teams).items()}
        coach = team_rows.coaches(store, conn, teams)
        programmes: dict[int, tuple[str, str, int]] = {}  # name, deadline, days left
        for pid, pname, signed_on, months in team_rows.programme_terms(conn):
            due = deadline(signed_on, months)
            programmes[pid] = (pname, due.isoformat(), days_left(due, today))
        partners: dict[int | None, str | None] = team_rows.partner_names(conn)
        partners[None] = None
        unmarked = (None, None, False)
        team_row = maker(TeamRow)
        coach_of, mark_of = coach.get, marks.get
        for tid, name, pid, partner_id, ph, since in team_rows.status(store, conn, teams):
            prog, due, left = programmes[pid]
            since_iso = shown.get(since)
            if since_iso is None:
                since_iso = shown[since] = _iso_stored(since)
            last, missing, drifting = mark_of(tid, unmarked)
            yield team_row(name, prog, partners[partner_id], ph, since_iso, coach_of(tid), due,
                           None if ph in terminal else left, last, missing, drifting)


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
        names = [f.name for f in dataclass_fields(cls)]
        slots = [cls.__dict__.get(n) for n in names]
        if hasattr(cls, "__post_init__") or not all(type(d).__name__ == "member_descriptor" for d in slots):
            make = cls
        else:
            env = {"new": object.__new__, "cls": cls, **{f"set{i}": d.__set__ for i, d in enumerate(slots)}}
            exec("def make(" + ", ".join(names) + "):\n    o = new(cls)\n"  # noqa: S102 - fixed source, own names
                 + "".join(f"    set{i}(o, {n})\n" for i, n in enumerate(names)) + "    return o\n", env)
            make = env["make"]
        _MAKERS[cls] = make
    return make


def _iso_stored(value: str | datetime | None) -> str | None:
    """A stored UTC datetime (SQLite gives its text) as ``teams.iso`` shows it: Paris time, to the second."""
    return None if value is None else paris(stored_utc(value)).isoformat(timespec="seconds")
