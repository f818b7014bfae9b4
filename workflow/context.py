"""The one context every service takes: store, clock, acting person, settings, and the access checks.

A :class:`Context` is frozen: acting as someone else or at another time is a new context
(:meth:`Context.acting_as`, :meth:`Context.at`), never a swap in place. It remembers, for its own
actor only, who they are and their roles (one query per context, not one per call).
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow import audit, permissions, validate
from workflow.clock import Clock
from workflow.db import Store
from workflow.errors import N_, Forbidden, Invalid, Np_, NotFound
from workflow.models import (
    Event,
    Partner,
    Person,
    PersonRole,
    Programme,
    Team,
    TeamMember,
)
from workflow.settings import Settings

SYSTEM = " (system user)"


def default_actor() -> str:
    """The system user name, recorded as such when no ``--as`` is given."""
    try:
        return getpass.getuser() + SYSTEM
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "unknown" + SYSTEM


@dataclass(frozen=True, slots=True)
class Me:
    """The acting person as the store knows them."""

    id: int
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class TeamRef:
    """A team as one Core row gives it (no ORM object): what the access checks, the compare-and-swap
    and the audit need of it."""

    id: int
    name: str
    phase: str
    version: int
    programme_id: int


@dataclass(frozen=True)
class Context:
    """One store, one clock, one acting person, one set of settings."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    actor: str = field(default_factory=default_actor)  # an e-mail (--as), or "<login> (system user)"
    settings: Settings = field(default_factory=Settings.from_env)
    via: str | None = None  # the client a change came through when it is not the CLI ("web"): in each event's data
    # The actor's id and roles, looked up once per context (a role change through this context forgets it).
    _me: list[Me] = field(default_factory=list, repr=False, compare=False)

    def acting_as(self, actor: str) -> Context:
        """The same store, clock and settings, another acting person."""
        return replace(self, actor=actor, _me=[])

    def at(self, clock: Clock) -> Context:
        """The same store, person and settings, another clock."""
        return replace(self, clock=clock, _me=self._me)

    def through(self, via: str) -> Context:
        """The same context, its changes recorded as coming through ``via`` (the web service: "web")."""
        return replace(self, via=via)

    def with_settings(self, settings: Settings) -> Context:
        """The same store, person and clock, other settings."""
        return replace(self, settings=settings, _me=self._me)

    def forget_me(self) -> None:
        """After a change of people or roles: the next check reads the actor again."""
        self._me.clear()

    # ---- who is acting -------------------------------------------------------------------

    def me(self, s: Session) -> Me:
        """The acting person's id and roles; an actor who is not in the store is refused."""
        if self._me:
            return self._me[0]
        if self.actor.endswith(SYSTEM):
            login = self.actor[: -len(SYSTEM)]
            p = _core(s).execute(_ME_BY_LOGIN, {"who": login}).first()
            if p is None:
                raise Forbidden(N_("you are acting as the system user {login!q}, who is not a person in this store; "
                                   "act as a person of the store, by their e-mail"),
                                code="unknown_system_user", login=login)
        else:
            p = _core(s).execute(_ME_BY_EMAIL, {"who": self.actor}).first()
            if p is None:
                raise Forbidden(N_("unknown acting person {actor}; ask a coordinator to add you"),
                                code="unknown_actor", actor=self.actor)
        roles = frozenset(_core(s).execute(_ROLES, {"person": p.id}).scalars().all())
        me = Me(p.id, roles)
        self._me[:] = [me]
        return me

    def ties(self, s: Session, team_id: int) -> frozenset[str]:
        """The roles tying the actor to a team (coach, intrapreneur, sponsor)."""
        me = self.me(s)
        return frozenset(_core(s).execute(_TIES, {"team": team_id, "person": me.id}).scalars().all())

    def require(self, s: Session, action: str, team: Team | TeamRef | None = None) -> None:
        """Refuse, with who is acting and what role is needed, unless the table allows ``action``."""
        roles = self.me(s).roles
        sc = permissions.scope(action, roles)
        if sc == permissions.ANY or (sc == permissions.OWN and team is not None
                                     and permissions.allowed(action, roles, self.ties(s, team.id))):
            return
        # Without a team, only the roles that reach every team would do.
        needed = permissions.roles_allowed(action, every_team=team is None)
        # ``what`` (a catalog msgid) says what the actor may not do; ``action`` stays the table's key.
        params = {"actor": self.actor, "roles": sorted(roles), "action": action, "what": permissions.ACTIONS[action],
                  "mine": ", ".join(sorted(roles))}
        if sc == permissions.OWN and team is not None:
            raise Forbidden(N_("acting as {actor} ({mine}), you may not {what!t} for {team!q}: it is not one of your "
                               "teams"), code="not_your_team", **params, team=team.name)
        # The needed roles read "coordinator", "coordinator or coach", "coordinator, coach or sponsor".
        need = {"needed": needed, "n": len(needed), "last": needed[-1], "others": ", ".join(needed[:-1])}
        if not roles:
            raise Forbidden(Np_("acting as {actor} (no role), you may not {what!t}: it needs the role {last}",
                                "acting as {actor} (no role), you may not {what!t}: it needs the role {others} "
                                "or {last}"),
                            code="role_needed", **params, **need)
        raise Forbidden(Np_("acting as {actor} ({mine}), you may not {what!t}: it needs the role {last}",
                            "acting as {actor} ({mine}), you may not {what!t}: it needs the role {others} or {last}"),
                        code="role_needed", **params, **need)

    def require_reader(self, s: Session) -> None:
        """Refuse an actor who may read no team at all; programmes are shown to anyone who reads one."""
        self.visible_teams(s)

    def visible_teams(self, s: Session) -> Any:
        """None when the actor reads every team, else a subquery of the team ids they may read."""
        me = self.me(s)
        sc = permissions.scope("read", me.roles)
        if sc == permissions.ANY:
            return None
        own = [r for r in me.roles if permissions.TABLE["read"].get(r) == permissions.OWN]
        if sc is None or not own:
            self.require(s, "read")
        return select(TeamMember.team_id).where(TeamMember.person_id == me.id, TeamMember.role.in_(own))

    # ---- the audit trail -----------------------------------------------------------------

    def event(self, s: Session, action: str, team: Team | None = None, *, trigger: str | None = None,
              from_phase: str | None = None, to_phase: str | None = None, reason: str | None = None,
              forced: bool = False, data: dict[str, Any] | None = None,
              sealed: dict[str, list[int]] | None = None) -> Event:
        """Append one event (who, when, what) to the chain, in the caller's transaction (``audit.append``:
        after what the session holds is flushed, so the event's id comes after theirs). ``sealed`` names
        the figure rows the change wrote ({table: [ids]}): the event records their figures (``audit verify``
        holds the tables to them). The Event returned is not in the session: the row is written already."""
        row = self._event_row(action, team.id if team else None, trigger, from_phase, to_phase, reason, forced, data)
        conn = _core(s)
        row["actor_id"] = self._actor_id(conn)
        if sealed:
            row["sealed"] = sealed
        return Event(id=audit.append(conn, [row]), **row)

    def log(self, conn: sa.Connection, action: str, team: Team | TeamRef, *, trigger: str | None = None,
            from_phase: str | None = None, to_phase: str | None = None, reason: str | None = None,
            forced: bool = False, data: dict[str, Any] | None = None,
            sealed: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """:meth:`event` through Core, for ``advance``: no ORM object, prebuilt statements (the head read,
        the INSERT, the head moved on); returns the row."""
        row = self._event_row(action, team.id, trigger, from_phase, to_phase, reason, forced, data)
        row["actor_id"] = self._actor_id(conn)
        if sealed:
            row["sealed"] = sealed
        audit.append(conn, [row])
        return row

    def event_row(self, action: str, team_id: int | None = None, *, to_phase: str | None = None,
                  data: dict[str, Any] | None = None, sealed: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """An event's row, as :meth:`event` would write it, for :meth:`log_rows`."""
        row = self._event_row(action, team_id, None, None, to_phase, None, False, data)
        if sealed:
            row["sealed"] = sealed
        return row

    def log_rows(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Events made by :meth:`event_row`, chained and inserted in one executemany (a batch of changes:
        an import)."""
        if rows:
            actor_id = self._actor_id(conn)
            for row in rows:
                row["actor_id"] = actor_id
            audit.append(conn, rows)

    def _actor_id(self, conn: sa.Connection) -> int | None:
        """The acting person's id, as the chain records who acted (the system user: the person whose
        login it is): :meth:`me`'s when known, else looked up (without the roles)."""
        if self._me:
            return self._me[0].id
        if self.actor.endswith(SYSTEM):
            return conn.execute(_ME_BY_LOGIN, {"who": self.actor[: -len(SYSTEM)]}).scalar()
        return conn.execute(_ME_BY_EMAIL, {"who": self.actor}).scalar()

    def _event_row(self, action: str, team_id: int | None, trigger: str | None, from_phase: str | None,
                   to_phase: str | None, reason: str | None, forced: bool, data: dict[str, Any] | None) -> dict[str, Any]:
        if self.via:
            data = {**(data or {}), "via": self.via}
        return {"at": self.clock.now(), "actor": self.actor, "team_id": team_id, "action": action, "trigger": trigger,
                "from_phase": from_phase, "to_phase": to_phase, "reason": reason, "forced": forced,
                "data": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None}


# Statements every request runs, built once (building one costs more than running it on SQLite).
# No one acts as an erased person (``person erase``): they are not found.
_ME_BY_EMAIL = select(Person.id).where(Person.email == sa.bindparam("who"), Person.erased_at.is_(None))
_ME_BY_LOGIN = select(Person.id).where(Person.login == sa.bindparam("who"), Person.erased_at.is_(None))
_ROLES = select(PersonRole.role).where(PersonRole.person_id == sa.bindparam("person"))
_TIES = select(TeamMember.role).where(TeamMember.team_id == sa.bindparam("team"),
                                      TeamMember.person_id == sa.bindparam("person"))


def _core(s: Session) -> sa.Connection:
    """The session's connection for a Core statement, after the flush an ORM query would have made (a
    person or membership added earlier in the same transaction is seen)."""
    if s.autoflush:
        s.flush()
    return s.connection()


# ---- lookups: one way to find an entity by the name a person typed ------------------------------

# kind: (model, column, message); the error's code is unknown_<kind>, its param <kind> the key looked
# up (the CLI adds where to look: ERROR_HINTS). A person is named by a validated e-mail: not quoted.
_KINDS: dict[str, tuple[type, Any, str]] = {
    "programme": (Programme, Programme.name, N_("unknown programme {programme!q}")),
    "team": (Team, Team.name, N_("unknown team {team!q}")),
    "person": (Person, Person.email, N_("unknown person {person}")),
}


def find(s: Session, kind: str, name: str, *, programme: Programme | None = None) -> Any:
    """The programme, team, person (by e-mail) or partner (of ``programme``) named so, or NotFound."""
    if kind == "partner":
        assert programme is not None
        row = s.exec(select(Partner).where(Partner.programme_id == programme.id,
                                           Partner.name == validate.lookup(name))).first()
        if row is None:
            raise NotFound(N_("unknown partner {partner!q} in programme {programme!q}"), code="unknown_partner",
                           partner=name, programme=programme.name)
        return row
    model, column, message = _KINDS[kind]
    key = validate.email(name, local=True) if kind == "person" else validate.lookup(name)
    row = s.exec(select(model).where(column == key)).first()
    if row is None:
        raise NotFound(message, code=f"unknown_{kind}", **{kind: key})
    return row


def person_with_role(s: Session, email: str, role: str) -> Person:
    """A person who holds ``role`` (to be named coach, sponsor or intrapreneur of a team)."""
    p = find(s, "person", email)
    if s.get(PersonRole, (p.id, role)) is None:
        raise Invalid(N_("{email} does not have the role {role}"), code="missing_role", email=p.email, role=role)
    return p
