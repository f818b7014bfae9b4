"""People in the store: who acts (their id and roles), what ties them to a team, the directory's
people; and finding a programme, team, partner or person by the name someone typed (lookups and
completion). The statements every request runs are built once: building one costs more than running
it on SQLite."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.rules.permissions import Grant, Reach
from workflow.store.models import Partner, Person, PersonGrant, PersonRole, Programme, Team, TeamMember

# How an actor who gave no ``--as`` is recorded: their login, then this. The chain and the access
# checks find them as the person whose login it is.
SYSTEM = " (system user)"

# No one acts as an erased person (``person erase``): they are not found.
_BY_EMAIL = select(Person.id).where(Person.email == sa.bindparam("who"), Person.erased_at.is_(None))
_BY_LOGIN = select(Person.id).where(Person.login == sa.bindparam("who"), Person.erased_at.is_(None))
_ROLES = select(PersonRole.role).where(PersonRole.person_id == sa.bindparam("person"))
# Everything a person holds, in one statement: their team roles (no place) and their grants.
_GRANTS = sa.union_all(
    select(PersonRole.role, sa.null().label("programme_id"), sa.null().label("partner_id"))
    .where(PersonRole.person_id == sa.bindparam("person")),
    select(PersonGrant.role, PersonGrant.programme_id, PersonGrant.partner_id)
    .where(PersonGrant.person_id == sa.bindparam("person")))
_GRANT = PersonGrant.__table__
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


def grants(conn: Any, person_id: int) -> frozenset[Grant]:
    """Everything a person holds: their team roles (no place: their memberships say which teams) and
    their grants in the instance, programmes and partner bodies."""
    return frozenset(Grant(*row) for row in conn.execute(_GRANTS, {"person": person_id}))


def roles(conn: Any, person_id: int) -> frozenset[str]:
    """A person's roles, wherever held."""
    return frozenset(g.role for g in grants(conn, person_id))


def team_filter(reach: Reach, person_id: int) -> Any:
    """None when ``reach`` covers every team, else a subquery of the ids of the teams it covers."""
    if reach.everything:
        return None
    ors = []
    if reach.programmes:
        ors.append(Team.programme_id.in_(sorted(reach.programmes)))
    if reach.partners:
        ors.append(Team.partner_id.in_(sorted(reach.partners)))
    if reach.team_roles:
        ors.append(Team.id.in_(team_ids(person_id, sorted(reach.team_roles))))
    return select(Team.id).where(sa.or_(*ors) if ors else sa.false())


def programme_filter(reach: Reach, person_id: int) -> Any:
    """None when ``reach`` covers every programme, else a subquery of the ids of the programmes where
    it covers something: its programmes, its partner bodies', its teams'."""
    if reach.everything:
        return None
    parts = [select(Programme.id).where(Programme.id.in_(sorted(reach.programmes)))]
    if reach.partners:
        parts.append(select(Partner.programme_id).where(Partner.id.in_(sorted(reach.partners))))
    if reach.team_roles:
        parts.append(select(Team.programme_id).where(Team.id.in_(team_ids(person_id, sorted(reach.team_roles)))))
    return sa.union(*parts) if len(parts) > 1 else parts[0]


def programmes_of(s: Session, person_id: int) -> set[int]:
    """The programmes a person appears in: granted a role there, or member of one of its teams."""
    granted = select(PersonGrant.programme_id).where(PersonGrant.person_id == person_id,
                                                     PersonGrant.programme_id.is_not(None))
    member = select(Team.programme_id).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.person_id == person_id)
    return set(s.execute(sa.union(granted, member)).scalars())


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
NAME_IDS = {"team": Team.id, "programme": Programme.id, "person": Person.id}


def names(s: Session, kind: str, prefix: str, limit: int, among: Any = None) -> list[str]:
    """Names of ``kind`` (team, programme, person: e-mails) starting with ``prefix``, in order, at most
    ``limit``: one range query on the unique index (no LIKE, so "%" and "_" are plain characters).
    ``among``: a subquery of the ids to keep (None: all)."""
    column = NAME_COLUMNS[kind]
    q = select(column).order_by(column).limit(limit)
    if prefix:
        q = q.where(column >= prefix, column < prefix + "\U0010ffff")
    if among is not None:
        q = q.where(NAME_IDS[kind].in_(among))
    return list(s.exec(q))


