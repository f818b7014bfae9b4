"""Teams in the store: the compare-and-swap every change to a team goes through, their members,
phase periods and agreements, an import's batch inserts, what ``advance`` reads and writes (prebuilt
Core statements, run on SQLite by the driver's cursor), and the lookup tables of ``status``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

import states
from workflow.errors import N_, ChangedMeanwhile
from workflow.store.batches import IN_BATCH
from workflow.store import driver
from workflow.store.engine import Store
from workflow.store.models import (Agreement, Assessment, Partner, Person, PhasePeriod, Programme, Team,
                                   TeamMember)


def changed(name: str) -> ChangedMeanwhile:
    """The error of a lost compare-and-swap: nothing was written, retrying is safe."""
    return ChangedMeanwhile(N_("team {team!q} changed meanwhile, retry"), code="changed_meanwhile", team=name)


# Built once: the columns set come from the parameters (``version`` and the caller's values).
_SWAP = sa.update(Team.__table__).where(Team.__table__.c.id == sa.bindparam("swap_id"),
                                        Team.__table__.c.version == sa.bindparam("swap_version"))


def swap_phase(conn: Any, team_id: int, version: int, name: str, **values: Any) -> None:
    """The one compare-and-swap: write ``values`` and the next version only if the team is still at
    ``version``, else ChangedMeanwhile. Every change to a team goes through it, so a concurrent
    transition sees it. Core, not the ORM's bulk update: it is on the path of every ``advance``
    (``conn``: a Core connection or the driver's)."""
    res = conn.execute(_SWAP, {"swap_id": team_id, "swap_version": version, "version": version + 1, **values})
    if res.rowcount != 1:
        raise changed(name)


def bump(s: Session, team: Team, **values: Any) -> None:
    """:func:`swap_phase` for a team the session holds, which then has the new version."""
    swap_phase(s.connection(), team.id, team.version, team.name, **values)
    team.version += 1


def name_taken(s: Session, name: str) -> bool:
    return s.exec(select(Team.id).where(Team.name == name)).first() is not None


# ---- members ----------------------------------------------------------------------------------------

def membership(s: Session, team_id: int, person_id: int, role: str) -> TeamMember | None:
    return s.get(TeamMember, (team_id, person_id, role))


def members(s: Session, team_id: int, role: str) -> list[TeamMember]:
    """A team's members in ``role``."""
    return list(s.exec(select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.role == role)))


def drop_role(s: Session, team_id: int, role: str) -> None:
    """Remove whoever holds ``role`` in the team (its coach or sponsor, before naming another)."""
    s.execute(sa.delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.role == role))


def people_of(s: Session, team_id: int) -> list[tuple[str, str, str, float | None]]:
    """A team's members as (role, name, e-mail, days per week), by name."""
    return [tuple(r) for r in s.execute(
        select(TeamMember.role, Person.name, Person.email, TeamMember.days_per_week)
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.team_id == team_id).order_by(Person.name))]


def periods(s: Session, team_id: int) -> list[PhasePeriod]:
    """A team's phase periods, oldest first."""
    return list(s.exec(select(PhasePeriod).where(PhasePeriod.team_id == team_id)
                       .order_by(PhasePeriod.start, PhasePeriod.id)))


def agreements(s: Session, team_id: int) -> list[str]:
    """The parties that agreed to select the team, in order."""
    return sorted(s.exec(select(Agreement.party).where(Agreement.team_id == team_id)).all())


def agreed(s: Session, team_id: int, party: str) -> bool:
    """Whether ``party`` agreed to select the team already."""
    return s.get(Agreement, (team_id, party)) is not None


def add_agreement(s: Session, team_id: int, party: str, at: datetime, actor: str) -> None:
    s.add(Agreement(team_id=team_id, party=party, at=at, actor=actor))


def assessment(s: Session, team_id: int) -> Assessment | None:
    """The team's assessment against the selection criteria, if made."""
    return s.get(Assessment, team_id)


def assess(s: Session, team_id: int, at: datetime, actor: str, **criteria: Any) -> None:
    """Record the team's assessment (``criteria``: real, major, actionable, note), replacing any earlier."""
    a = s.get(Assessment, team_id) or Assessment(team_id=team_id)
    for column, value in criteria.items():
        setattr(a, column, value)
    a.at, a.actor = at, actor
    s.add(a)


# ---- one team ----------------------------------------------------------------------------------------

