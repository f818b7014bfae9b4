"""The reads and writes of check-ins: logging and correcting one, listing them, and the weeks each team
held (for the gaps and the status table). A correction is the web form's hot path: its statements are
built once."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import CheckIn, Partner, Person, PhasePeriod, Programme, Team, coach_email

FIELDS = ("on", "notes", "blockers", "next_steps", "hours", "mood", "reason")

_INVESTIGATION = (select(PhasePeriod.start, PhasePeriod.end)
                  .where(PhasePeriod.team_id == sa.bindparam("team"), PhasePeriod.phase == "investigation")
                  .order_by(PhasePeriod.start.desc()))
_TO_EDIT = (select(CheckIn.__table__, Team.name.label("team_name"), Team.phase, Team.version, Team.programme_id, Team.partner_id,
                   Person.email.label("author"))
            .join(Team, Team.id == CheckIn.team_id).join(Person, Person.id == CheckIn.author_id)
            .where(CheckIn.id == sa.bindparam("checkin")))
_EDIT = (sa.update(CheckIn.__table__).where(CheckIn.id == sa.bindparam("checkin"))
         .values({k: sa.bindparam(f"new_{k}") for k in (*FIELDS, "week", "updated_at")}))


# ---- writing ---------------------------------------------------------------------------------


def investigation(conn: Any, team_id: int) -> Any:
    """The start and end of the team's last investigation period (two columns: no ORM object), or None."""
    return conn.execute(_INVESTIGATION, {"team": team_id}).first()


def lock_team(s: Session, team_id: int) -> None:
    """On PostgreSQL, lock the team's row until the transaction ends, so two writers of the same team
    queue (SQLite's writers already do)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Team.id).where(Team.id == team_id).with_for_update())


def logged_in_week(s: Session, team_id: int, author_id: int, week: str) -> bool:
    """Whether ``author_id`` already logged a check-in of that team and ISO week."""
    return s.exec(select(CheckIn.id).where(CheckIn.team_id == team_id, CheckIn.author_id == author_id,
                                           CheckIn.week == week)).first() is not None


def add(s: Session, **fields: Any) -> CheckIn:
    """A new check-in, flushed (it has its id)."""
    c = CheckIn(**fields)
    s.add(c)
    s.flush()
    return c


def to_edit(conn: Any, checkin_id: int) -> Any:
    """A check-in as a correction needs it: its columns, its team's name, phase, version and programme,
    and its author's e-mail (one Core row), or None."""
    return conn.execute(_TO_EDIT, {"checkin": checkin_id}).first()


def update(conn: Any, checkin_id: int, new: dict[str, Any]) -> None:
    """Write a correction: every field of ``FIELDS``, the week and ``updated_at``."""
    conn.execute(_EDIT, {"checkin": checkin_id, **{f"new_{k}": value for k, value in new.items()}})


# ---- reading ---------------------------------------------------------------------------------


def names(s: Session, team_id: int, author_id: int) -> tuple[str, str]:
    """The team's name and the author's e-mail of a check-in."""
    return s.get(Team, team_id).name, s.get(Person, author_id).email


def entries(s: Session, *, team_id: int | None = None, teams: Any = None, author_id: int | None = None,
            week: str | None = None, since: date | None = None) -> Any:
    """(check-in, team name, author e-mail) in order of day, filtered by team (or the ids of ``teams``,
    a subquery), author, ISO week and first day."""
    q = (select(CheckIn, Team.name, Person.email).join(Team, Team.id == CheckIn.team_id)
         .join(Person, Person.id == CheckIn.author_id))
    if team_id is not None:
        q = q.where(CheckIn.team_id == team_id)
    elif teams is not None:
        q = q.where(CheckIn.team_id.in_(teams))
    if author_id is not None:
        q = q.where(CheckIn.author_id == author_id)
    if week is not None:
        q = q.where(CheckIn.week == week)
    if since is not None:
        q = q.where(CheckIn.on >= since)
    return s.execute(q.order_by(CheckIn.on, CheckIn.id))


def held_weeks(conn: Any, teams: Any) -> Any:
    """(team id, missed, its weeks joined by commas, last day) for the teams of ``teams`` (a subquery):
    one row per team and kind, the weeks joined by the database, so few rows and no ORM per row."""
    return conn.execute(
        select(CheckIn.team_id, CheckIn.missed, sa.func.aggregate_strings(CheckIn.week, ","), sa.func.max(CheckIn.on))
        .where(CheckIn.team_id.in_(teams)).group_by(CheckIn.team_id, CheckIn.missed))


def investigating(programme_id: int | None = None, visible: Any = None) -> Any:
    """A subquery of the ids of the teams in investigation (of a programme; among ``visible``)."""
    teams = select(Team.id).where(Team.phase == "investigation")
    if programme_id is not None:
        teams = teams.where(Team.programme_id == programme_id)
    if visible is not None:
        teams = teams.where(Team.id.in_(visible))
    return teams


def gap_rows(conn: Any, teams: Any) -> list[Any]:
    """(id, name, programme, partner, in phase since, coach) of the teams of ``teams`` (a subquery)."""
    q = (select(Team.id, Team.name, Programme.name, Partner.name, Team.phase_since, coach_email())
         .join(Programme, Programme.id == Team.programme_id)
         .outerjoin(Partner, Partner.id == Team.partner_id)
         .where(Team.id.in_(teams)))
    return conn.execute(q).all()


def held(s: Session, team_id: int) -> list[CheckIn]:
    """The team's check-ins that took place (not the missed ones)."""
    return s.exec(select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.missed == False)).all()  # noqa: E712

