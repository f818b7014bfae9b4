"""The library API: everything a coordinator does, callable from Python (the CLI is one client)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

import states
from workflow import permissions, validate
from workflow.checkins import CheckIns
from workflow.outbox import Reminders
from workflow.clock import Clock, paris
from workflow.db import Store, open_store
from workflow.deadlines import days_left, deadline
from workflow.errors import ChangedMeanwhile, Forbidden, Invalid, NotFound, Refused, quote
from workflow.settings import Settings
from workflow.models import (
    Agreement,
    Assessment,
    Event,
    Partner,
    Person,
    PersonRole,
    PhasePeriod,
    Programme,
    Team,
    TeamMember,
    coach_emails,
    commitment,
)

PROGRAMME_KINDS = tuple(states.KINDS)
PARTNER_KINDS = ("departement", "region", "other")
ROLES = permissions.ROLES
SYSTEM = " (system user)"
MEMBER_ROLES = ("intrapreneur", "coach", "sponsor")


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else paris(dt).isoformat(timespec="seconds")


def iso_date(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def default_actor() -> str:
    """The system user name, recorded as such when no ``--as`` is given."""
    try:
        return getpass.getuser() + SYSTEM
    except Exception:  # no user name in this environment
        return "unknown" + SYSTEM


@dataclass
class Workflow(CheckIns, Reminders):
    """One store, one clock, one acting person."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    actor: str = field(default_factory=default_actor)  # an e-mail (--as), or "<login> (system user)"
    settings: Settings = field(default_factory=Settings.from_env)
    _people: dict[str, tuple[int, frozenset[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, db: str | None = None, *, clock: Clock | None = None, actor: str | None = None,
             create: bool = False) -> Workflow:
        """Open (``create``: create or upgrade) the store at ``db`` (path or URL; default: user data dir).

        On a store with nobody in it yet, ``create`` records the acting person as its first
        coordinator, so whoever runs ``init`` (or ``demo``) is never locked out.
        """
        who = validate.email(actor, local=True) if actor else default_actor()
        wf = cls(open_store(db, create=create), clock or Clock(), who)
        if create:
            wf._bootstrap()
        return wf

    def _bootstrap(self) -> None:
        with self.store.write() as s:
            if s.exec(select(Person.id)).first() is not None:
                return
            if self.actor.endswith(SYSTEM):
                login = self.actor[: -len(SYSTEM)]
                person = Person(name=login, email=f"{login}@localhost", login=login, created_at=self.clock.now())
            else:
                person = Person(name=self.actor.split("@")[0], email=self.actor, created_at=self.clock.now())
            s.add(person)
            s.flush()
            s.add(PersonRole(person_id=person.id, role="coordinator"))
            self._event(s, "person.add", data={"email": person.email, "roles": ["coordinator"], "first": True})

    # ---- who is acting -------------------------------------------------------------------

    def _me(self, s: Session) -> tuple[int, frozenset[str]]:
        """The acting person's id and roles; an actor who is not in the store is refused."""
        hit = self._people.get(self.actor)
        if hit is not None:
            return hit
        if self.actor.endswith(SYSTEM):
            login = self.actor[: -len(SYSTEM)]
            p = s.exec(select(Person).where(Person.login == login)).first()
            if p is None:
                raise Forbidden(f"you are acting as the system user {quote(login)}, who is not a person in this store; "
                                "pass --as EMAIL (or set PREINCUB_USER)",
                                f"vous agissez en tant qu'utilisateur système {quote(login)}, inconnu de cette base ; "
                                "passez --as EMAIL (ou PREINCUB_USER)")
        else:
            p = s.exec(select(Person).where(Person.email == self.actor)).first()
            if p is None:
                raise Forbidden(f"unknown acting person {self.actor} (--as); ask a coordinator to add you "
                                "(preincub person add)",
                                f"personne inconnue {self.actor} (--as) ; demandez à un coordinateur de vous ajouter "
                                "(preincub person add)")
        roles = frozenset(s.exec(select(PersonRole.role).where(PersonRole.person_id == p.id)).all())
        self._people[self.actor] = (p.id, roles)
        return p.id, roles

    def _ties(self, s: Session, team_id: int) -> frozenset[str]:
        me, _ = self._me(s)
        return frozenset(s.exec(select(TeamMember.role).where(TeamMember.team_id == team_id,
                                                              TeamMember.person_id == me)).all())

    def _require(self, s: Session, action: str, team: Team | None = None) -> None:
        """Refuse, with who is acting and what role is needed, unless the table allows ``action``."""
        _, roles = self._me(s)
        sc = permissions.scope(action, roles)
        if sc == permissions.ANY or (sc == permissions.OWN and team is not None
                                     and permissions.allowed(action, roles, self._ties(s, team.id))):
            return
        en, fr = permissions.ACTIONS[action]
        # Without a team, only the roles that reach every team would do.
        needed = permissions.roles_allowed(action, every_team=team is None)
        need, need_fr = " or ".join(needed), " ou ".join(needed)
        mine = ", ".join(sorted(roles)) or "none"
        if sc == permissions.OWN and team is not None:
            raise Forbidden(f"acting as {self.actor} ({mine}), you may not {en} for {quote(team.name)}: it is not one of your teams",
                            f"en tant que {self.actor} ({mine}), vous ne pouvez pas {fr} pour {quote(team.name)} : "
                            "ce n'est pas une de vos équipes")
        raise Forbidden(f"acting as {self.actor} ({mine}), you may not {en}: it needs the role {need}",
                        f"en tant que {self.actor} ({mine}), vous ne pouvez pas {fr} : il faut le rôle {need_fr}")

    def _require_reader(self, s: Session) -> None:
        """Refuse an actor who may read no team at all; programmes are shown to anyone who reads one."""
        self._visible_teams(s)

    def _visible_teams(self, s: Session):
        """None when the actor reads every team, else a subquery of the team ids they may read."""
        me, roles = self._me(s)
        sc = permissions.scope("read", roles)
        if sc == permissions.ANY:
            return None
        own = [r for r in roles if permissions.TABLE["read"].get(r) == permissions.OWN]
        if sc is None or not own:
            self._require(s, "read")
        return select(TeamMember.team_id).where(TeamMember.person_id == me, TeamMember.role.in_(own))

    def close(self) -> None:
        self.store.close()

    # ---- lookups ---------------------------------------------------------------------------

    @staticmethod
    def _programme(s: Session, name: str) -> Programme:
        p = s.exec(select(Programme).where(Programme.name == validate.lookup(name))).first()
        if p is None:
            raise NotFound(f"unknown programme {quote(name)} (see 'preincub programme list')",
                           f"programme inconnu {quote(name)} (voir 'preincub programme list')")
        return p

    @staticmethod
    def _team(s: Session, name: str) -> Team:
        t = s.exec(select(Team).where(Team.name == validate.lookup(name))).first()
        if t is None:
            raise NotFound(f"unknown team {quote(name)} (see 'preincub team list')",
                           f"équipe inconnue {quote(name)} (voir 'preincub team list')")
        return t

    @staticmethod
    def _person(s: Session, email: str, role: str | None = None) -> Person:
        addr = validate.email(email, local=True)
        p = s.exec(select(Person).where(Person.email == addr)).first()
        if p is None:
            raise NotFound(f"unknown person {addr} (add them with 'preincub person add')",
                           f"personne inconnue {addr} (ajoutez-la avec 'preincub person add')")
        if role is not None and s.get(PersonRole, (p.id, role)) is None:
            raise Invalid(f"{addr} does not have the role {role} (person add ... --role {role})",
                          f"{addr} n'a pas le rôle {role} (person add ... --role {role})")
        return p

    @staticmethod
    def _partner(s: Session, programme: Programme, name: str) -> Partner:
        p = s.exec(select(Partner).where(Partner.programme_id == programme.id, Partner.name == validate.lookup(name))).first()
        if p is None:
            raise NotFound(f"unknown partner {quote(name)} in programme {quote(programme.name)} (preincub partner add)",
                           f"collectivité inconnue {quote(name)} dans le programme {quote(programme.name)} (preincub partner add)")
        return p

    def _event(self, s: Session, action: str, team: Team | None = None, *, trigger: str | None = None,
               from_phase: str | None = None, to_phase: str | None = None, reason: str | None = None,
               forced: bool = False, data: dict[str, Any] | None = None) -> Event:
        ev = Event(at=self.clock.now(), actor=self.actor, team_id=team.id if team else None, action=action,
                   trigger=trigger, from_phase=from_phase, to_phase=to_phase, reason=reason, forced=forced,
                   data=json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None)
        s.add(ev)
        return ev

    @staticmethod
    def _bump(s: Session, team: Team) -> None:
        """Every change to a team bumps its version, so a concurrent transition sees it (CAS)."""
        res = s.execute(sa.update(Team).where(Team.id == team.id, Team.version == team.version)
                        .values(version=team.version + 1).execution_options(synchronize_session=False))
        if res.rowcount != 1:
            raise _changed(team.name)
        team.version += 1

    # ---- programmes, partners, people ----------------------------------------------------

    def add_programme(self, name: str, signed_on: date, *, kind: str = "preincubation", months: int | None = None,
                      capacity: int | None = None, min_days_per_week: float | None = None) -> dict:
        """A programme; its numbers default to its kind's (DOMAIN.md)."""
        name = validate.name(name, "programme")
        rules = states.KINDS[validate.choice(kind, PROGRAMME_KINDS, "programme kind")]
        validate.plausible_date(signed_on, "signed on")
        months = int(validate.number(rules.months if months is None else months, "--months", 1, 24, integer=True))
        capacity = int(validate.number(rules.capacity if capacity is None else capacity, "--capacity", 1, 1000, integer=True))
        mind = validate.number(rules.min_days_per_week if min_days_per_week is None else min_days_per_week,
                               "--min-days-per-week", 0.5, 5)
        with self.store.write() as s:
            self._require(s, "manage")
            if s.exec(select(Programme.id).where(Programme.name == name)).first() is not None:
                raise Invalid(f"a programme named {quote(name)} already exists", f"un programme nommé {quote(name)} existe déjà")
            p = Programme(name=name, kind=kind, signed_on=signed_on, months=months, capacity=capacity,
                          min_days_per_week=mind, created_at=self.clock.now())
            s.add(p)
            s.flush()
            self._event(s, "programme.add", data={"programme": name, "kind": kind, "signed_on": signed_on.isoformat()})
            return self._programme_dict(s, p)

    def _programme_dict(self, s: Session, p: Programme) -> dict:
        due = deadline(p.signed_on, p.months)
        counts = dict(s.execute(select(Team.phase, sa.func.count()).where(Team.programme_id == p.id)
                                .group_by(Team.phase)).all())
        partners = s.exec(select(Partner).where(Partner.programme_id == p.id).order_by(Partner.name)).all()
        return {
            "name": p.name, "kind": p.kind, "signed_on": p.signed_on.isoformat(), "months": p.months,
            "deadline": due.isoformat(), "days_left": days_left(due, self.clock.today()),
            "expired": due < self.clock.today(),
            "capacity": p.capacity, "places_taken": sum(counts.get(ph, 0) for ph in states.HOLDS_A_PLACE),
            "min_days_per_week": p.min_days_per_week,
            "partners": [{"name": x.name, "kind": x.kind} for x in partners],
            "teams": sum(counts.values()),
            "teams_by_phase": {ph: counts[ph] for ph in states.PHASES if ph in counts},
        }

    def programmes(self) -> list[dict]:
        with self.store.read() as s:
            self._require_reader(s)
            return [self._programme_dict(s, p) for p in s.exec(select(Programme).order_by(Programme.signed_on, Programme.name))]

    def programme(self, name: str) -> dict:
        with self.store.read() as s:
            self._require_reader(s)
            return self._programme_dict(s, self._programme(s, name))

    def add_partner(self, name: str, programme: str, *, kind: str = "departement") -> dict:
        name = validate.name(name, "partner")
        validate.choice(kind, PARTNER_KINDS, "partner kind")
        with self.store.write() as s:
            self._require(s, "manage")
            p = self._programme(s, programme)
            if s.exec(select(Partner.id).where(Partner.programme_id == p.id, Partner.name == name)).first():
                raise Invalid(f"{quote(name)} is already a partner of {quote(p.name)}", f"{quote(name)} est déjà partenaire de {quote(p.name)}")
            s.add(Partner(programme_id=p.id, name=name, kind=kind))
            self._event(s, "partner.add", data={"programme": p.name, "partner": name, "kind": kind})
            return {"name": name, "programme": p.name, "kind": kind}

    def add_person(self, name: str, email: str, roles: Sequence[str], *, channels: Sequence[str] | None = None,
                   lang: str | None = None) -> dict:
        name = validate.name(name, "person")
        addr = validate.email(email)
        if not roles:
            raise Invalid("give at least one --role (" + "|".join(ROLES) + ")",
                          "donnez au moins un --role (" + "|".join(ROLES) + ")")
        roles = sorted({validate.choice(r, ROLES, "role") for r in roles})
        prefs = _preferences(channels, lang)
        with self.store.write() as s:
            self._require(s, "manage")
            if s.exec(select(Person.id).where(Person.email == addr)).first():
                raise Invalid(f"a person with the e-mail {addr} already exists", f"une personne avec l'e-mail {addr} existe déjà")
            person = Person(name=name, email=addr, created_at=self.clock.now(), **prefs)
            s.add(person)
            s.flush()
            s.add_all(PersonRole(person_id=person.id, role=r) for r in roles)
            self._event(s, "person.add", data={"email": addr, "roles": roles, **prefs})
            return self._person_dict(person, roles)

    @staticmethod
    def _person_dict(p: Person, roles: Iterable[str]) -> dict:
        return {"name": p.name, "email": p.email, "roles": sorted(roles), "channels": p.channels.split(","),
                "lang": p.lang}

    def edit_person(self, email: str, *, name: str | None = None, add_roles: Iterable[str] = (),
                    remove_roles: Iterable[str] = (), channels: Sequence[str] | None = None,
                    lang: str | None = None) -> dict:
        """Rename a person, change their roles, or where and in which language their reminders go."""
        add_roles = {validate.choice(r, ROLES, "role") for r in add_roles}
        remove_roles = {validate.choice(r, ROLES, "role") for r in remove_roles}
        prefs = _preferences(channels, lang, defaults=False)
        if name is None and not add_roles and not remove_roles and not prefs:
            raise Invalid("nothing to change: give at least one option (see 'preincub person edit --help')",
                          "rien à modifier : donnez au moins une option (voir 'preincub person edit --help')")
        with self.store.write() as s:
            self._require(s, "manage")
            p = self._person(s, email)
            if name is not None:
                p.name = validate.name(name, "person")
            for k, v in prefs.items():
                setattr(p, k, v)
            roles = set(s.exec(select(PersonRole.role).where(PersonRole.person_id == p.id)).all())
            new_roles = (roles | add_roles) - remove_roles
            if not new_roles:
                raise Invalid(f"{p.email} would have no role left", f"{p.email} n'aurait plus aucun rôle")
            for role in (roles - new_roles) & set(MEMBER_ROLES):
                held = s.exec(select(Team.name).join(TeamMember, TeamMember.team_id == Team.id)
                              .where(TeamMember.person_id == p.id, TeamMember.role == role,
                                     Team.phase.in_(states.NON_TERMINAL)).order_by(Team.name)).all()
                if held:
                    names = ", ".join(repr(n) for n in held)
                    raise Invalid(f"{p.email} is still {role} of {names}; replace them there first (team edit)",
                                  f"{p.email} est encore {role} de {names} ; remplacez cette personne d'abord (team edit)")
            if "coordinator" in roles - new_roles and s.execute(
                    select(sa.func.count()).where(PersonRole.role == "coordinator")).scalar_one() < 2:
                raise Invalid("the store needs at least one coordinator", "la base doit garder au moins un coordinateur")
            for r in new_roles - roles:
                s.add(PersonRole(person_id=p.id, role=r))
            for r in roles - new_roles:
                s.delete(s.get(PersonRole, (p.id, r)))
            s.add(p)
            self._people.clear()
            self._event(s, "person.edit", data={"email": p.email, "name": name, "roles": sorted(new_roles), **prefs})
            return self._person_dict(p, new_roles)

    def people(self, role: str | None = None) -> list[dict]:
        with self.store.read() as s:
            self._require(s, "read")  # names and e-mails of everyone: those who read every team
            q = select(Person.name, Person.email, PersonRole.role).join(PersonRole, PersonRole.person_id == Person.id)
            if role:
                validate.choice(role, ROLES, "role")
                q = q.where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role)))
            out: dict[str, dict] = {}
            for n, e, r, ch, lg in s.execute(q.add_columns(Person.channels, Person.lang)
                                             .order_by(Person.name, Person.email, PersonRole.role)):
                out.setdefault(e, {"name": n, "email": e, "roles": [], "channels": ch.split(","), "lang": lg})
                out[e]["roles"].append(r)
            return list(out.values())

    def complete(self, kind: str, prefix: str = "", limit: int = 100) -> list[str]:
        """Names of ``kind`` (team, programme, person: e-mails) starting with ``prefix``, for shell
        completion: what the acting person may read, in order, one indexed range query."""
        column = {"team": Team.name, "programme": Programme.name, "person": Person.email}[kind]
        prefix = validate.lookup(prefix)
        with self.store.read() as s:
            q = select(column).order_by(column).limit(limit)
            if prefix:  # a range on the unique index: no LIKE, so "%" and "_" are plain characters
                q = q.where(column >= prefix, column < prefix + "\U0010ffff")
            if kind == "team":
                mine = self._visible_teams(s)
                if mine is not None:
                    q = q.where(Team.id.in_(mine))
            elif kind == "person":
                self._require(s, "read")  # everyone's e-mail: those who read every team
            else:
                self._require_reader(s)
            return list(s.exec(q))

    # ---- teams: their record ---------------------------------------------------------------

    def add_team(self, name: str, programme: str, partner: str, *, problem: str | None = None,
                 intrapreneurs: Iterable[str] = (), coach: str | None = None, sponsor: str | None = None,
                 days_per_week: float | None = None) -> dict:
        name = validate.name(name, "team")
        with self.store.write() as s:
            self._require(s, "manage")
            prog = self._programme(s, programme)
            if s.exec(select(Team.id).where(Team.name == name)).first():
                raise Invalid(f"a team named {quote(name)} already exists", f"une équipe nommée {quote(name)} existe déjà")
            now = self.clock.now()
            team = Team(name=name, programme_id=prog.id, partner_id=self._partner(s, prog, partner).id,
                        problem=validate.text(problem, "problem"), phase=states.INITIAL, phase_since=now,
                        created_at=now)
            s.add(team)
            s.flush()
            s.add(PhasePeriod(team_id=team.id, phase=states.INITIAL, start=now))
            changes = self._members(s, team, intrapreneurs=intrapreneurs, coach=coach, sponsor=sponsor,
                                    days_per_week=days_per_week)
            self._event(s, "team.add", team, to_phase=states.INITIAL,
                        data={"programme": prog.name, "partner": partner, **changes})
            return self._team_dict(s, team)

    def _members(self, s: Session, team: Team, *, intrapreneurs: Iterable[str] = (), remove: Iterable[str] = (),
                 coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> dict:
        """Apply membership changes; return what changed, for the audit trail."""
        changes: dict[str, Any] = {}
        if days_per_week is not None:
            days_per_week = validate.number(days_per_week, "--days-per-week", 0.5, 5)
        for addr in remove:
            p = self._person(s, addr)
            m = s.get(TeamMember, (team.id, p.id, "intrapreneur"))
            if m is None:
                raise Invalid(f"{p.email} is not an intrapreneur of {quote(team.name)}",
                              f"{p.email} n'est pas intrapreneur de {quote(team.name)}")
            s.delete(m)
            changes.setdefault("intrapreneurs_removed", []).append(p.email)
        added = []
        for addr in intrapreneurs:
            p = self._person(s, addr, "intrapreneur")
            m = s.get(TeamMember, (team.id, p.id, "intrapreneur"))
            if m is None:
                m = TeamMember(team_id=team.id, person_id=p.id, role="intrapreneur")
                s.add(m)
            added.append(m)
            changes.setdefault("intrapreneurs", []).append(p.email)
        if days_per_week is not None:
            # The commitment applies to the intrapreneurs named now, or else to all of the team's.
            s.flush()
            targets = added or s.exec(select(TeamMember).where(TeamMember.team_id == team.id,
                                                               TeamMember.role == "intrapreneur")).all()
            if not targets:
                raise Invalid("--days-per-week needs an intrapreneur (--intrapreneur EMAIL)",
                              "--days-per-week demande un intrapreneur (--intrapreneur EMAIL)")
            for m in targets:
                m.days_per_week = days_per_week
                s.add(m)
            changes["days_per_week"] = days_per_week
        for role, addr in (("coach", coach), ("sponsor", sponsor)):
            if addr is None:
                continue
            p = self._person(s, addr, role)
            s.execute(sa.delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.role == role))
            s.add(TeamMember(team_id=team.id, person_id=p.id, role=role))
            changes[role] = p.email
        s.flush()
        return changes

    def _open_team(self, s: Session, name: str, allowed: Sequence[str] | None = None, what: str = "",
                   action: str = "manage") -> Team:
        team = self._team(s, name)
        self._require(s, action, team)
        if states.PHASES[team.phase].terminal or (allowed is not None and team.phase not in allowed):
            ph = states.PHASES[team.phase]
            en = ", ".join(allowed) if allowed else "a phase that is not final"
            fr = ", ".join(f"« {states.PHASES[a].fr} »" for a in allowed) if allowed else "une phase non finale"
            raise Invalid(f"cannot {what} {quote(team.name)} in phase {team.phase}; only in {en}",
                          f"impossible pour {quote(team.name)} ({what}) en phase « {ph.fr} » ; seulement en {fr}")
        return team

    def edit_team(self, name: str, *, rename: str | None = None, partner: str | None = None,
                  problem: str | None = None, intrapreneurs: Iterable[str] = (), remove_intrapreneurs: Iterable[str] = (),
                  coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> dict:
        intrapreneurs, remove_intrapreneurs = list(intrapreneurs), list(remove_intrapreneurs)
        with self.store.write() as s:
            team = self._open_team(s, name, what="edit")
            changes: dict[str, Any] = {}
            if rename is not None:
                new = validate.name(rename, "team")
                if new != team.name and s.exec(select(Team.id).where(Team.name == new)).first():
                    raise Invalid(f"a team named {quote(new)} already exists", f"une équipe nommée {quote(new)} existe déjà")
                changes["name"] = [team.name, new]
                team.name = new
            if partner is not None:
                prog = s.get(Programme, team.programme_id)
                team.partner_id = self._partner(s, prog, partner).id
                changes["partner"] = validate.lookup(partner)
            if problem is not None:
                team.problem = validate.text(problem, "problem")
                changes["problem"] = team.problem
            s.add(team)
            changes.update(self._members(s, team, intrapreneurs=intrapreneurs, remove=remove_intrapreneurs,
                                         coach=coach, sponsor=sponsor, days_per_week=days_per_week))
            if not changes:
                raise Invalid("nothing to change: give at least one option (see 'preincub team edit --help')",
                              "rien à modifier : donnez au moins une option (voir 'preincub team edit --help')")
            self._bump(s, team)
            self._event(s, "team.edit", team, data=changes)
            return self._team_dict(s, team)

    def assess(self, team: str, *, real: bool, major: bool, actionable: bool, note: str | None = None) -> dict:
        """The three criteria of the selection: real, major, actionable (réel, majeur, actionnable)."""
        note = validate.text(note, "note")
        with self.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), "assess", "decide")
            a = s.get(Assessment, t.id) or Assessment(team_id=t.id, actor=self.actor, at=self.clock.now())
            a.real, a.major, a.actionable, a.note = real, major, actionable, note
            a.at, a.actor = self.clock.now(), self.actor
            s.add(a)
            self._bump(s, t)
            self._event(s, "assess", t, reason=note, data={"real": real, "major": major, "actionable": actionable})
            return self._team_dict(s, t)

    def agree(self, team: str, party: str) -> dict:
        """Record one party's agreement to select the team (both are needed: partner and operator)."""
        validate.choice(party, states.PARTIES, "party")
        with self.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), "agree", "decide")
            if s.get(Agreement, (t.id, party)) is not None:
                raise Invalid(f"the {party} already agreed to {quote(t.name)}", f"la partie {party} a déjà donné son accord pour {quote(t.name)}")
            s.add(Agreement(team_id=t.id, party=party, at=self.clock.now(), actor=self.actor))
            self._bump(s, t)
            self._event(s, "agree", t, data={"party": party})
            return self._team_dict(s, t)

    def poc(self, team: str, summary: str, link: str | None = None) -> dict:
        summary = validate.text(summary, "summary")
        link = validate.url(link)
        with self.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), "record a proof of concept for")
            t.poc_summary, t.poc_link = summary, link
            s.add(t)
            self._bump(s, t)
            self._event(s, "poc", t, data={"summary": summary, "link": link})
            return self._team_dict(s, t)

    def committee(self, team: str, *, on: date | None = None, opinion: str | None = None) -> dict:
        """The committee date (before presenting), then its opinion (once it has heard the team)."""
        if on is None and opinion is None:
            raise Invalid("give --on DATE, --opinion TEXT, or both", "donnez --on DATE, --opinion TEXT, ou les deux")
        opinion = validate.text(opinion, "opinion")
        with self.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), "record the committee for",
                                "manage" if on is not None else "opinion")
            if on is not None and opinion is not None:
                self._require(s, "opinion", t)
            data: dict[str, Any] = {}
            if on is not None:
                t.committee_on = validate.plausible_date(on, "committee date")
                data["on"] = on.isoformat()
            if opinion is not None:
                if t.phase != "poc_committee":
                    raise Invalid(f"the committee's opinion comes once {quote(t.name)} has presented (advance {quote(t.name)} present)",
                                  f"l'avis du comité vient après la présentation ({quote(t.name)} doit d'abord passer 'present')")
                t.committee_opinion = opinion
                data["opinion"] = opinion
            s.add(t)
            self._bump(s, t)
            self._event(s, "committee", t, data=data)
            return self._team_dict(s, t)

    # ---- the workflow --------------------------------------------------------------------

    def _view(self, s: Session, team: Team, reason: str | None = None) -> states.TeamView:
        prog = s.get(Programme, team.programme_id)
        partner = s.get(Partner, team.partner_id) if team.partner_id else None
        members = s.exec(select(TeamMember).where(TeamMember.team_id == team.id)).all()
        intra = [m for m in members if m.role == "intrapreneur"]
        a = s.get(Assessment, team.id)
        agreed = frozenset(s.exec(select(Agreement.party).where(Agreement.team_id == team.id)).all())
        occupied = s.execute(select(sa.func.count()).where(Team.programme_id == prog.id,
                                                          Team.phase.in_(states.HOLDS_A_PLACE))).scalar_one()
        rules = states.KINDS[prog.kind]
        return states.TeamView(
            name=team.name, phase=team.phase, today=self.clock.today(),
            programme=states.ProgrammeView(prog.name, prog.kind, deadline(prog.signed_on, prog.months), prog.capacity,
                                           occupied, prog.min_days_per_week, rules.requires_sponsor),
            problem=team.problem, partner=partner.name if partner else None, intrapreneurs=len(intra),
            coaches=sum(m.role == "coach" for m in members), sponsors=sum(m.role == "sponsor" for m in members),
            min_days_per_week=commitment([m.days_per_week for m in intra]),
            criteria={} if a is None else {"real": a.real, "major": a.major, "actionable": a.actionable},
            agreed=agreed, poc_summary=team.poc_summary, committee_on=team.committee_on,
            committee_opinion=team.committee_opinion, reason=reason,
        )

    def check(self, team: str, lang: str = "fr") -> dict:
        """Which triggers may fire now; for each blocked one, every unmet condition."""
        with self.store.read() as s:
            t = self._team(s, team)
            self._require(s, "read", t)
            available, blocked = states.check(self._view(s, t))
            return {
                "team": t.name, "phase": t.phase, "available": available,
                "needs_reason": [n for n in available if states.TRIGGERS[n].needs_reason],
                "blocked": {n: [u.text(lang) for u in us] for n, us in blocked.items()},
            }

    def advance(self, team: str, trigger: str, *, reason: str | None = None, force: bool = False) -> dict:
        """Fire ``trigger``: new phase, phase history and audit event in one transaction.

        The team is read, then written under a lock with compare-and-swap on its version, so of two
        concurrent moves exactly one wins and the other raises ChangedMeanwhile (exit 3).
        """
        reason = validate.text(reason, "reason")
        if force and reason is None:
            raise Invalid("--force needs --reason: say why the rules are overridden",
                          "--force demande --reason : dites pourquoi les règles sont contournées")
        with self.store.read() as s:
            seen = self._team(s, team)
            self._require(s, "decide", seen)
        with self.store.write() as s:
            # Serialise moves within a programme, so capacity is counted under the lock (PostgreSQL;
            # SQLite's BEGIN IMMEDIATE already serialises every writer).
            s.execute(select(Programme.id).where(Programme.id == seen.programme_id).with_for_update())
            t = s.get(Team, seen.id)
            if t is None or t.version != seen.version:
                raise _changed(seen.name)
            view = self._view(s, t, reason)
            try:
                new = states.fire(trigger, view, reason=reason, force=force)
            except states.InvalidTrigger as exc:
                valid = ", ".join(exc.valid) or "aucun (phase finale)"
                ph = states.PHASES[t.phase]
                raise Invalid(f"{exc} (team {quote(t.name)})",
                              f"déclencheur {quote(trigger)} impossible depuis la phase « {ph.fr} » ; possibles : {valid}") from None
            except states.Blocked as exc:
                raise Refused(f"{trigger} refused for {quote(t.name)}", f"{trigger} refusé pour {quote(t.name)}",
                              exc.unmet, team=t.name) from None
            overridden = [u.en for u in states.unmet(trigger, view)] if force else []
            now = self.clock.now()
            res = s.execute(sa.update(Team).where(Team.id == t.id, Team.version == t.version)
                            .values(phase=new, phase_since=now, version=t.version + 1)
                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:
                raise _changed(t.name)
            s.execute(sa.update(PhasePeriod).where(PhasePeriod.team_id == t.id, PhasePeriod.end.is_(None))
                      .values(end=now).execution_options(synchronize_session=False))
            s.add(PhasePeriod(team_id=t.id, phase=new, start=now))
            ev = self._event(s, "advance", t, trigger=trigger, from_phase=t.phase, to_phase=new, reason=reason,
                             forced=bool(overridden), data={"overridden": overridden} if overridden else None)
            s.flush()
            return self._event_dict(ev)

    # ---- reading -------------------------------------------------------------------------

    @staticmethod
    def _event_dict(ev: Event) -> dict:
        return {"at": iso(ev.at), "actor": ev.actor, "action": ev.action, "trigger": ev.trigger,
                "from": ev.from_phase, "to": ev.to_phase, "reason": ev.reason, "forced": ev.forced,
                "data": json.loads(ev.data) if ev.data else None}

    def history(self, team: str) -> list[dict]:
        """The team's audit trail, oldest first."""
        with self.store.read() as s:
            t = self._team(s, team)
            self._require(s, "read", t)
            return [self._event_dict(e) for e in s.exec(select(Event).where(Event.team_id == t.id).order_by(Event.id))]

    def _team_dict(self, s: Session, t: Team) -> dict:
        prog = s.get(Programme, t.programme_id)
        partner = s.get(Partner, t.partner_id) if t.partner_id else None
        due = deadline(prog.signed_on, prog.months)
        rows = s.execute(select(TeamMember.role, Person.name, Person.email, TeamMember.days_per_week)
                         .join(Person, Person.id == TeamMember.person_id)
                         .where(TeamMember.team_id == t.id).order_by(Person.name)).all()
        members = {r: [{"name": n, "email": e, **({"days_per_week": d} if r == "intrapreneur" else {})}
                       for (role, n, e, d) in rows if role == r] for r in MEMBER_ROLES}
        a = s.get(Assessment, t.id)
        days = commitment([p["days_per_week"] for p in members["intrapreneur"]])
        periods = s.exec(select(PhasePeriod).where(PhasePeriod.team_id == t.id).order_by(PhasePeriod.start, PhasePeriod.id)).all()
        return {
            "name": t.name, "programme": prog.name, "partner": partner.name if partner else None,
            "phase": t.phase, "phase_since": iso(t.phase_since), "deadline": due.isoformat(),
            "days_left": None if states.PHASES[t.phase].terminal else days_left(due, self.clock.today()),
            "coach": members["coach"][0]["email"] if members["coach"] else None,
            "problem": t.problem, "intrapreneurs": members["intrapreneur"], "coaches": members["coach"],
            "sponsors": members["sponsor"],
            "criteria": {c: (getattr(a, c) if a else None) for c in states.CRITERIA},
            "assessment_note": a.note if a else None,
            "agreements": sorted(s.exec(select(Agreement.party).where(Agreement.team_id == t.id)).all()),
            "poc": {"summary": t.poc_summary, "link": t.poc_link},
            "committee": {"on": iso_date(t.committee_on), "opinion": t.committee_opinion},
            "phases": [{"phase": p.phase, "start": iso(p.start), "end": iso(p.end)} for p in periods],
            "coaching": self._coaching_of(s, t, days),
            "version": t.version,
        }

    def team(self, name: str) -> dict:
        with self.store.read() as s:
            t = self._team(s, name)
            self._require(s, "read", t)
            return self._team_dict(s, t)

    def status(self, programme: str | None = None, phase: str | None = None) -> list[dict]:
        """One row per team, from one set-based query (no Machine, no query per team)."""
        if phase is not None:
            validate.choice(phase, tuple(states.PHASES), "phase")
        coach = coach_emails()
        q = (select(Team.id, Team.name, Programme.name, Partner.name, Team.phase, Team.phase_since, coach.c.email,
                    Programme.signed_on, Programme.months)
             .join(Programme, Programme.id == Team.programme_id)
             .outerjoin(Partner, Partner.id == Team.partner_id)
             .outerjoin(coach, coach.c.team_id == Team.id))
        today = self.clock.today()
        teams = select(Team.id)
        with self.store.read() as s:
            if programme is not None:
                teams = teams.where(Team.programme_id == self._programme(s, programme).id)
            if phase is not None:
                teams = teams.where(Team.phase == phase)
            mine = self._visible_teams(s)
            if mine is not None:
                teams = teams.where(Team.id.in_(mine))
            if teams.whereclause is not None:
                q = q.where(Team.id.in_(teams))
            rows = s.connection().execute(q.order_by(Programme.name, Team.name)).all()
            marks = self._coaching_marks(s, teams)
        dues: dict[tuple[date, int], date] = {}
        out = []
        for tid, name, prog, partner, ph, since, coach_email, signed_on, months in rows:
            due = dues.get((signed_on, months)) or dues.setdefault((signed_on, months), deadline(signed_on, months))
            last, missing = marks.get(tid, (None, None))
            out.append({
                "name": name, "programme": prog, "partner": partner, "phase": ph, "phase_since": iso(since),
                "coach": coach_email, "deadline": due.isoformat(),
                "days_left": None if states.PHASES[ph].terminal else (due - today).days,
                "last_checkin": iso_date(last), "weeks_missing": missing,
                "drifting": missing is not None and missing >= self.settings.missed_weeks,
            })
        return out


def _preferences(channels: Sequence[str] | None, lang: str | None, defaults: bool = True) -> dict[str, str]:
    """Reminder channels and language, validated; with ``defaults``, e-mail in French when not given."""
    from notifications import CHANNELS

    prefs = {"channels": ["email"], "lang": "fr"} if defaults else {}
    if channels:
        prefs["channels"] = list(dict.fromkeys(validate.choice(c, CHANNELS, "channel") for c in channels))
    if lang:
        prefs["lang"] = validate.choice(lang, ("fr", "en"), "language")
    if "channels" in prefs:
        prefs["channels"] = ",".join(prefs["channels"])
    return prefs


def _changed(name: str) -> ChangedMeanwhile:
    return ChangedMeanwhile(f"team {quote(name)} changed meanwhile, retry", f"l'équipe {quote(name)} a changé entre-temps, réessayez")

