"""The reads of the file formats (exports, calendars, reports, intake), of the demo and of ``status``: a
programme's teams as the acting person may see them, and what each document or listing needs of
them, in a few set-based queries whatever the number of teams."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from workflow.store.engine import Store
from workflow.store.models import (CheckIn, Event, Partner, Person, PersonRole, PhasePeriod, Programme, Team,
                                   TeamMember, coach_email)

_CHUNK = 500  # values per IN (...) lookup


def _visible(programme_id: int, only: Collection[int] | None) -> Any:
    """The ids of a programme's teams, of ``only`` when given (the teams the actor may read): a subquery."""
    q = select(Team.id).where(Team.programme_id == programme_id)
    return q if only is None else q.where(Team.id.in_(only))


def teams(s: Session, programme_id: int, only: Collection[int] | None = None, *,
          phase: str | None = None) -> list[Team]:
    """A programme's teams (of ``only``; in ``phase``), by name."""
    q = select(Team).where(Team.programme_id == programme_id)
    if only is not None:
        q = q.where(Team.id.in_(only))
    if phase is not None:
        q = q.where(Team.phase == phase)
    return list(s.exec(q.order_by(Team.name)))


def checkins(s: Session, team_ids: list[int]) -> list[tuple[CheckIn, str]]:
    """The check-ins of the teams ``team_ids`` with their author's e-mail, by day."""
    return [tuple(r) for r in s.execute(select(CheckIn, Person.email).join(Person, Person.id == CheckIn.author_id)
                                        .where(CheckIn.team_id.in_(team_ids)).order_by(CheckIn.on, CheckIn.id))]


def team_events(s: Session, team_ids: list[int]) -> list[Event]:
    """The events of the teams ``team_ids``, in order."""
    return list(s.exec(select(Event).where(Event.team_id.in_(team_ids)).order_by(Event.id)))


def events_without_team(s: Session) -> list[Event]:
    """The events of no team (about programmes, partners, people, money)."""
    return list(s.exec(select(Event).where(Event.team_id.is_(None))))


def partners(s: Session, programme_id: int) -> list[Partner]:
    """A programme's partners."""
    return list(s.exec(select(Partner).where(Partner.programme_id == programme_id)))


def coaches(s: Session, team_ids: list[int]) -> dict[int, list[str]]:
    """Each team's coaches, as "name <e-mail>", by name."""
    out: dict[int, list[str]] = {}
    for tid, name, email in s.execute(select(TeamMember.team_id, Person.name, Person.email)
                                      .join(Person, Person.id == TeamMember.person_id)
                                      .where(TeamMember.team_id.in_(team_ids), TeamMember.role == "coach")
                                      .order_by(Person.name)):
        out.setdefault(tid, []).append(f"{name} <{email}>")
    return out


def investigations(s: Session, team_ids: list[int]) -> dict[int, tuple[datetime, datetime | None]]:
    """Each team's (last) investigation period."""
    out: dict[int, tuple[datetime, datetime | None]] = {}
    for tid, start, end in s.execute(select(PhasePeriod.team_id, PhasePeriod.start, PhasePeriod.end)
                                     .where(PhasePeriod.team_id.in_(team_ids), PhasePeriod.phase == "investigation")
                                     .order_by(PhasePeriod.team_id, PhasePeriod.start)):
        out[tid] = (start, end)
    return out


# ---- reports ------------------------------------------------------------------------------------

def recent_checkins(s: Session, team_ids: Iterable[int], limit: int) -> list[tuple[Any, ...]]:
    """(team id, day, week, blockers, next steps, missed, reason) of the last ``limit`` check-ins of each
    team, newest first: one windowed query."""
    rank = sa.func.row_number().over(partition_by=CheckIn.team_id,
                                     order_by=(CheckIn.on.desc(), CheckIn.id.desc())).label("rank")
    inner = (select(CheckIn.team_id, CheckIn.on, CheckIn.week, CheckIn.blockers, CheckIn.next_steps,
                    CheckIn.missed, CheckIn.reason, rank)
             .where(CheckIn.team_id.in_(list(team_ids))).subquery())
    rows = s.connection().execute(select(inner).where(inner.c.rank <= limit).order_by(inner.c.team_id, inner.c.rank))
    out = []
    for tid, on, week, blockers, next_steps, missed, reason, _rank in rows:
        out.append((tid, on if isinstance(on, date) else date.fromisoformat(on), week, blockers, next_steps,
                    bool(missed), reason))
    return out