def has_role(s: Session, person_id: int, role: str) -> bool:
    return s.get(PersonRole, (person_id, role)) is not None


# ---- grants -------------------------------------------------------------------------------------------

def _grant_where(person_id: int, g: Grant) -> Any:
    c = _GRANT.c
    return sa.and_(c.person_id == person_id, c.role == g.role,
                   c.programme_id.is_(None) if g.programme_id is None else c.programme_id == g.programme_id,
                   c.partner_id.is_(None) if g.partner_id is None else c.partner_id == g.partner_id)


def grant_held(s: Session, person_id: int, g: Grant) -> bool:
    return s.execute(select(_GRANT.c.id).where(_grant_where(person_id, g))).first() is not None


def insert_grant(s: Session, person_id: int, g: Grant) -> None:
    s.execute(sa.insert(_GRANT).values(person_id=person_id, role=g.role, programme_id=g.programme_id,
                                       partner_id=g.partner_id))


def delete_grants(s: Session, person_id: int, role: str, programme_id: int | None) -> int:
    """Take away ``role`` in ``programme_id`` (None: the instance), for every partner body; how many went."""
    c = _GRANT.c
    where = c.programme_id.is_(None) if programme_id is None else c.programme_id == programme_id
    return s.execute(sa.delete(_GRANT).where(c.person_id == person_id, c.role == role, where)).rowcount


def grant_holders(s: Session, role: str, programme_id: int | None = None) -> int:
    """How many people hold ``role`` (in ``programme_id``, when given)."""
    c = _GRANT.c
    q = select(sa.func.count(sa.distinct(c.person_id))).where(c.role == role)
    if programme_id is not None:
        q = q.where(c.programme_id == programme_id)
    return s.execute(q).scalar_one()


def grants_shown(s: Session, person_ids: list[int], programmes: Any = None) -> list[tuple[int, str, str | None, str | None]]:
    """(person id, role, programme name, partner name) of the people's grants (in ``programmes``, a
    subquery of ids, when given: with the instance's), by role and names."""
    q = (select(_GRANT.c.person_id, _GRANT.c.role, Programme.name, Partner.name)
         .select_from(_GRANT).outerjoin(Programme, Programme.id == _GRANT.c.programme_id)
         .outerjoin(Partner, Partner.id == _GRANT.c.partner_id)
         .where(_GRANT.c.person_id.in_(person_ids)))
    if programmes is not None:
        q = q.where(sa.or_(_GRANT.c.programme_id.is_(None), _GRANT.c.programme_id.in_(programmes)))
    return [tuple(r) for r in s.execute(q.order_by(_GRANT.c.person_id, _GRANT.c.role, Programme.name, Partner.name))]


def programme_holders(conn: Any, roles: tuple[str, ...], programme_ids: Any = None) -> list[tuple[int, str, int, int | None]]:
    """(person id, role, programme id, partner id) of every grant of ``roles`` (in ``programme_ids``,
    a subquery or None for all), by person: who a programme's messages go to."""
    c = _GRANT.c
    q = select(c.person_id, c.role, c.programme_id, c.partner_id).where(c.role.in_(roles),
                                                                          c.programme_id.is_not(None))
    if programme_ids is not None:
        q = q.where(c.programme_id.in_(programme_ids))
    return [tuple(r) for r in conn.execute(q.order_by(c.person_id))]


