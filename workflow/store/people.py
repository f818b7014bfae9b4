"""People in the store: who acts (their id and roles), what ties them to a team, the directory's
people; and finding a programme, team, partner or person by the name someone typed (lookups and
completion). The statements every request runs are built once: building one costs more than running
it on SQLite."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import Partner, Person, PersonRole, Programme, Team, TeamMember

# How an actor who gave no ``--as`` is recorded: their login, then this. The chain and the access
# checks find them as the person whose login it is.
SYSTEM = " (system user)"

# No one acts as an erased person (``person erase``): they are not found.
_BY_EMAIL = select(Person.id).where(Person.email == sa.bindparam("who"), Person.erased_at.is_(None))
_BY_LOGIN = select(Person.id).where(Person.login == sa.bindparam("who"), Person.erased_at.is_(None))
_ROLES = select(PersonRole.role).where(PersonRole.person_id == sa.bindparam("person"))
_TIES = select(TeamMember.role).where(TeamMember.team_id == sa.bindparam("team"),
                                      TeamMember.person_id == sa.bindparam("person"))


def login_of(actor: str) -> str | None:
    """The login of a system user's actor name, else None (an e-mail)."""
    return actor[: -len(SYSTEM)] if actor.endswith(SYSTEM) else None


def actor_id(conn: Any, actor: str) -> int | None:
    """The id of the person acting as ``actor`` (an e-mail, or a system user's name: the person whose
    login it is), or None. ``conn``: a Core connection, or the driver's (``Store.direct_write``)."""
    login = login_of(actor)
    if login is not None:
        return conn.execute(_BY_LOGIN, {"who": login}).scalar()
    return conn.execute(_BY_EMAIL, {"who": actor}).scalar()


def roles(conn: Any, person_id: int) -> frozenset[str]:
    """A person's roles."""
    return frozenset(conn.execute(_ROLES, {"person": person_id}).scalars().all())


def ties(conn: Any, team_id: int, person_id: int) -> frozenset[str]:
    """The roles tying a person to a team (coach, intrapreneur, sponsor)."""
    return frozenset(conn.execute(_TIES, {"team": team_id, "person": person_id}).scalars().all())


def team_ids(person_id: int, roles: list[str]) -> Any:
    """A subquery of the ids of the teams a person is a member of in one of ``roles``."""
    return select(TeamMember.team_id).where(TeamMember.person_id == person_id, TeamMember.role.in_(roles))


# ---- by the name someone typed ------------------------------------------------------------------

def person_by_email(s: Session, email: str) -> Person | None:
    """The person with this e-mail (erased or not), or None."""
    return s.exec(select(Person).where(Person.email == email)).first()


def programme_by_name(s: Session, name: str) -> Programme | None:
    return s.exec(select(Programme).where(Programme.name == name)).first()


def team_by_name(s: Session, name: str) -> Team | None:
    return s.exec(select(Team).where(Team.name == name)).first()


def partner_by_name(s: Session, programme_id: int, name: str) -> Partner | None:
    """A programme's partner body named so, or None."""
    return s.exec(select(Partner).where(Partner.programme_id == programme_id, Partner.name == name)).first()


NAME_COLUMNS = {"team": Team.name, "programme": Programme.name, "person": Person.email}


def names(s: Session, kind: str, prefix: str, limit: int, teams: Any = None) -> list[str]:
    """Names of ``kind`` (team, programme, person: e-mails) starting with ``prefix``, in order, at most
    ``limit``: one range query on the unique index (no LIKE, so "%" and "_" are plain characters).
    ``teams``: for teams, a subquery of the ids to keep (None: all)."""
    column = NAME_COLUMNS[kind]
    q = select(column).order_by(column).limit(limit)
    if prefix:
        q = q.where(column >= prefix, column < prefix + "\U0010ffff")
    if teams is not None:
        q = q.where(Team.id.in_(teams))
    return list(s.exec(q))


def has_role(s: Session, person_id: int, role: str) -> bool:
    return s.get(PersonRole, (person_id, role)) is not None


# ---- the directory's people -------------------------------------------------------------------------

def anyone(s: Session) -> bool:
    """Whether the store holds any person."""
    return s.exec(select(Person.id)).first() is not None


def held_teams(s: Session, person_id: int, role: str, phases: tuple[str, ...]) -> list[str]:
    """The names of the teams, in ``phases``, where the person holds ``role``, by name."""
    return list(s.exec(select(Team.name).join(TeamMember, TeamMember.team_id == Team.id)
                       .where(TeamMember.person_id == person_id, TeamMember.role == role, Team.phase.in_(phases))
                       .order_by(Team.name)))


def holding(s: Session, role: str) -> int:
    """How many people hold ``role``."""
    return s.execute(select(sa.func.count()).where(PersonRole.role == role)).scalar_one()


def role_row(s: Session, person_id: int, role: str) -> PersonRole | None:
    return s.get(PersonRole, (person_id, role))


def directory(s: Session, role: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """(name, e-mail, role, channels, language) of everyone (who holds ``role``, when given), one row
    per role held, by name, e-mail and role."""
    q = select(Person.name, Person.email, PersonRole.role).join(PersonRole, PersonRole.person_id == Person.id)
    if role:
        q = q.where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role)))
    return [tuple(r) for r in s.execute(q.add_columns(Person.channels, Person.lang)
                                        .order_by(Person.name, Person.email, PersonRole.role))]


_PERSON = Person.__table__


def insert_people(conn: Any, rows: list[dict[str, Any]], roles: list[list[str]]) -> list[int]:
    """Insert people (each a dict of the person's columns) with their roles (``roles[i]``: the i-th
    person's); return their ids, in order. E-mails are unique: the ids come by lookup, not RETURNING."""
    conn.execute(sa.insert(_PERSON), rows)
    by_email: dict[str, int] = {}
    for i in range(0, len(rows), 1000):
        by_email.update(conn.execute(sa.select(_PERSON.c.email, _PERSON.c.id).where(
            _PERSON.c.email.in_([r["email"] for r in rows[i:i + 1000]]))).all())
    ids = [by_email[r["email"]] for r in rows]
    conn.execute(sa.insert(PersonRole.__table__),
                 [{"person_id": i, "role": role} for i, held in zip(ids, roles) for role in held])
    return ids


def insert_person(s: Session, roles: Any, **columns: Any) -> Person:
    """A new person (their columns) with ``roles``; flushed, so they have their id."""
    person = Person(**columns)
    s.add(person)
    s.flush()
    s.add_all(PersonRole(person_id=person.id, role=r) for r in roles)
    return person


def update_person(s: Session, p: Person, changes: dict[str, Any], add: set[str], remove: set[str]) -> None:
    """Change a person's columns (``changes``), give them the roles ``add`` and take ``remove`` away."""
    for k, v in changes.items():
        setattr(p, k, v)
    for r in add:
        s.add(PersonRole(person_id=p.id, role=r))
    for r in remove:
        s.delete(role_row(s, p.id, r))
    s.add(p)
