"""The one context every service takes: store, clock, acting person, settings, and the access checks.

A :class:`Context` is frozen: acting as someone else or at another time is a new context
(:meth:`Context.acting_as`, :meth:`Context.at`), never a swap in place. It remembers, for its own
actor only, who they are and their roles (one query per context, not one per call); a context made
from it reads them afresh. It runs no query itself: the statements are the store's
(``workflow.store.people`` for who acts and the lookups, ``workflow.store.events`` for the chain).
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field, replace
from typing import Any

from workflow.clock import Clock
from workflow.errors import N_, Forbidden, Invalid, Np_, NotFound
from workflow.rules import permissions, validate
from workflow.settings import Settings
from workflow.store import events, people
from workflow.store.engine import Connection, Session, Store, flushed
from workflow.store.events import ROLES_FIGURE
from workflow.store.models import Event, Partner, Person, Programme, Team
from workflow.store.people import SYSTEM


def default_actor() -> str:
    """The system user name, recorded as such when no ``--as`` is given."""
    try:
        return getpass.getuser() + SYSTEM
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "unknown" + SYSTEM


@dataclass(frozen=True, slots=True)
class Me:
    """The acting person as the store knows them: their id and everything they hold."""

    id: int
    grants: frozenset[permissions.Grant]

    @property
    def roles(self) -> frozenset[str]:
        """Their roles, wherever held."""
        return frozenset(g.role for g in self.grants)

    def reach(self, action: str) -> permissions.Reach:
        return permissions.reach(action, self.grants)


@dataclass(frozen=True, slots=True)
class TeamRef:
    """A team as one Core row gives it (no ORM object): what the access checks, the compare-and-swap
    and the audit need of it."""

    id: int
    name: str
    phase: str
    version: int
    programme_id: int
    partner_id: int | None


class _Known:
    """The actor as one context last read them: its own, never handed to a context derived from it."""

    __slots__ = ("me",)

    def __init__(self) -> None:
        self.me: Me | None = None


@dataclass(frozen=True)
class Context:
    """One store, one clock, one acting person, one set of settings."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    actor: str = field(default_factory=default_actor)  # an e-mail (--as), or "<login> (system user)"
    settings: Settings = field(default_factory=Settings.from_env)
    via: str | None = None  # the client a change came through when it is not the CLI ("web"): in each event's data
    # The actor's id and roles, read once per context rather than once per check; a new context
    # (``replace``) starts without them, and a change of the actor's roles recorded through this
    # context drops them (:meth:`_recorded`).
    _known: _Known = field(default_factory=_Known, init=False, repr=False, compare=False)

    def acting_as(self, actor: str) -> Context:
        """The same store, clock and settings, another acting person."""
        return replace(self, actor=actor)

    def at(self, clock: Clock) -> Context:
        """The same store, person and settings, another clock."""
        return replace(self, clock=clock)

    def through(self, via: str) -> Context:
        """The same context, its changes recorded as coming through ``via`` (the web service: "web")."""
        return replace(self, via=via)

    def with_settings(self, settings: Settings) -> Context:
        """The same store, person and clock, other settings."""
        return replace(self, settings=settings)

    # ---- who is acting -------------------------------------------------------------------

    def me(self, s: Session) -> Me:
        """The acting person's id and roles; an actor who is not in the store is refused."""
        me = self._known.me
        if me is not None:
            return me
        conn = flushed(s)
        pid = people.actor_id(conn, self.actor)
        if pid is None:
            login = people.login_of(self.actor)
            if login is not None:
                raise Forbidden(N_("you are acting as the system user {login!q}, who is not a person in this store; "
                                   "act as a person of the store, by their e-mail"),
                                code="unknown_system_user", login=login)
            raise Forbidden(N_("unknown acting person {actor}; ask a coordinator to add you"),
                            code="unknown_actor", actor=self.actor)
        me = self._known.me = Me(pid, people.grants(conn, pid))
        return me

    def ties(self, s: Session, team_id: int) -> frozenset[str]:
        """The roles tying the actor to a team (coach, intrapreneur, sponsor)."""
        me = self.me(s)
        return people.ties(flushed(s), team_id, me.id)

    def reach(self, s: Session, action: str) -> permissions.Reach:
        """How far the actor reaches for ``action``."""
        return self.me(s).reach(action)

    def require(self, s: Session, action: str, team: Team | TeamRef | None = None, *,
                programme: Programme | None = None, partner: Partner | None = None) -> permissions.Reach:
        """Refuse, with who is acting and the grant that is missing, unless the table allows ``action``
        on ``team``, on ``partner`` (a partner body: its teams and funding), in ``programme``, or (none of
        them) somewhere at all: the caller then reads through :meth:`visible_teams` or
        :meth:`visible_programmes`. Returns the actor's reach for ``action``."""
        me = self.me(s)
        reach = me.reach(action)
        if team is not None:
            ok = reach.covers(team.programme_id, getattr(team, "partner_id", None),
                              self.ties(s, team.id) if reach.team_roles else ())
        elif partner is not None:
            ok = reach.covers(partner.programme_id, partner.id)
        elif programme is not None:
            ok = reach.covers(programme.id)
        else:
            ok = reach.anything
        if ok:
            return reach
        roles = me.roles
        needed = permissions.roles_allowed(action)
        # ``what`` (a catalog msgid) says what the actor may not do; ``action`` stays the table's key.
        params = {"actor": self.actor, "roles": sorted(roles), "action": action, "what": permissions.ACTIONS[action],
                  "mine": ", ".join(sorted(roles))}
        if team is not None and reach.anything:
            # Reaching only some teams here (their own; a partner body's): this one is not theirs.
            partial = reach.team_roles and not reach.programmes and not reach.partners and not reach.everything
            if partial or any(g.partner_id in reach.partners and g.programme_id == team.programme_id
                              for g in me.grants):
                raise Forbidden(N_("acting as {actor} ({mine}), you may not {what!t} for {team!q}: it is not one of "
                                   "your teams"), code="not_your_team", **params, team=team.name)
        where = programme
        if where is None and (team is not None or partner is not None):
            where = people.programme_of(s, (team or partner).programme_id)
        # Inside a programme, the refusal names what to be granted there (a team role: on the team).
        if where is not None and roles:
            # The grants of a programme (a team role is held on a team, not granted in a programme).
            scopes = permissions.TABLE[action]
            here = [r for r in needed if scopes[r] in (permissions.PROGRAMME, permissions.PARTNER)] or needed
            raise Forbidden(Np_("acting as {actor} ({mine}), you may not {what!t} in {programme!q}: it needs the grant "
                                "{last} of {programme!q}",
                                "acting as {actor} ({mine}), you may not {what!t} in {programme!q}: it needs the grant "
                                "{others} or {last} of {programme!q}"),
                            code="grant_needed", **params, programme=where.name, grant=here, n=len(here),
                            last=here[-1], others=", ".join(here[:-1]),
                            **({"team": team.name} if team is not None else {}))
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

    def require_person(self, s: Session, action: str, person_id: int) -> permissions.Reach:
        """Refuse ``action`` on a person (their data, their links, their record) unless the actor reaches
        every programme they appear in, a person in none being anyone's who may ``action`` somewhere;
        refused, it names the first programme missing and its grant."""
        reach = self.require(s, action)
        if not reach.everything:
            for prog in sorted(people.programmes_of(s, person_id) - reach.programmes):
                self.require(s, action, programme=people.programme_of(s, prog))
        return reach

    def require_reader(self, s: Session) -> None:
        """Refuse an actor who holds no role at all (one who holds any is shown what they may read)."""
        self._reach_to_list(s, "read")

    def _reach_to_list(self, s: Session, action: str) -> permissions.Reach:
        """The reach a listing for ``action`` filters with. Reading, a person who holds any role is shown
        what they may read, if nothing (an administrator before their first programme); the other
        actions are refused to those who reach nothing."""
        reach = self.reach(s, action)
        if not reach.anything and not (action == "read" and self.me(s).grants):
            self.require(s, action)
        return reach

    def visible_teams(self, s: Session, action: str = "read") -> Any:
        """None when the actor reaches every team for ``action``, else a subquery of the ids of the teams
        they reach (see :meth:`_reach_to_list` for who is refused)."""
        return people.team_filter(self._reach_to_list(s, action), self.me(s).id)

    def visible_programmes(self, s: Session, action: str = "read") -> Any:
        """None when the actor reaches every programme for ``action``, else a subquery of the ids of
        the programmes where they reach something (see :meth:`_reach_to_list` for who is refused)."""
        return people.programme_filter(self._reach_to_list(s, action), self.me(s).id)

    def visible_people(self, s: Session) -> Any:
        """A subquery of the ids of the people the actor sees: the members of the teams they read, those
        granted a role in the programmes they read as a whole, and themselves."""
        reach = self.reach(s, "read")
        me = self.me(s)
        teams = people.team_filter(reach, me.id)
        if teams is None:
            return None
        return people.people_filter(teams, sorted(reach.programmes), me.id)

    # ---- the audit trail -----------------------------------------------------------------

    def event(self, s: Session, action: str, team: Team | None = None, *, trigger: str | None = None,
              from_phase: str | None = None, to_phase: str | None = None, reason: str | None = None,
              forced: bool = False, data: dict[str, Any] | None = None,
              sealed: dict[str, list[int]] | None = None) -> Event:
        """Append one event (who, when, what) to the chain, in the caller's transaction
        (``workflow.store.events.append``: after what the session holds is flushed, so the event's id
        comes after theirs). ``sealed`` names the figure rows the change wrote ({table: [ids]}): the
        event records their figures (``audit verify`` holds the tables to them). The Event returned is
        not in the session: the row is written already."""
        row = self._event_row(action, team.id if team else None, trigger, from_phase, to_phase, reason, forced, data)
        conn = flushed(s)
        row["actor_id"] = self._actor_id(conn)
        if sealed:
            row["sealed"] = sealed
        event = Event(id=events.append(conn, [row]), **row)
        self._recorded([sealed])
        return event

    def log(self, conn: Connection, action: str, team: Team | TeamRef, *, trigger: str | None = None,
            from_phase: str | None = None, to_phase: str | None = None, reason: str | None = None,
            forced: bool = False, data: dict[str, Any] | None = None,
            sealed: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """:meth:`event` through Core, for ``advance``: no ORM object, prebuilt statements (the head read,
        the INSERT, the head moved on); returns the row."""
        row = self._event_row(action, team.id, trigger, from_phase, to_phase, reason, forced, data)
        row["actor_id"] = self._actor_id(conn)
        if sealed:
            row["sealed"] = sealed
        events.append(conn, [row])
        self._recorded([sealed])
        return row

    def event_row(self, action: str, team_id: int | None = None, *, to_phase: str | None = None,
                  data: dict[str, Any] | None = None, sealed: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """An event's row, as :meth:`event` would write it, for :meth:`log_rows`."""
        row = self._event_row(action, team_id, None, None, to_phase, None, False, data)
        if sealed:
            row["sealed"] = sealed
        return row

    def log_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Events made by :meth:`event_row`, chained and inserted in one executemany (a batch of changes:
        an import)."""
        if rows:
            actor_id = self._actor_id(conn)
            for row in rows:
                row["actor_id"] = actor_id
            sealed = [row.get("sealed") for row in rows]  # the append takes them out of the rows
            events.append(conn, rows)
            self._recorded(sealed)

    def _recorded(self, sealed: list[dict[str, list[int]] | None]) -> None:
        """After events that recorded people's roles (``sealed``): if the actor's are among them, the
        next check reads them again, so a context never answers with roles it changed itself."""
        me = self._known.me
        if me is not None and any(me.id in (x or {}).get(ROLES_FIGURE, ()) for x in sealed):
            self._known.me = None

    def _actor_id(self, conn: Any) -> int | None:
        """The acting person's id, as the chain records who acted (the system user: the person whose
        login it is): :meth:`me`'s when known, else looked up (without the roles)."""
        me = self._known.me
        return me.id if me is not None else people.actor_id(conn, self.actor)

    def _event_row(self, action: str, team_id: int | None, trigger: str | None, from_phase: str | None,
                   to_phase: str | None, reason: str | None, forced: bool, data: dict[str, Any] | None) -> dict[str, Any]:
        if self.via:
            data = {**(data or {}), "via": self.via}
        return {"at": self.clock.now(), "actor": self.actor, "team_id": team_id, "action": action, "trigger": trigger,
                "from_phase": from_phase, "to_phase": to_phase, "reason": reason, "forced": forced,
                "data": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None}


# ---- lookups: one way to find an entity by the name a person typed ------------------------------

# kind: (the store's lookup, message); the error's code is unknown_<kind>, its param <kind> the key
# looked up (the CLI adds where to look: ERROR_HINTS). A person is named by a validated e-mail: not quoted.
_LOOKUPS: dict[str, tuple[Any, str]] = {
    "programme": (people.programme_by_name, N_("unknown programme {programme!q}")),
    "team": (people.team_by_name, N_("unknown team {team!q}")),
    "person": (people.person_by_email, N_("unknown person {person}")),
}


def find(s: Session, kind: str, name: str, *, programme: Programme | None = None) -> Any:
    """The programme, team, person (by e-mail) or partner (of ``programme``) named so, or NotFound."""
    if kind == "partner":
        assert programme is not None
        row = people.partner_by_name(s, programme.id, validate.lookup(name))
        if row is None:
            raise NotFound(N_("unknown partner {partner!q} in programme {programme!q}"), code="unknown_partner",
                           partner=name, programme=programme.name)
        return row
    lookup, message = _LOOKUPS[kind]
    key = validate.email(name, local=True) if kind == "person" else validate.lookup(name)
    row = lookup(s, key)
    if row is None:
        raise NotFound(message, code=f"unknown_{kind}", **{kind: key})
    return row


def person_with_role(s: Session, email: str, role: str) -> Person:
    """A person who holds ``role`` (to be named coach, sponsor or intrapreneur of a team)."""
    p = find(s, "person", email)
    if not people.has_role(s, p.id, role):
        raise Invalid(N_("{email} does not have the role {role}"), code="missing_role", email=p.email, role=role)
    return p
