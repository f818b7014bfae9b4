"""The reads and writes of signed links: a link's person and generation, the team it is about, the
check-in it would correct, and revoking a person's links. Every form request runs the first ones,
so they are built once: building a statement costs more than running it on SQLite."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.rules import permissions
from workflow.store.models import CheckIn, Partner, Person, PersonGrant, Programme, Team, TeamMember

_GRANT = select(Person.id, Person.email, Person.name, Person.lang, Person.link_generation).where(
    Person.id == sa.bindparam("person"))
_TARGET = (select(Team.name, Team.phase, Programme.name, Partner.name)
           .join(Programme, Programme.id == Team.programme_id)
           .outerjoin(Partner, Partner.id == Team.partner_id).where(Team.id == sa.bindparam("team")))
_COACHES = (select(Person.email).join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_id == sa.bindparam("team"), TeamMember.role == "coach"))
_OWN_CHECKIN = (select(CheckIn.id).where(CheckIn.team_id == sa.bindparam("team"), CheckIn.week == sa.bindparam("week"),
                                         CheckIn.author_id == sa.bindparam("person")).order_by(CheckIn.id.desc()))
# Those the table lets record an opinion in a programme (committee, coordinator), granted in the team's.
_OPINION_ROLES = tuple(r for r, scope in permissions.TABLE["opinion"].items() if scope == permissions.PROGRAMME)
_OPINION_GRANT = (select(PersonGrant.id).join(Team, Team.programme_id == PersonGrant.programme_id)
                  .where(PersonGrant.person_id == sa.bindparam("person"), Team.id == sa.bindparam("team"),
                         PersonGrant.role.in_(_OPINION_ROLES)))
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


def gives_opinions(s: Session, person_id: int, team_id: int) -> bool:
    """Whether the person may record the committee's opinion of the team: a committee member or a
    coordinator of the team's programme."""
    return s.connection().execute(_OPINION_GRANT, {"person": person_id, "team": team_id}).first() is not None


def revoke(s: Session, person_id: int) -> int:
    """Bump the person's link generation (every earlier link and session dies); the new generation."""
    s.execute(_REVOKE, {"person": person_id})
    return s.execute(_GENERATION, {"person": person_id}).scalar_one()
