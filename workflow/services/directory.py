"""The directory: programmes, their partner bodies (collectivités), and people with their roles."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from dataclasses import dataclass, fields
from datetime import date

import states
from notifications import CHANNELS
from notifications.i18n import DEFAULT_LANG, LANGS
from workflow.rules import partners as partner_rules
from workflow.rules import permissions
from workflow.rules.permissions import Grant
from workflow.rules import validate
from workflow.clock import paris
from workflow.context import SYSTEM, Context, find
from workflow.services.mutes import Mutes
from workflow.store import ds as ds_rows
from workflow.store import mutes as mute_rows
from workflow.store import people as people_rows
from workflow.store import programmes as programme_rows
from workflow.store.engine import Session
from workflow.store.events import ROLES_FIGURE
from workflow.rules.deadlines import days_left, deadline
from workflow.errors import N_, Invalid, NotFound, quote
from workflow.store.models import Partner, Person, Programme
from workflow.records import GrantRecord, PartnerRecord, PersonRecord, ProgrammePartner, ProgrammeRecord

PROGRAMME_KINDS = tuple(states.PROGRAMME_KINDS)
PARTNER_KINDS = states.PARTNER_KINDS
ROLES = permissions.ROLES
MEMBER_ROLES = ("intrapreneur", "coach", "sponsor")


@dataclass(frozen=True, slots=True)
class PersonDetail(PersonRecord):
    """A person as ``person show`` and ``person edit`` give them: also the kinds of reminders they stopped."""

    muted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Directory:
    """Who and what the teams belong to; every change is checked against the permission table and audited."""

    ctx: Context

    def bootstrap(self) -> None:
        """On a store with nobody in it yet, record the acting person as its administrator, so whoever
        runs ``init`` (or ``demo``) is never locked out: they add programmes, and coordinate those they add."""
        ctx = self.ctx
        with ctx.store.write() as s:
            if people_rows.anyone(s):
                return
            if ctx.actor.endswith(SYSTEM):
                login = ctx.actor[: -len(SYSTEM)]
                who = {"name": login, "email": f"{login}@localhost", "login": login}
            else:
                who = {"name": ctx.actor.split("@")[0], "email": ctx.actor}
            person = people_rows.insert_person(s, [], created_at=ctx.clock.now(), **who)
            people_rows.insert_grant(s, person.id, Grant("admin"))
            ctx.event(s, "person.add", data={"email": person.email, "roles": ["admin"], "first": True},
                      sealed={ROLES_FIGURE: [person.id]})

    def add_programme(self, name: str, signed_on: date | Sequence[date], *, kind: str = "preincubation",
                      months: int | None = None, capacity: int | None = None,
                      min_days_per_week: float | None = None, coordinator: str | None = None) -> ProgrammeRecord:
        """A programme; its numbers default to its kind's (docs/domain.md). ``signed_on`` is one signature or
        several (seed 2 was signed on 23 and 31 October 2019): the agreement takes effect at the last.
        Its first coordinator is ``coordinator`` (an e-mail), else whoever adds it (an administrator)."""
        name = validate.name(name, "programme")
        rules = states.PROGRAMME_KINDS[validate.choice(kind, PROGRAMME_KINDS, "programme kind")]
        signatures = _signatures(signed_on)
        months = int(validate.number(rules.months if months is None else months, "--months", 1, 24, integer=True))
        capacity = int(validate.number(rules.capacity if capacity is None else capacity, "--capacity", 1, 1000, integer=True))
        mind = validate.number(rules.min_days_per_week if min_days_per_week is None else min_days_per_week,
                               "--min-days-per-week", 0.5, 5)
        with self.ctx.store.write() as s:
            self.ctx.require(s, "programmes")
            if programme_rows.name_taken(s, name):
                raise Invalid(N_("a programme named {name!q} already exists"), name=name)
            first = self.ctx.me(s).id if coordinator is None else find(s, "person", coordinator).id
            p = programme_rows.insert(s, signatures, name=name, kind=kind, signed_on=signatures[-1], months=months,
                                      capacity=capacity, min_days_per_week=mind, created_at=self.ctx.clock.now())
            self.ctx.event(s, "programme.add", data={"programme": name, "kind": kind,
                                                     "signed_on": [d.isoformat() for d in signatures]})
            self._grant(s, people_rows.person(s, first), Grant("coordinator", p.id), p)
            return self._programme_record(s, p)

    def sign_programme(self, name: str, signed_on: date) -> ProgrammeRecord:
        """One more signature of a programme's agreement (a party that signed later): when it is the
        last, the agreement takes effect on it, and the deadline moves with it, unless money was
        already paid or spent, or a formal notice sent, before that day (those are facts of the
        agreement in force: they cannot precede it)."""
        (day,) = _signatures(signed_on)
        with self.ctx.store.write() as s:
            p = find(s, "programme", name)
            self.ctx.require(s, "manage", programme=p)
            if programme_rows.signed(s, p.id, day):
                raise Invalid(N_("a signature of {name!q} on {day!d} is already recorded"), code="signature_recorded",
                              name=p.name, day=day)
            if day > p.signed_on:
                _check_nothing_before(s, p, day)
            programme_rows.add_signature(s, p, day)
            self.ctx.event(s, "programme.sign", data={"programme": p.name, "signed_on": day.isoformat(),
                                                      "takes_effect": p.signed_on.isoformat()})
            return self._programme_record(s, p)

    def _programme_record(self, s: Session, p: Programme, teams: Any = None) -> ProgrammeRecord:
        """``teams``: a subquery of the team ids the reader sees (None: all): the counts are of those."""
        due = deadline(p.signed_on, p.months)
        signatures = programme_rows.signatures(s, p.id)
        counts = programme_rows.teams_by_phase(s, p.id, teams)
        reach = self.ctx.reach(s, "read")
        partners = programme_rows.partners(s, p.id, None if reach.covers(p.id) else teams, reach.partners)
        return ProgrammeRecord(
            name=p.name, kind=p.kind, signed_on=p.signed_on.isoformat(),
            signatures=tuple(d.isoformat() for d in signatures), months=p.months,
            deadline=due.isoformat(), days_left=days_left(due, self.ctx.clock.today()),
            expired=due < self.ctx.clock.today(),
            capacity=p.capacity, places_taken=sum(counts.get(ph, 0) for ph in states.HOLDS_A_PLACE),
            min_days_per_week=p.min_days_per_week,
            partners=tuple(PartnerRecord(x.name, x.kind, x.insee) for x in partners),
            teams=sum(counts.values()),
            teams_by_phase={ph: counts[ph] for ph in states.PHASES if ph in counts},
        )

    def programmes(self) -> list[ProgrammeRecord]:
        """The programmes where the reader reads something (an administrator: every one), with their
        deadline, and the places and teams they may see."""
        with self.ctx.store.read() as s:
            teams, progs = self._seen(s)
            return [self._programme_record(s, p, teams) for p in programme_rows.every(s, progs)]

    def programme(self, name: str) -> ProgrammeRecord:
        """One programme, as :meth:`programmes` lists it."""
        with self.ctx.store.read() as s:
            teams, progs = self._seen(s)
            p = find(s, "programme", name)
            if progs is not None and not programme_rows.among(s, p.id, progs):
                self.ctx.require(s, "read", programme=p)  # refused: it names the grant needed
            return self._programme_record(s, p, teams)

    def _seen(self, s: Session) -> tuple[Any, Any]:
        """The teams and programmes the reader sees (subqueries; None: all): an administrator sees every
        programme and how many teams each has (not the teams: only those they read)."""
        if self.ctx.reach(s, "programmes").everything:
            return None, None
        return self.ctx.visible_teams(s), self.ctx.visible_programmes(s)

    def add_partner(self, name: str, programme: str, *, kind: str = "departement",
                    insee: str | None = None) -> ProgrammePartner:
        """A partner body (collectivité) of a programme; teams name theirs. ``insee``: its département
        code, which a Démarches Simplifiées form's "80 - Somme" is matched by."""
        name = validate.name(name, "partner")
        validate.choice(kind, PARTNER_KINDS, "partner kind")
        code = insee_code(insee)
        with self.ctx.store.write() as s:
            p = find(s, "programme", programme)
            self.ctx.require(s, "manage", programme=p)
            if programme_rows.partner_taken(s, p.id, name):
                raise Invalid(N_("{name!q} is already a partner of {programme!q}"), name=name, programme=p.name)
            _insee_free(s, p, code, name)
            self.new_partner(s, p, name, kind, code)
            return ProgrammePartner(name, p.name, kind, code)

    def new_partner(self, s: Session, programme: Programme, name: str, kind: str,
                    insee: str | None = None) -> Partner:
        """In the caller's transaction (``add_partner``, an import): a partner body already validated
        and checked absent, and its event."""
        partner = programme_rows.insert_partner(s, programme.id, name, kind)
        data = {"programme": programme.name, "partner": name, "kind": kind}
        if insee is not None:
            ds_rows.set_insee(s, programme.id, name, insee)
            data["insee"] = insee
        self.ctx.event(s, "partner.add", data=data)
        return partner

    def edit_partner(self, name: str, programme: str, *, insee: str | None) -> ProgrammePartner:
        """Give a partner body its INSEE département code (``insee`` None: take it away), audited."""
        code = insee_code(insee)
        with self.ctx.store.write() as s:
            p = find(s, "programme", programme)
            self.ctx.require(s, "manage", programme=p)
            partner = find(s, "partner", name, programme=p)
            if partner.insee != code:
                _insee_free(s, p, code, partner.name)
                ds_rows.set_insee(s, p.id, partner.name, code)
                self.ctx.event(s, "partner.edit", data={"programme": p.name, "partner": partner.name,
                                                        "insee": code, "was": partner.insee})
            return ProgrammePartner(partner.name, p.name, partner.kind, code)

    def add_person(self, name: str, email: str, roles: Sequence[str], *, channels: Sequence[str] | None = None,
                   lang: str | None = None, programme: str | None = None, partner: str | None = None) -> PersonRecord:
        """A person with their roles, and where and in which language their reminders go. A team role
        (coach, intrapreneur, sponsor) lets them be named on teams; a programme role is granted in
        ``programme`` (the instance's only one when not given), a partner reader's for ``partner``."""
        name = validate.name(name, "person")
        addr = validate.email(email)
        if not roles:
            raise Invalid(N_("give at least one role ({roles})"), code="needs_a_role", roles=", ".join(ROLES))
        roles = sorted({validate.choice(r, ROLES, "role") for r in roles})
        prefs = _preferences(channels, lang)
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            grants = self._grants_of(s, roles, programme, partner)
            _programme_needs_a_role(programme, grants)
            if people_rows.person_by_email(s, addr) is not None:
                raise Invalid(N_("a person with the e-mail {email} already exists"), email=addr)
            team_roles = [r for r in roles if r in MEMBER_ROLES]
            person = self.new_person(s, name, addr, team_roles, prefs, grants=[g for g, _p in grants])
            return self._person_record(s, person)

    def _grants_of(self, s: Session, roles: Iterable[str], programme: str | None,
                   partner: str | None) -> list[tuple[Grant, Programme | None]]:
        """The grants ``roles`` name (team roles aside), with their programme, each checked against what
        the actor may grant."""
        out = []
        for role in roles:
            if role in MEMBER_ROLES:
                continue
            g, p = self._grant_of(s, role, programme, partner)
            out.append((g, p))
        if partner is not None and not any(g.role == "partner" for g, _p in out):
            raise Invalid(N_("--partner goes with the role partner only"), code="partner_without_role")
        return out

    def _grant_of(self, s: Session, role: str, programme: str | None, partner: str | None, *,
                  revoking: bool = False) -> tuple[Grant, Programme | None]:
        """The grant of ``role`` in ``programme`` (and ``partner``; revoking: every partner body), once
        the actor may grant it."""
        if role in MEMBER_ROLES:
            raise Invalid(N_("{role} is a team role, held on teams: give it with person edit --add-role, then name "
                             "the person on a team"), code="team_role", role=role)
        if role == "admin":
            if programme is not None or partner is not None:
                raise Invalid(N_("admin is held in the whole instance: give no --programme"), code="admin_scope")
            self.ctx.require(s, "programmes")
            return Grant("admin"), None
        if programme is None:
            p = programme_rows.only(s)
            if p is None:
                raise Invalid(N_("{role} is held in a programme: give --programme"), code="needs_programme",
                              role=role)
        else:
            p = find(s, "programme", programme)
        action = permissions.grantor_action(role)
        # An instance-wide action (granting coordinators) is refused as a role missing, not a grant in p.
        instance_wide = set(permissions.TABLE[action].values()) == {permissions.INSTANCE}
        self.ctx.require(s, action, programme=None if instance_wide else p)
        body = None
        if role == "partner" and not revoking:
            if partner is None:
                raise Invalid(N_("a partner reader reads one partner body: give --partner"), code="needs_partner")
            body = find(s, "partner", partner, programme=p).id
        return Grant(role, p.id, body), p

    def new_person(self, s: Session, name: str, email: str, roles: Sequence[str],
                   prefs: dict[str, str] | None = None, *, grants: Sequence[Grant] = ()) -> Person:
        """In the caller's transaction (``add_person``, an import): a person already validated and
        checked absent, with their team roles (sorted), their grants and preferences (default:
        e-mail, French), and the event."""
        prefs = _preferences(None, None) if prefs is None else prefs
        person = people_rows.insert_person(s, roles, name=name, email=email, created_at=self.ctx.clock.now(), **prefs)
        for g in grants:
            people_rows.insert_grant(s, person.id, g)
        self.ctx.event(s, "person.add", data={"email": email, "roles": sorted([*roles, *(g.figure for g in grants)]),
                                              **prefs}, sealed={ROLES_FIGURE: [person.id]})
        return person

    def insert_people(self, s: Session, people: Sequence[tuple[str, str, Sequence[str]]]) -> dict[str, int]:
        """The batch path of :meth:`new_person` (an import): (name, e-mail, team roles) already validated
        and checked absent, with the default preferences; the same rows and events in a few statements.
        Returns each e-mail's new id."""
        if not people:
            return {}
        prefs = _preferences(None, None)
        now = self.ctx.clock.now()
        conn = s.connection()
        ids = people_rows.insert_people(conn, [{"name": n, "email": e, "login": None, "created_at": now, **prefs}
                                               for n, e, _r in people], [list(r) for _n, _e, r in people])
        events = [self.ctx.event_row("person.add", data={"email": e, "roles": list(r), **prefs}) for _n, e, r in people]
        events[-1]["sealed"] = {ROLES_FIGURE: ids}  # the batch's last event records every new person's roles: one read
        self.ctx.log_rows(conn, events)
        return {e: i for i, (_n, e, _r) in zip(ids, people)}

    def _person_record(self, s: Session, p: Person) -> PersonRecord:
        """A person as the actor may see them: their team roles, and their grants in the programmes the
        actor sees."""
        return self._records(s, [p])[0]

    def _records(self, s: Session, people: Sequence[Any]) -> list[PersonRecord]:
        """The people's records, with their grants in the programmes the reader sees something of (someone
        who reads nothing: their grants in the instance only)."""
        seen = None if self._reads_everyone(s) else people_rows.programme_filter(self.ctx.reach(s, "read"),
                                                                                 self.ctx.me(s).id)
        ids = [p.id for p in people]
        team_roles: dict[int, list[str]] = {}
        for pid, role in people_rows.team_roles(s, ids):
            team_roles.setdefault(pid, []).append(role)
        held: dict[int, list[GrantRecord]] = {}
        for pid, role, prog, body in people_rows.grants_shown(s, ids, seen):
            held.setdefault(pid, []).append(GrantRecord(role, prog, body))
        out = []
        for p in people:
            grants = held.get(p.id, [])
            roles = sorted({*team_roles.get(p.id, ()), *(g.role for g in grants)})
            out.append(PersonRecord(p.name, p.email, tuple(roles), tuple(p.channels.split(",")), p.lang,
                                    tuple(grants)))
        return out

    def _reads_everyone(self, s: Session) -> bool:
        """An administrator sees every person and every grant."""
        return self.ctx.reach(s, "programmes").everything

    def _people_seen(self, s: Session) -> Any:
        """A subquery of the ids of the people the reader sees (None: everyone): see
        :meth:`Context.visible_people`; one who manages somewhere also sees the people in no programme
        yet (a coach to name on a team), as they may edit them."""
        if self._reads_everyone(s):
            return None
        seen = self.ctx.visible_people(s)
        return people_rows.or_unplaced(seen) if self.ctx.reach(s, "manage").anything else seen

    def edit_person(self, email: str, *, name: str | None = None, add_roles: Iterable[str] = (),
                    remove_roles: Iterable[str] = (), channels: Sequence[str] | None = None,
                    lang: str | None = None, programme: str | None = None, partner: str | None = None,
                    mute: Iterable[str] = (), unmute: Iterable[str] = ()) -> PersonDetail:
        """Rename a person, change their roles (a programme role: in ``programme``, see :meth:`add_person`),
        where and in which language their reminders go, or which kinds of reminders they stop (``mute``)
        or receive again (``unmute``; a kind, or ``all``: see :mod:`workflow.services.mutes`)."""
        add_roles = {validate.choice(r, ROLES, "role") for r in add_roles}
        remove_roles = {validate.choice(r, ROLES, "role") for r in remove_roles}
        prefs = _preferences(channels, lang, defaults=False)
        mute, unmute = list(mute), list(unmute)
        if name is None and not add_roles and not remove_roles and not prefs and not mute and not unmute:
            raise Invalid(N_("nothing to change: give at least one change"), code="nothing_to_change",
                          command="person edit")
        with self.ctx.store.write() as s:
            p = self._editable(s, email)
            changes = dict(prefs) if name is None else {"name": validate.name(name, "person"), **prefs}
            grants = self._grants_of(s, add_roles, programme, partner)
            gone = [self._grant_of(s, r, programme, None, revoking=True) for r in remove_roles if r not in MEMBER_ROLES]
            _programme_needs_a_role(programme, grants + gone)
            roles = set(people_rows.team_roles_of(s, p.id))
            new_roles = (roles | (add_roles & set(MEMBER_ROLES))) - remove_roles
            kept = {g for g in people_rows.grants(s.connection(), p.id) if g.role not in MEMBER_ROLES
                    and not any(g.role == r.role and g.programme_id == r.programme_id for r, _p in gone)}
            if not new_roles and not kept and not grants:
                raise Invalid(N_("{email} would have no role left"), email=p.email)
            for role in (roles - new_roles) & set(MEMBER_ROLES):
                held = people_rows.held_teams(s, p.id, role, states.NON_TERMINAL)
                if held:
                    raise Invalid(N_("{email} is still {role} of {names}; replace them there first"),
                                  code="still_member", email=p.email, role=role, teams=held,
                                  names=", ".join(quote(n) for n in held))
            people_rows.update_person(s, p, changes, new_roles - roles, roles - new_roles)
            for g, _prog in grants:
                if not people_rows.grant_held(s, p.id, g):
                    people_rows.insert_grant(s, p.id, g)
            for g, prog in gone:
                self._take_away(s, p, g, prog)
            # After the grants: a coordinator granted here may not mute the deadline in the same edit.
            mutes = {"mute": sorted(set(mute)), "unmute": sorted(set(unmute))} if mute or unmute else {}
            if mutes:
                Mutes(self.ctx).change(s, p, mute, unmute)
            held = sorted(g.figure for g in people_rows.grants(s.connection(), p.id))
            self.ctx.event(s, "person.edit", data={"email": p.email, "name": name, "roles": held, **prefs, **mutes},
                           sealed={ROLES_FIGURE: [p.id]})
            return self._detail(s, p)

    def _editable(self, s: Session, email: str) -> Person:
        """A person the actor may change: not erased, and in no programme the actor does not manage."""
        self.ctx.require(s, "manage")
        p = find(s, "person", email)
        if p.erased_at is not None:  # their data is gone: they are nobody to give a role or a name to
            raise Invalid(N_("{email} was erased on {day!d}: an erased person cannot be edited; add the person "
                             "again if they come back"), code="person_erased", email=p.email,
                          day=paris(p.erased_at).date())
        self.ctx.require_person(s, "manage", p.id)
        return p

    def _take_away(self, s: Session, p: Person, g: Grant, prog: Programme | None) -> None:
        """Revoke ``g`` (in every partner body of its programme), keeping an administrator to the instance
        and a coordinator to each programme."""
        if not people_rows.delete_grants(s, p.id, g.role, g.programme_id):
            where = prog.name if prog is not None else None
            raise Invalid(N_("{email} does not hold {role} in {where!q}") if where else
                          N_("{email} does not hold {role}"), code="not_granted", email=p.email, role=g.role,
                          where=where)
        if g.role == "admin" and people_rows.grant_holders(s, "admin") < 1:
            raise Invalid(N_("the instance needs at least one administrator"), code="last_admin")
        if g.role == "coordinator" and people_rows.grant_holders(s, "coordinator", g.programme_id) < 1:
            raise Invalid(N_("{programme!q} needs at least one coordinator"), code="last_coordinator",
                          programme=prog.name if prog else "")

    def grant(self, email: str, role: str, programme: str | None = None, partner: str | None = None) -> PersonRecord:
        """Grant ``role`` in ``programme`` (admin: in the instance; partner: for ``partner``), audited.
        An administrator grants administrators and coordinators; a coordinator their programme's
        committee and partner readers."""
        role = validate.choice(role, permissions.INSTANCE_ROLES + permissions.PROGRAMME_ROLES, "role")
        if partner is not None and role != "partner":
            raise Invalid(N_("--partner goes with the role partner only"), code="partner_without_role")
        with self.ctx.store.write() as s:
            p = find(s, "person", email)
            if p.erased_at is not None:
                self._editable(s, email)  # refused: erased
            g, prog = self._grant_of(s, role, programme, partner)
            if people_rows.grant_held(s, p.id, g):
                raise Invalid(N_("{email} already holds this grant"), code="already_granted", email=p.email)
            self._grant(s, p, g, prog)
            return self._person_record(s, p)

    def _grant(self, s: Session, p: Person, g: Grant, prog: Programme | None) -> None:
        people_rows.insert_grant(s, p.id, g)
        self.ctx.event(s, "person.grant", data={"email": p.email, "role": g.role,
                                                "programme": prog.name if prog else None,
                                                "partner": people_rows.partner_name(s, g.partner_id)},
                       sealed={ROLES_FIGURE: [p.id]})

    def revoke(self, email: str, role: str, programme: str | None = None) -> PersonRecord:
        """Take ``role`` in ``programme`` (admin: in the instance) away from a person, audited."""
        role = validate.choice(role, permissions.INSTANCE_ROLES + permissions.PROGRAMME_ROLES, "role")
        with self.ctx.store.write() as s:
            p = find(s, "person", email)
            g, prog = self._grant_of(s, role, programme, None, revoking=True)
            self._take_away(s, p, g, prog)  # their last role may go: someone who leaves keeps their history
            self.ctx.event(s, "person.revoke", data={"email": p.email, "role": role,
                                                     "programme": prog.name if prog else None},
                           sealed={ROLES_FIGURE: [p.id]})
            return self._person_record(s, p)

    def person(self, email: str) -> PersonDetail:
        """One person and their grants, as far as the reader may see them, and the kinds of reminders they
        stopped (``person show``)."""
        with self.ctx.store.read() as s:
            p = find(s, "person", email)
            if self.ctx.me(s).id != p.id:
                seen = self._people_seen(s)
                if seen is not None and not people_rows.among_people(s, p.id, seen):
                    raise NotFound(N_("unknown person {person}"), code="unknown_person", person=p.email)
            return self._detail(s, p)

    def _detail(self, s: Session, p: Person) -> PersonDetail:
        return PersonDetail(*(getattr(self._person_record(s, p), f.name) for f in fields(PersonRecord)),
                            muted=mute_rows.kinds(s, p.id))

    def people(self, role: str | None = None) -> list[PersonRecord]:
        """The people the reader sees (an administrator: everyone; otherwise the members of the teams they
        read, those granted a role in their programmes, and, for one who manages, the people in no
        programme yet), with their roles (optionally one role)."""
        with self.ctx.store.read() as s:
            if role:
                validate.choice(role, ROLES, "role")
            rows = self._records(s, people_rows.directory(s, role, self._people_seen(s)))
            # a grant of ``role`` in a programme the reader does not see does not count
            return rows if not role else [p for p in rows if role in p.roles]

    def complete(self, kind: str, prefix: str = "", limit: int = 100) -> list[str]:
        """Names of ``kind`` (team, programme, person: e-mails) starting with ``prefix``, for shell
        completion: what the acting person may read, in order, one indexed range query."""
        if kind not in people_rows.NAME_COLUMNS:
            raise KeyError(kind)
        prefix = validate.lookup(prefix)
        with self.ctx.store.read() as s:
            among = None
            if kind == "team":
                among = self.ctx.visible_teams(s)
            elif kind == "person":
                among = self._people_seen(s)
            else:
                among = None if self._reads_everyone(s) else self.ctx.visible_programmes(s)
            return people_rows.names(s, kind, prefix, limit, among)

