"""What the reminder planning reads from the store: a :class:`~workflow.rules.due.Snapshot` in a
handful of set-based queries, and the recipients' rows. The planning itself is pure
(:mod:`workflow.rules.due`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

import states
from workflow.rules.deadlines import deadline
from workflow.rules.due import ProgrammeFacts, Snapshot, TeamFacts
from workflow.store import driver
from workflow.store import notices as notice_rows
from workflow.store.batches import batches
from workflow.store import people as people_rows
from workflow.store.models import (AuditHead, CheckIn, Person, PhasePeriod, Programme, ReminderPlan, Team,
                                   TeamMember)


def snapshot(s: Session, since: datetime, programmes: Any = None) -> Snapshot:
    """Read what reminders depend on: a handful of set-based queries, whatever the number of teams.

    Teams decided before ``since`` are left out: nothing is due about them any more. ``programmes``: a
    subquery of the ids of the programmes to plan for (None: all).
    """
    q = select(Programme.id, Programme.name, Programme.signed_on, Programme.months)
    if programmes is not None:
        q = q.where(Programme.id.in_(programmes))
    progs = {pid: ProgrammeFacts(pid, name, deadline(signed, months)) for pid, name, signed, months in s.execute(q)}
    open_teams = select(Team.id).where(sa.or_(Team.phase.in_(states.NON_TERMINAL), Team.phase_since >= since))
    if programmes is not None:
        open_teams = open_teams.where(Team.programme_id.in_(programmes))
    periods: dict[tuple[int, str], list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for tid, phase, start, end in s.execute(select(PhasePeriod.team_id, PhasePeriod.phase, PhasePeriod.start,
                                                   PhasePeriod.end)
                                            .where(PhasePeriod.team_id.in_(open_teams),
                                                   PhasePeriod.phase.in_(("investigation", "poc_committee")))
                                            .order_by(PhasePeriod.team_id, PhasePeriod.start)):
        periods[(tid, phase)].append((start, end))
    members: dict[tuple[int, str], list[int]] = defaultdict(list)
    for tid, pid, role in s.execute(select(TeamMember.team_id, TeamMember.person_id, TeamMember.role)
                                    .where(TeamMember.team_id.in_(open_teams),
                                           TeamMember.role.in_(("coach", "intrapreneur")))
                                    .order_by(TeamMember.team_id, TeamMember.person_id)):
        members[(tid, role)].append(pid)
    # One row a team, its weeks joined by the database (group_concat / string_agg; a week has no
    # comma): ~12 check-ins a team made 120,000 rows, a third of the snapshot's time.
    held: dict[int, frozenset[str]] = {}
    last: dict[int, date] = {}
    for tid, held_weeks, day in s.execute(
            select(CheckIn.team_id, sa.func.aggregate_strings(CheckIn.week, ","), sa.func.max(CheckIn.on))
            .where(CheckIn.team_id.in_(open_teams), CheckIn.missed == False)  # noqa: E712
            .group_by(CheckIn.team_id)):
        held[tid] = frozenset(held_weeks.split(","))
        last[tid] = day
    teams = []
    for tid, name, pid, phase, phase_since, committee_on, partner_id in s.execute(
            select(Team.id, Team.name, Team.programme_id, Team.phase, Team.phase_since, Team.committee_on,
                   Team.partner_id)
            .where(Team.id.in_(open_teams)).order_by(Team.id)):
        committee = periods.get((tid, "poc_committee"))
        teams.append(TeamFacts(
            tid, name, pid, phase, tuple(periods.get((tid, "investigation"), ())),
            committee[-1][1] if committee else None,
            phase_since if states.PHASES[phase].terminal else None, committee_on,
            tuple(members[(tid, "coach")]), tuple(members[(tid, "intrapreneur")]), held.get(tid, frozenset()),
            last.get(tid), partner_id))
    held_by: dict[str, dict[int, list[int]]] = {"coordinator": defaultdict(list), "committee": defaultdict(list),
                                                "partner": defaultdict(list)}
    for person, role, prog, partner in people_rows.programme_holders(s.connection(), tuple(held_by), programmes):
        held_by[role][partner if role == "partner" else prog].append(person)
    notices = notice_rows.facts(s, since)
    if programmes is not None:
        notices = tuple(n for n in notices if n.programme_id in progs)
    return Snapshot(progs, teams, *({k: tuple(v) for k, v in held_by[r].items()} for r in ("coordinator", "committee")),
                    notices, {k: tuple(v) for k, v in held_by["partner"].items()})


_PEOPLE = (Person.id, Person.name, Person.email, Person.lang, Person.channels, Person.link_generation,
           Person.erased_at)


def people(s: Session, ids: set[int]) -> dict[int, sa.Row]:
    """The recipients, with what a message needs of them (read-only rows with Person's attribute
    names, not ORM objects: a tick reads ~10,000 of them)."""
    return {p.id: p for chunk in batches(ids) for p in s.execute(select(*_PEOPLE).where(Person.id.in_(chunk)))}


def placeholders(s: Session, among: Any = None) -> list[str]:
    """The e-mails at ``localhost`` of the people (among ``among``, a subquery of ids) who hold a role
    or a grant, in order."""
    q = select(Person.email).where(Person.email.like("%@localhost"), Person.erased_at.is_(None),
                                   Person.id.in_(people_rows.holders()))
    if among is not None:
        q = q.where(Person.id.in_(among))
    return list(s.execute(q.order_by(Person.email)).scalars())


# ---- the plan: an idle tick in one row ------------------------------------------------------------

_PLAN, _HEAD = ReminderPlan.__table__, AuditHead.__table__


def head(conn: sa.Connection) -> tuple[int, str]:
    """The audit chain's head (events chained, last hash): it moves with every change reminders depend on."""
    row = conn.execute(sa.select(_HEAD.c.count, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    return (row[0], row[1]) if row is not None else (0, "")


# The idle tick's one statement, built once: on SQLite the driver's cursor runs it (workflow.store.driver).
_PLAN_NOW = (sa.select(_PLAN.c.events, _PLAN.c.head, _PLAN.c.settings, _PLAN.c.computed_at, _HEAD.c.count, _HEAD.c.hash)
             .select_from(_PLAN.outerjoin(_HEAD, _HEAD.c.id == 1)).where(_PLAN.c.name == sa.bindparam("name")))


def plan(store: Any, s: Session, name: str = "all") -> Any:
    """The last full look's row joined with the chain's head now (one statement): (events, head, settings,
    computed_at, events_now, head_now), or None before any. On SQLite it is read outside the session's
    transaction, by the driver's cursor (a daemon asks every tick; SQLAlchemy's path was most of it)."""
    conn = driver.direct_read(store) or s.connection()
    return conn.execute(_PLAN_NOW, {"name": name}).first()


def save_plan(conn: sa.Connection, dialect: str, events: int, head_hash: str, settings: str,
              computed_at: datetime, name: str = "all") -> None:
    """Record a full look (an upsert: two ticks at once on PostgreSQL may both write the first plan)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # loaded only on PostgreSQL, as the outbox's
    else:
        from sqlalchemy.dialects.sqlite import insert
    values = {"events": events, "head": head_hash, "settings": settings, "computed_at": computed_at}
    conn.execute(insert(_PLAN).values(name=name, **values).on_conflict_do_update(index_elements=["name"],
                                                                                  set_=values))