def insert_team(s: Session, *, name: str, programme_id: int, partner_id: int, problem: str | None, phase: str,
                now: datetime) -> Team:
    """A new team in ``phase`` since ``now``, with its first phase period; flushed, so it has its id."""
    team = Team(name=name, programme_id=programme_id, partner_id=partner_id, problem=problem, phase=phase,
                phase_since=now, created_at=now)
    s.add(team)
    s.flush()
    s.add(PhasePeriod(team_id=team.id, phase=phase, start=now))
    return team


def update(s: Session, team: Team, **values: Any) -> None:
    """Set columns of a team the session holds (written at the next flush; :func:`bump` moves its version)."""
    for column, value in values.items():
        setattr(team, column, value)
    s.add(team)


def programme_of(s: Session, team: Team) -> Programme:
    return s.get(Programme, team.programme_id)


def partner_of(s: Session, team: Team) -> Partner | None:
    return s.get(Partner, team.partner_id) if team.partner_id else None


def add_member(s: Session, team_id: int, person_id: int, role: str) -> TeamMember:
    m = TeamMember(team_id=team_id, person_id=person_id, role=role)
    s.add(m)
    return m


def remove_member(s: Session, m: TeamMember) -> None:
    s.delete(m)


def replace_role(s: Session, team_id: int, role: str, person_id: int) -> None:
    """Make the person the team's only holder of ``role`` (its coach or sponsor)."""
    drop_role(s, team_id, role)
    s.add(TeamMember(team_id=team_id, person_id=person_id, role=role))


def set_commitment(s: Session, team_id: int, named: list[TeamMember], days: float) -> list[TeamMember]:
    """Set the days per week of the intrapreneurs ``named``, or else of all the team's (the members
    added just now included); return those set, none when the team has no intrapreneur."""
    s.flush()
    targets = named or members(s, team_id, "intrapreneur")
    for m in targets:
        m.days_per_week = days
        s.add(m)
    return targets


def flush(s: Session) -> None:
    """Write what the session holds now, so a broken constraint fails here and the Core statements that
    follow (:func:`bump`, the event) come after these rows."""
    s.flush()


# ---- many at once (an import) -----------------------------------------------------------------------

_TEAM = Team.__table__
_INSERT_TEAM, _INSERT_PERIOD, _INSERT_MEMBER = (sa.insert(_TEAM), sa.insert(PhasePeriod.__table__),
                                                sa.insert(TeamMember.__table__))