def grants_from_roles(conn: Any) -> list[int]:
    """The people whose global roles of before grants (schema 0008 and older) become grants: every
    coordinator, coordinator of every programme; the first coordinator, administrator too; every
    committee member, member of every programme's committee. Nothing widened, nothing lost. Returns
    the people changed (their roles' figure to seal)."""
    role = PersonRole.__table__
    held = conn.execute(sa.select(role.c.person_id, role.c.role).where(role.c.role.in_(("coordinator", "committee")))
                        .order_by(role.c.person_id)).all()
    programmes = list(conn.execute(sa.select(Programme.__table__.c.id).order_by(Programme.__table__.c.id)).scalars())
    rows = [{"person_id": pid, "role": r, "programme_id": prog, "partner_id": None}
            for pid, r in held for prog in programmes]
    coordinators = [pid for pid, r in held if r == "coordinator"]
    # The first coordinator administers the instance; with no programme yet, every coordinator does (a
    # coordinator could add programmes: granted in none, they would be left with nothing).
    for pid in (coordinators if not programmes else coordinators[:1]):
        rows.append({"person_id": pid, "role": "admin", "programme_id": None, "partner_id": None})
    if rows:
        conn.execute(sa.insert(_GRANT), rows)
    conn.execute(sa.delete(role).where(role.c.role.in_(("coordinator", "committee"))))
    return sorted({pid for pid, _r in held})


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


def directory(s: Session, role: str | None = None, among: Any = None) -> list[Any]:
    """The people (id, name, email, channels, lang; ``among``: a subquery of their ids, None: everyone)
    holding ``role`` when given (a team role or a grant), by name and e-mail."""
    q = select(Person.id, Person.name, Person.email, Person.channels, Person.lang)
    if role:
        q = q.where(Person.id.in_(sa.union(select(PersonRole.person_id).where(PersonRole.role == role),
                                           select(PersonGrant.person_id).where(PersonGrant.role == role))))
    else:  # not an erased person (one left without a role is still listed: they were someone)
        q = q.where(Person.erased_at.is_(None))
    if among is not None:
        q = q.where(Person.id.in_(among))
    return list(s.execute(q.order_by(Person.name, Person.email)))


def person(s: Session, person_id: int) -> Person:
    return s.get(Person, person_id)


def team_roles(s: Session, person_ids: list[int]) -> list[tuple[int, str]]:
    """(person id, team role) of the people, by role."""
    return [tuple(r) for r in s.execute(select(PersonRole.person_id, PersonRole.role)
                                        .where(PersonRole.person_id.in_(person_ids)).order_by(PersonRole.role))]


def team_roles_of(s: Session, person_id: int) -> frozenset[str]:
    return frozenset(s.execute(_ROLES, {"person": person_id}).scalars())


def partner_name(s: Session, partner_id: int | None) -> str | None:
    return None if partner_id is None else s.execute(select(Partner.name).where(Partner.id == partner_id)).scalar()


def among_people(s: Session, person_id: int, ids: Any) -> bool:
    return s.execute(select(Person.id).where(Person.id == person_id, Person.id.in_(ids))).first() is not None


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


def programme_of(s: Session, programme_id: int) -> Programme:
    return s.get(Programme, programme_id)


def people_filter(teams: Any, programmes: list[int], me: int) -> Any:
    """A subquery of the ids of the people one sees who sees the teams ``teams`` (a subquery) and the
    programmes ``programmes`` as a whole: members of those teams, those granted a role in those
    programmes, and oneself (``me``)."""
    return sa.union(select(TeamMember.person_id).where(TeamMember.team_id.in_(teams)),
                    select(PersonGrant.person_id).where(PersonGrant.programme_id.in_(programmes)),
                    select(Person.id).where(Person.id == me))


def or_unplaced(among: Any) -> Any:
    """``among`` (a subquery of person ids) and the people in no programme yet: granted a role in none
    and member of no team (a coach just added, before any team names them; an administrator)."""
    placed = sa.union(select(PersonGrant.person_id).where(PersonGrant.programme_id.is_not(None)),
                      select(TeamMember.person_id))
    return select(Person.id).where(sa.or_(Person.id.in_(among), Person.id.not_in(placed)))


def holders() -> Any:
    """A subquery of the ids of the people who hold a team role or a grant."""
    return sa.union(select(PersonRole.person_id), select(PersonGrant.person_id))
