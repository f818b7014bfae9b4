"""The directory: programmes, their partner bodies (collectivités), and people with their roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import states
from notifications import CHANNELS
from notifications.i18n import DEFAULT_LANG, LANGS
from workflow.rules import permissions
from workflow.rules import validate
from workflow.clock import paris
from workflow.context import SYSTEM, Context, find
from workflow.store import people as people_rows
from workflow.store import programmes as programme_rows
from workflow.store.engine import Session
from workflow.store.events import ROLES_FIGURE
from workflow.rules.deadlines import days_left, deadline
from workflow.errors import N_, Invalid, quote
from workflow.store.models import Partner, Person, Programme
from workflow.records import PartnerRecord, PersonRecord, ProgrammePartner, ProgrammeRecord

PROGRAMME_KINDS = tuple(states.PROGRAMME_KINDS)
PARTNER_KINDS = states.PARTNER_KINDS
ROLES = permissions.ROLES
MEMBER_ROLES = ("intrapreneur", "coach", "sponsor")


@dataclass(frozen=True)
class Directory:
    """Who and what the teams belong to; every change is checked against the permission table and audited."""

    ctx: Context

    def bootstrap(self) -> None:
        """On a store with nobody in it yet, record the acting person as its first coordinator, so
        whoever runs ``init`` (or ``demo``) is never locked out."""
        ctx = self.ctx
        with ctx.store.write() as s:
            if people_rows.anyone(s):
                return
            if ctx.actor.endswith(SYSTEM):
                login = ctx.actor[: -len(SYSTEM)]
                who = {"name": login, "email": f"{login}@localhost", "login": login}
            else:
                who = {"name": ctx.actor.split("@")[0], "email": ctx.actor}
            person = people_rows.insert_person(s, ["coordinator"], created_at=ctx.clock.now(), **who)
            ctx.event(s, "person.add", data={"email": person.email, "roles": ["coordinator"], "first": True},
                      sealed={ROLES_FIGURE: [person.id]})

    def add_programme(self, name: str, signed_on: date | Sequence[date], *, kind: str = "preincubation",
                      months: int | None = None, capacity: int | None = None,
                      min_days_per_week: float | None = None) -> ProgrammeRecord:
        """A programme; its numbers default to its kind's (docs/domain.md). ``signed_on`` is one signature or
        several (seed 2 was signed on 23 and 31 October 2019): the agreement takes effect at the last."""
        name = validate.name(name, "programme")
        rules = states.PROGRAMME_KINDS[validate.choice(kind, PROGRAMME_KINDS, "programme kind")]
        signatures = _signatures(signed_on)
        months = int(validate.number(rules.months if months is None else months, "--months", 1, 24, integer=True))
        capacity = int(validate.number(rules.capacity if capacity is None else capacity, "--capacity", 1, 1000, integer=True))
        mind = validate.number(rules.min_days_per_week if min_days_per_week is None else min_days_per_week,
                               "--min-days-per-week", 0.5, 5)
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            if programme_rows.name_taken(s, name):
                raise Invalid(N_("a programme named {name!q} already exists"), name=name)
            p = programme_rows.insert(s, signatures, name=name, kind=kind, signed_on=signatures[-1], months=months,
                                      capacity=capacity, min_days_per_week=mind, created_at=self.ctx.clock.now())
            self.ctx.event(s, "programme.add", data={"programme": name, "kind": kind,
                                                     "signed_on": [d.isoformat() for d in signatures]})
            return self._programme_record(s, p)

    def sign_programme(self, name: str, signed_on: date) -> ProgrammeRecord:
        """One more signature of a programme's agreement (a party that signed later): when it is the
        last, the agreement takes effect on it, and the deadline moves with it, unless money was
        already paid or spent, or a formal notice sent, before that day (those are facts of the
        agreement in force: they cannot precede it)."""
        (day,) = _signatures(signed_on)
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            p = find(s, "programme", name)
            if programme_rows.signed(s, p.id, day):
                raise Invalid(N_("a signature of {name!q} on {day!d} is already recorded"), code="signature_recorded",
                              name=p.name, day=day)
            if day > p.signed_on:
                _check_nothing_before(s, p, day)
            programme_rows.add_signature(s, p, day)
            self.ctx.event(s, "programme.sign", data={"programme": p.name, "signed_on": day.isoformat(),
                                                      "takes_effect": p.signed_on.isoformat()})
            return self._programme_record(s, p)

    def _programme_record(self, s: Session, p: Programme) -> ProgrammeRecord:
        due = deadline(p.signed_on, p.months)
        signatures = programme_rows.signatures(s, p.id)
        counts = programme_rows.teams_by_phase(s, p.id)
        partners = programme_rows.partners(s, p.id)
        return ProgrammeRecord(
            name=p.name, kind=p.kind, signed_on=p.signed_on.isoformat(),
            signatures=tuple(d.isoformat() for d in signatures), months=p.months,
            deadline=due.isoformat(), days_left=days_left(due, self.ctx.clock.today()),
            expired=due < self.ctx.clock.today(),
            capacity=p.capacity, places_taken=sum(counts.get(ph, 0) for ph in states.HOLDS_A_PLACE),
            min_days_per_week=p.min_days_per_week,
            partners=tuple(PartnerRecord(x.name, x.kind) for x in partners),
            teams=sum(counts.values()),
            teams_by_phase={ph: counts[ph] for ph in states.PHASES if ph in counts},
        )

    def programmes(self) -> list[ProgrammeRecord]:
        """Every programme, with its deadline and places taken: anyone who reads a team sees them."""
        with self.ctx.store.read() as s:
            self.ctx.require_reader(s)
            return [self._programme_record(s, p) for p in programme_rows.every(s)]

    def programme(self, name: str) -> ProgrammeRecord:
        """One programme, as :meth:`programmes` lists it."""
        with self.ctx.store.read() as s:
            self.ctx.require_reader(s)
            return self._programme_record(s, find(s, "programme", name))

    def add_partner(self, name: str, programme: str, *, kind: str = "departement") -> ProgrammePartner:
        """A partner body (collectivité) of a programme; teams name theirs."""
        name = validate.name(name, "partner")
        validate.choice(kind, PARTNER_KINDS, "partner kind")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            p = find(s, "programme", programme)
            if programme_rows.partner_taken(s, p.id, name):
                raise Invalid(N_("{name!q} is already a partner of {programme!q}"), name=name, programme=p.name)
            self.new_partner(s, p, name, kind)
            return ProgrammePartner(name, p.name, kind)

    def new_partner(self, s: Session, programme: Programme, name: str, kind: str) -> Partner:
        """In the caller's transaction (``add_partner``, an import): a partner body already validated
        and checked absent, and its event."""
        partner = programme_rows.insert_partner(s, programme.id, name, kind)
        self.ctx.event(s, "partner.add", data={"programme": programme.name, "partner": name, "kind": kind})
        return partner

    def add_person(self, name: str, email: str, roles: Sequence[str], *, channels: Sequence[str] | None = None,
                   lang: str | None = None) -> PersonRecord:
        """A person with their roles, and where and in which language their reminders go."""
        name = validate.name(name, "person")
        addr = validate.email(email)
        if not roles:
            raise Invalid(N_("give at least one role ({roles})"), code="needs_a_role", roles=", ".join(ROLES))
        roles = sorted({validate.choice(r, ROLES, "role") for r in roles})
        prefs = _preferences(channels, lang)
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            if people_rows.person_by_email(s, addr) is not None:
                raise Invalid(N_("a person with the e-mail {email} already exists"), email=addr)
            person = self.new_person(s, name, addr, roles, prefs)
            return self._person_record(person, roles)

    def new_person(self, s: Session, name: str, email: str, roles: Sequence[str],
                   prefs: dict[str, str] | None = None) -> Person:
        """In the caller's transaction (``add_person``, an import): a person already validated and
        checked absent, with their roles (sorted) and preferences (default: e-mail, French), and the event."""
        prefs = _preferences(None, None) if prefs is None else prefs
        person = people_rows.insert_person(s, roles, name=name, email=email, created_at=self.ctx.clock.now(), **prefs)
        self.ctx.event(s, "person.add", data={"email": email, "roles": list(roles), **prefs}, sealed={ROLES_FIGURE: [person.id]})
        return person

    def insert_people(self, s: Session, people: Sequence[tuple[str, str, Sequence[str]]]) -> dict[str, int]:
        """The batch path of :meth:`new_person` (an import): (name, e-mail, roles) already validated and
        checked absent, with the default preferences; the same rows and events in a few statements.
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

    @staticmethod
    def _person_record(p: Person, roles: Iterable[str]) -> PersonRecord:
        return PersonRecord(p.name, p.email, tuple(sorted(roles)), tuple(p.channels.split(",")), p.lang)

    def edit_person(self, email: str, *, name: str | None = None, add_roles: Iterable[str] = (),
                    remove_roles: Iterable[str] = (), channels: Sequence[str] | None = None,
                    lang: str | None = None) -> PersonRecord:
        """Rename a person, change their roles, or where and in which language their reminders go."""
        add_roles = {validate.choice(r, ROLES, "role") for r in add_roles}
        remove_roles = {validate.choice(r, ROLES, "role") for r in remove_roles}
        prefs = _preferences(channels, lang, defaults=False)
        if name is None and not add_roles and not remove_roles and not prefs:
            raise Invalid(N_("nothing to change: give at least one change"), code="nothing_to_change",
                          command="person edit")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            p = find(s, "person", email)
            if p.erased_at is not None:  # their data is gone: they are nobody to give a role or a name to
                raise Invalid(N_("{email} was erased on {day!d}: an erased person cannot be edited; add the person "
                                 "again if they come back"), code="person_erased", email=p.email,
                              day=paris(p.erased_at).date())
            changes = dict(prefs) if name is None else {"name": validate.name(name, "person"), **prefs}
            roles = set(people_rows.roles(s, p.id))
            new_roles = (roles | add_roles) - remove_roles
            if not new_roles:
                raise Invalid(N_("{email} would have no role left"), email=p.email)
            for role in (roles - new_roles) & set(MEMBER_ROLES):
                held = people_rows.held_teams(s, p.id, role, states.NON_TERMINAL)
                if held:
                    raise Invalid(N_("{email} is still {role} of {names}; replace them there first"),
                                  code="still_member", email=p.email, role=role, teams=held,
                                  names=", ".join(quote(n) for n in held))
            if "coordinator" in roles - new_roles and people_rows.holding(s, "coordinator") < 2:
                raise Invalid(N_("the store needs at least one coordinator"))
            people_rows.update_person(s, p, changes, new_roles - roles, roles - new_roles)
            self.ctx.event(s, "person.edit", data={"email": p.email, "name": name, "roles": sorted(new_roles), **prefs},
                           sealed={ROLES_FIGURE: [p.id]})
            return self._person_record(p, new_roles)

    def people(self, role: str | None = None) -> list[PersonRecord]:
        """Everyone with their roles (optionally one role): for those who read every team."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "read")  # names and e-mails of everyone: those who read every team
            if role:
                validate.choice(role, ROLES, "role")
            out: dict[str, tuple[str, list[str], str, str]] = {}
            for n, e, r, ch, lg in people_rows.directory(s, role):
                out.setdefault(e, (n, [], ch, lg))[1].append(r)
            return [PersonRecord(n, e, tuple(rs), tuple(ch.split(",")), lg) for e, (n, rs, ch, lg) in out.items()]

    def complete(self, kind: str, prefix: str = "", limit: int = 100) -> list[str]:
        """Names of ``kind`` (team, programme, person: e-mails) starting with ``prefix``, for shell
        completion: what the acting person may read, in order, one indexed range query."""
        if kind not in people_rows.NAME_COLUMNS:
            raise KeyError(kind)
        prefix = validate.lookup(prefix)
        with self.ctx.store.read() as s:
            mine = None
            if kind == "team":
                mine = self.ctx.visible_teams(s)
            elif kind == "person":
                self.ctx.require(s, "read")  # everyone's e-mail: those who read every team
            else:
                self.ctx.require_reader(s)
            return people_rows.names(s, kind, prefix, limit, mine)

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