def programme_figures(s: Session, store: Store, programme_id: int, only: Collection[int] | None
                      ) -> tuple[list[Any], list[Any], dict[int, set[str]]]:
    """What the programme report counts, of the teams the actor may read: (id, name, phase, coach's
    e-mail) of each team by name; (team id, phase, start, end) of each phase period, as stored; and
    the weeks each team held a check-in in."""
    scope = _visible(programme_id, only)
    conn = s.connection()
    rows = conn.execute(select(Team.id, Team.name, Team.phase, coach_email())
                        .where(Team.id.in_(scope)).order_by(Team.name)).all()
    periods = conn.execute(select(PhasePeriod.team_id, PhasePeriod.phase, store.as_stored(PhasePeriod.start),
                                  store.as_stored(PhasePeriod.end))
                           .where(PhasePeriod.team_id.in_(scope))
                           .order_by(PhasePeriod.team_id, PhasePeriod.start, PhasePeriod.id)).all()
    held: dict[int, set[str]] = {}
    for tid, week in conn.execute(select(CheckIn.team_id, CheckIn.week).distinct()
                                  .where(CheckIn.team_id.in_(scope), CheckIn.missed == sa.false())):
        held.setdefault(tid, set()).add(week)
    return rows, periods, held


# ---- intake -------------------------------------------------------------------------------------

def _chunked(s: Session, q: Any, column: Any, values: set[Any]) -> list[tuple[Any, Any]]:
    """Rows of ``q`` whose ``column`` is one of ``values``, a chunk of IN (...) at a time."""
    out: list[tuple[Any, Any]] = []
    ordered = sorted(values)
    for i in range(0, len(ordered), _CHUNK):
        out += [tuple(r) for r in s.execute(q.where(column.in_(ordered[i:i + _CHUNK])))]
    return out


def programme_of_teams(s: Session, names: set[str]) -> dict[str, str]:
    """{team name: its programme's name} of the teams named ``names`` that exist."""
    return dict(_chunked(s, select(Team.name, Programme.name).join(Programme, Programme.id == Team.programme_id),
                         Team.name, names))


def programme_names(s: Session, ids: Any) -> set[str]:
    """The names of the programmes ``ids`` (a subquery or a list of ids)."""
    return set(s.execute(select(Programme.name).where(Programme.id.in_(ids))).scalars())


def people_ids(s: Session, emails: set[str]) -> dict[str, int]:
    """{e-mail: id} of the people with these e-mails."""
    return dict(_chunked(s, select(Person.email, Person.id), Person.email, emails))


def roles_of(s: Session, person_ids: set[int]) -> list[tuple[int, str]]:
    """(person id, role) of every role of these people."""
    return _chunked(s, select(PersonRole.person_id, PersonRole.role), PersonRole.person_id, person_ids)


# ---- the demo -----------------------------------------------------------------------------------

def programme_exists(s: Session, name: str) -> bool:
    return s.exec(select(Programme.id).where(Programme.name == name)).first() is not None


def person_exists(s: Session, email: str) -> bool:
    return s.exec(select(Person.id).where(Person.email == email)).first() is not None


# ---- the status of many teams (``workflow.services.listing``) ----------------------------------------

