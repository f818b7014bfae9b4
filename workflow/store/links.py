"""The reads and writes of signed links: a link's person and generation, the team it is about, the
check-in it would correct, and revoking a person's links. Every form request runs the first ones,
so they are built once: building a statement costs more than running it on SQLite."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import CheckIn, Partner, Person, PersonRole, Programme, Team, TeamMember

_GRANT = select(Person.id, Person.email, Person.name, Person.lang, Person.link_generation).where(
    Person.id == sa.bindparam("person"))
_TARGET = (select(Team.name, Team.phase, Programme.name, Partner.name)
           .join(Programme, Programme.id == Team.programme_id)
           .outerjoin(Partner, Partner.id == Team.partner_id).where(Team.id == sa.bindparam("team")))
_COACHES = (select(Person.email).join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_id == sa.bindparam("team"), TeamMember.role == "coach"))
_OWN_CHECKIN = (select(CheckIn.id).where(CheckIn.team_id == sa.bindparam("team"), CheckIn.week == sa.bindparam("week"),
                                         CheckIn.author_id == sa.bindparam("person")).order_by(CheckIn.id.desc()))
_OPINION_ROLE = select(PersonRole.role).where(PersonRole.person_id == sa.bindparam("person"),
                                              PersonRole.role.in_(("committee", "coordinator")))
_REVOKE = (sa.update(Person).where(Person.id == sa.bindparam("person"))
           .values(link_generation=Person.link_generation + 1))
_GENERATION = select(Person.link_generation).where(Person.id == sa.bindparam("person"))


def person(conn: Any, person_id: int) -> Any:
    """The person a link names (id, email, name, lang, link_generation), or None: one Core row."""
    return conn.execute(_GRANT, {"person": person_id}).first()


def target(conn: Any, team_id: int) -> tuple[Any, list[str]] | None:
    """The team a link is about (name, phase, programme, partner) and its coaches' e-mails, or None."""
    row = conn.execute(_TARGET, {"team": team_id}).first()
    if row is None:
        return None
    return row, conn.execute(_COACHES, {"team": team_id}).scalars().all()


def own_checkin(conn: Any, team_id: int, week: str, person_id: int) -> int | None:
    """The id of the last check-in ``person_id`` logged for that team and week, if any."""
    return conn.execute(_OWN_CHECKIN, {"team": team_id, "week": week, "person": person_id}).scalars().first()


def gives_opinions(s: Session, person_id: int) -> bool:
    """Whether the person may record a committee's opinion (a committee member or a coordinator)."""
    return s.connection().execute(_OPINION_ROLE, {"person": person_id}).first() is not None


def revoke(s: Session, person_id: int) -> int:
    """Bump the person's link generation (every earlier link and session dies); the new generation."""
    s.execute(_REVOKE, {"person": person_id})
    return s.execute(_GENERATION, {"person": person_id}).scalar_one()