def insert_teams(conn: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert teams (each a dict of the team's columns) and return their ids, in order. Names are
    unique: the ids come by one lookup (a plain executemany is faster than RETURNING rows)."""
    driver.insert_many(conn, _INSERT_TEAM, rows)
    names = [r["name"] for r in rows]
    by_name: dict[str, int] = {}
    for chunk in batches_of(names):  # under the parameters a statement may carry
        if conn.dialect.name == "sqlite" and not driver.traced(conn.engine):  # as insert_many: the driver's cursor
            cursor = conn.connection.driver_connection.cursor()
            try:
                by_name.update(cursor.execute(f"SELECT name, id FROM team WHERE name IN ({', '.join('?' * len(chunk))})",
                                              chunk).fetchall())
            finally:
                cursor.close()
        else:
            by_name.update(conn.execute(sa.select(_TEAM.c.name, _TEAM.c.id).where(_TEAM.c.name.in_(chunk))).all())
    return [by_name[n] for n in names]


def batches_of(names: list[str], size: int = IN_BATCH) -> Iterator[list[str]]:
    for i in range(0, len(names), size):
        yield names[i:i + size]


def insert_periods(conn: Any, rows: list[dict[str, Any]]) -> None:
    driver.insert_many(conn, _INSERT_PERIOD, rows)


def insert_members(conn: Any, rows: list[dict[str, Any]]) -> None:
    driver.insert_many(conn, _INSERT_MEMBER, rows)


# ---- the status of many teams (``workflow.services.listing``) ----------------------------------------

# Built once per process (building a statement costs more than running a small one on SQLite).
_PROGRAMMES = sa.select(Programme.id, Programme.name, Programme.signed_on, Programme.months)
_PARTNERS = sa.select(Partner.id, Partner.name)
def programme_terms(conn: Any) -> list[tuple[int, str, date, int]]:
    """Every programme's (id, name, signed on, months)."""
    return conn.execute(_PROGRAMMES).all()


def partner_names(conn: Any) -> dict[int, str]:
    """Every partner body's name by id."""
    return dict(conn.execute(_PARTNERS).all())


# ---- ``advance``: its one read, and its writes ------------------------------------------------------

# The places taken in a programme, counted under the write lock (built once, as every statement below).
_OCCUPIED = select(sa.func.count()).where(Team.programme_id == sa.bindparam("programme_id"),
                                          Team.phase.in_(states.HOLDS_A_PLACE))


# What ``advance`` writes, through Core (no ORM object built and thrown away), each built once.
_LOCK_PROGRAMME = select(Programme.id).where(Programme.id == sa.bindparam("programme_id")).with_for_update()
_PERIOD = PhasePeriod.__table__
_CLOSE_PERIOD = (sa.update(_PERIOD).where(_PERIOD.c.team_id == sa.bindparam("period_team"), _PERIOD.c.end.is_(None))
                 .values(end=sa.bindparam("period_end")))
_OPEN_PERIOD = sa.insert(_PERIOD)


@cache
def _view_query(count_taken: bool) -> sa.Select:
    """The team named ``:name`` and everything its guards read, in one query built once per process."""
    tm = TeamMember

    def members(role: str, *where: Any) -> Any:
        return (select(sa.func.count()).select_from(tm)
                .where(tm.team_id == Team.id, tm.role == role, *where).scalar_subquery())

    others = aliased(Team)
    taken = (select(sa.func.count()).select_from(others)
             .where(others.programme_id == Team.programme_id, others.phase.in_(states.HOLDS_A_PLACE))
             .scalar_subquery())
    return (select(Team.id, Team.name, Team.phase, Team.version, Team.programme_id, Team.partner_id, Team.problem, Team.poc_summary,
                   Team.committee_on, Team.committee_opinion,
                   Programme.name, Programme.kind, Programme.signed_on, Programme.months, Programme.capacity,
                   Programme.min_days_per_week, Partner.name, Assessment.team_id, Assessment.real, Assessment.major,
                   Assessment.actionable, members("intrapreneur"), members("coach"), members("sponsor"),
                   members("intrapreneur", tm.days_per_week.is_(None)),
                   select(sa.func.min(tm.days_per_week)).where(tm.team_id == Team.id, tm.role == "intrapreneur")
                   .scalar_subquery(),
                   select(sa.func.aggregate_strings(Agreement.party, ",")).where(Agreement.team_id == Team.id)
                   .scalar_subquery(),
                   taken if count_taken else sa.bindparam("taken", type_=sa.Integer))
            .select_from(Team).join(Programme, Programme.id == Team.programme_id)
            .outerjoin(Partner, Partner.id == Team.partner_id).outerjoin(Assessment, Assessment.team_id == Team.id)
            .where(Team.name == sa.bindparam("name")))


def guards_view(conn: Any, name: str, occupied: int | None) -> Any:
    """The row of :func:`_view_query` for the team named ``name``, or None: its id, name, phase,
    version, programme, and what its guards read (``occupied``: the places taken in its programme, or
    None to count them in the query). ``conn``: a session's connection or :func:`fast_reader`."""
    return conn.execute(_view_query(occupied is None), {"name": name, "taken": occupied or 0}).first()


def fast_reader(store: Store) -> Any:
    """On SQLite, what runs :func:`guards_view` outside any transaction through the driver's cursor
    (SQLAlchemy's execution path was most of an advance); elsewhere None (the session reads)."""
    return driver.direct_read(store)


def lock_programme(conn: Any, programme_id: int) -> None:
    """Hold the programme's row until commit (PostgreSQL), so moves within it queue and its places
    are counted under the lock."""
    conn.execute(_LOCK_PROGRAMME, {"programme_id": programme_id})


def places_taken(conn: Any, programme_id: int) -> int:
    """The places taken in a programme: its teams in a phase that holds one."""
    return conn.execute(_OCCUPIED, {"programme_id": programme_id}).scalar_one()


def next_period(conn: Any, team_id: int, phase: str, now: datetime) -> None:
    """Close the team's open phase period at ``now`` and open one of ``phase``."""
    conn.execute(_CLOSE_PERIOD, {"period_team": team_id, "period_end": now})
    conn.execute(_OPEN_PERIOD, {"team_id": team_id, "phase": phase, "start": now})