def _programme_needs_a_role(programme: str | None, grants: Sequence[Any]) -> None:
    """Refuse a ``--programme`` that no programme role given goes with (it would be silently ignored)."""
    if programme is not None and not grants:
        raise Invalid(N_("--programme goes with a programme role (coordinator, committee, partner) only"),
                      code="programme_without_role")


def _signatures(signed_on: date | Sequence[date]) -> list[date]:
    """The signature days, validated, in order: at least one, each once."""
    days = sorted([signed_on] if isinstance(signed_on, date) else signed_on)
    if not days:
        raise Invalid(N_("give the day the agreement was signed"), code="needs_a_signature")
    for d in days:
        validate.plausible_date(d, "signed on")
    twice = next((a for a, b in zip(days, days[1:]) if a == b), None)
    if twice is not None:
        raise Invalid(N_("the signature day {day!d} is given twice; give each signature once"),
                      code="signature_twice", day=twice)
    return days


def _check_nothing_before(s: Session, p: Programme, day: date) -> None:
    """Refuse to move an agreement's effect to ``day`` past an expense, a payment or a formal notice
    already recorded under it."""
    first = [(kind, when) for kind, when in programme_rows.first_acts(s, p.id).items()
             if when is not None and when < day]
    if first:
        kind, when = min(first, key=lambda kw: kw[1])
        what = {"expense": N_("expense"), "payment": N_("payment"), "notice": N_("formal notice")}[kind]
        raise Invalid(N_("{name!q} would take effect on {day!d}, after the first act recorded under it ({what!t} of "
                         "{when!d}); an agreement cannot take effect after what was done under it"),
                      code="signature_after_facts", name=p.name, day=day, what=what, when=when)