def status_scope(programme_id: int | None = None, phase: str | None = None, visible: Any = None) -> list[Any]:
    """The conditions, on a query's own ``team`` row, that keep the teams of a programme, in a phase, and
    among ``visible`` (``Context.visible_teams``: a subquery of team ids), each when given.

    ``visible`` selecting ``team.id`` from ``team`` alone comes as its own conditions rather than as
    ``team.id IN (subquery)``: the same teams, but SQLite would first build the list of every visible
    id, once per query (~100 ms at 100,000 teams). "Alone": the subquery and ``SELECT team.id FROM team
    WHERE`` its conditions have one cache key (SQLAlchemy's structural identity: no LIMIT, DISTINCT,
    join, ... of its own; no compilation, which cost ~40 ms the first time in a process)."""
    where: list[Any] = []
    if programme_id is not None:
        where.append(Team.programme_id == programme_id)
    if phase is not None:
        where.append(Team.phase == phase)
    if visible is not None:
        own = visible.whereclause
        if own is not None and _cache_key(select(Team.id).where(own)) == _cache_key(visible):
            where.append(own)
        else:
            where.append(Team.id.in_(visible))
    return where


def _cache_key(q: Any) -> Any:
    """SQLAlchemy's key of a statement's structure (what its compiled-SQL cache goes by)."""
    return q._generate_cache_key()  # noqa: SLF001 - SQLAlchemy's own, stable since 1.4


def status(store: Store, conn: Any, scope: list[Any]) -> Iterator[tuple[Any, ...]]:
    """(id, name, programme id, partner id, phase, phase since as the driver gives it, coach's e-mail) of
    the teams of ``scope`` (:func:`status_scope`), streamed in programme name then team name order, in
    one query; the names of programmes and partners are left to the caller (a few, read once).

    The coach is a plain outer join (the first by e-mail when several: the rows of one team are
    ordered by it, the others dropped here): a primary-key lookup per team on SQLite, a hash join on
    PostgreSQL, each faster than a correlated subquery per team (a quarter of the query on SQLite, a
    half on PostgreSQL, whose planner also compiles that one), and than grouping every membership
    for a reader of a few teams. Its tables are aliased: the reader's scope has subqueries of its own
    over the memberships, which must not be correlated to these."""
    member, coach = aliased(TeamMember), aliased(Person)
    q = (select(Team.id, Team.name, Team.programme_id, Team.partner_id, Team.phase,
                _unprocessed(store, Team.phase_since), coach.email)
         .join(Programme, Programme.id == Team.programme_id)
         .outerjoin(member, sa.and_(member.team_id == Team.id, member.role == "coach"))
         .outerjoin(coach, coach.id == member.person_id)
         .where(*scope).order_by(Programme.name, Team.name, coach.email))
    return _first_of_each(store.stored_rows(conn, q) if store.dialect == "sqlite" else _fetched(conn, q))


def _fetched(conn: Any, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` on PostgreSQL, as psycopg's client-side cursor makes them: one round trip,
    the result held by libpq and each row made in Python as it is read. ``Store.stored_rows``' server-side
    cursor (DECLARE, a FETCH per 2,000 rows, a plan chosen for the first rows) and SQLAlchemy's row per
    row were a third of ``status`` at 10,000 teams. For columns that need no result processing (ids,
    text, :func:`_unprocessed` datetimes)."""
    result = conn.execute(query)
    try:
        yield from result.cursor
    finally:
        result.close()


def _first_of_each(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The first of the consecutive rows of each team (its id first)."""
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            yield row


def _unprocessed(store: Store, column: Any) -> Any:
    """A datetime ``column`` as the driver gives it, for reads of many rows whose caller converts each
    distinct value once (``clock.stored_utc``): on SQLite its text (``Store.as_stored``), on PostgreSQL
    psycopg's aware datetime, without SQLAlchemy's conversion of each to UTC."""
    return store.as_stored(column) if store.dialect == "sqlite" else sa.type_coerce(column, sa.DateTime(timezone=True))


def held_checkins(conn: Any, scope: list[Any]) -> Any:
    """(team id, the weeks it held a check-in in joined by commas, its last check-in's day) of the teams
    of ``scope`` (:func:`status_scope`) that held any: the check-ins joined to their teams, with no list
    of the scope's team ids built first (``IN (subquery)``: 160 ms at 100,000 teams, check-ins or not)."""
    return conn.execute(select(CheckIn.team_id, sa.func.aggregate_strings(CheckIn.week, ","), sa.func.max(CheckIn.on))
                        .join(Team, Team.id == CheckIn.team_id)
                        .where(CheckIn.missed == sa.false(), *scope).group_by(CheckIn.team_id))