def _preferences(channels: Sequence[str] | None, lang: str | None, defaults: bool = True) -> dict[str, str]:
    """Reminder channels and language, validated; with ``defaults``, e-mail in French when not given."""
    prefs = {"channels": ["email"], "lang": DEFAULT_LANG} if defaults else {}
    if channels:
        prefs["channels"] = list(dict.fromkeys(validate.choice(c, CHANNELS, "channel") for c in channels))
    if lang:
        prefs["lang"] = validate.choice(lang, LANGS, "language")
    if "channels" in prefs:
        prefs["channels"] = ",".join(prefs["channels"])
    return prefs


_INSEE = re.compile(r"(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-6])")  # metropolitan, Corsica, overseas


def insee_code(raw: str | None) -> str | None:
    """A département's INSEE code as stored ("80", "2A", "971"; "1" and "2a" as "01" and "2A"), or Invalid."""
    if raw is None or not raw.strip():
        return None
    code = partner_rules.insee(raw)
    if code is None or not _INSEE.fullmatch(code):
        raise Invalid(N_("{value!q} is not a département's INSEE code: two digits (80), 2A or 2B, or 971 to 976"),
                      code="bad_insee", value=raw.strip()[:20])
    return code


def _insee_free(s: Session, programme: Programme, code: str | None, name: str) -> None:
    """Refuse a code another partner body of the programme has: a département would match either."""
    if code is None:
        return
    for _id, other, other_code in ds_rows.partners(s, programme.id):
        if other != name and other_code == code:
            raise Invalid(N_("{other!q} of {programme!q} already has the INSEE code {insee}"), code="insee_taken",
                          other=other, programme=programme.name, insee=code)
