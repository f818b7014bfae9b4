"""Teams: their record (members, problem, criteria, agreements, proof of concept, committee), and
reading them (one team's record here; the status of many is made in ``workflow.services.listing``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import states
from states.guards import PARTY_LABELS
from workflow.rules import validate
from workflow.services.checkins import CheckIns
from workflow.clock import paris
from workflow.context import Context, find, person_with_role
from workflow.store import ds as ds_rows
from workflow.store import teams as team_rows
from workflow.store.engine import Session
from workflow.rules.deadlines import days_left, deadline
from workflow.errors import N_, Invalid, Np_
from workflow.records import (
    Committee,
    CoachingRecord,
    DsOrigin,
    EventRecord,
    Intrapreneur,
    Member,
    PhaseSpan,
    ProofOfConcept,
    TeamRecord,
    TeamRow,
)
from workflow.store.models import Event, Partner, Programme, Team, commitment
from workflow.services.listing import collected, status_rows


def iso(dt: datetime | None) -> str | None:
    """A stored datetime as the API shows it: Paris time, to the second."""
    return None if dt is None else paris(dt).isoformat(timespec="seconds")


def iso_date(d: date | None) -> str | None:
    """A date as the API shows it (ISO), or None."""
    return None if d is None else d.isoformat()


_EVENT_FIELDS = ("at", "actor", "action", "trigger", "from_phase", "to_phase", "reason", "forced", "data")


def event_record(ev: Event | Mapping[str, Any]) -> EventRecord:
    """An audit event as the API returns it (and ``history`` lists it): a stored Event, or the row
    :meth:`Context.log` just wrote (no ORM object)."""
    get = ev.__getitem__ if isinstance(ev, Mapping) else ev.__getattribute__
    at, actor, action, trigger, from_, to, reason, forced, data = map(get, _EVENT_FIELDS)
    return EventRecord(iso(at), actor, action, trigger, from_, to, reason, forced, json.loads(data) if data else None)


@dataclass(frozen=True, slots=True)
class NewTeam:
    """A team for :meth:`Teams.insert_teams`, checked by the caller: its people as (id, e-mail)."""

    name: str
    partner_id: int
    partner: str  # as the caller named it (the event records it)
    problem: str | None
    intrapreneurs: tuple[tuple[int, str], ...]
    days_per_week: float | None
    coach: tuple[int, str] | None
    sponsor: tuple[int, str] | None


@dataclass(frozen=True)
class Teams:
    """Creating and editing teams, and reading them; moves between phases are :class:`Transitions`'."""

    ctx: Context
    checkins: CheckIns

    def add(self, name: str, programme: str, partner: str, *, problem: str | None = None,
                 intrapreneurs: Iterable[str] = (), coach: str | None = None, sponsor: str | None = None,
                 days_per_week: float | None = None) -> TeamRecord:
        """A team, in the call for projects, with its members."""
        name = validate.name(name, "team")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
            prog = find(s, "programme", programme)
            self.ctx.require(s, "manage", programme=prog)  # a coordinator adds teams to their programmes only
            if team_rows.name_taken(s, name):
                raise Invalid(N_("a team named {name!q} already exists"), name=name)
            team = self.new_team(s, prog, name, find(s, "partner", partner, programme=prog), problem=problem,
                                 intrapreneurs=intrapreneurs, coach=coach, sponsor=sponsor,
                                 days_per_week=days_per_week, partner_as_typed=partner)
            return self._team_record(s, team)

    def new_team(self, s: Session, prog: Programme, name: str, partner: Partner, *, problem: str | None = None,
                 intrapreneurs: Iterable[str] = (), coach: str | None = None, sponsor: str | None = None,
                 days_per_week: float | None = None, partner_as_typed: str | None = None) -> Team:
        """In the caller's transaction (``add``, an import): a team whose name is validated and
        free, in the call for projects, with its members (checked as ``add`` checks them) and its event."""
        team = team_rows.insert_team(s, name=name, programme_id=prog.id, partner_id=partner.id,
                                     problem=validate.text(problem, "problem"), phase=states.INITIAL,
                                     now=self.ctx.clock.now())
        changes = self._members(s, team, intrapreneurs=intrapreneurs, coach=coach, sponsor=sponsor,
                                days_per_week=days_per_week)
        self.ctx.event(s, "team.add", team, to_phase=states.INITIAL,
                       data={"programme": prog.name, "partner": partner_as_typed or partner.name, **changes})
        return team

    def insert_teams(self, s: Session, prog: Programme, teams: Sequence[NewTeam],
                     progress: Callable[[int], None] | None = None) -> None:
        """The batch path of :meth:`new_team` (an import): the same rows and events, a few statements per
        thousand teams. The caller has checked what :meth:`new_team` checks: names free, the partners
        and people found, each person holding the role; ``progress(n)`` as teams are written."""
        now = self.ctx.clock.now()
        conn = s.connection()
        for start in range(0, len(teams), 1000):
            chunk = teams[start:start + 1000]
            ids = team_rows.insert_teams(conn, [
                {"name": x.name, "programme_id": prog.id, "partner_id": x.partner_id, "problem": validate.text(x.problem, "problem"),
                 "phase": states.INITIAL, "phase_since": now, "version": 1, "created_at": now} for x in chunk])
            members: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for tid, x in zip(ids, chunk):
                days = None if x.days_per_week is None else validate.number(x.days_per_week, "--days-per-week", 0.5, 5)
                changes: dict[str, Any] = {}
                for pid, email in x.intrapreneurs:
                    members.append({"team_id": tid, "person_id": pid, "role": "intrapreneur", "days_per_week": days})
                    changes.setdefault("intrapreneurs", []).append(email)
                if days is not None:
                    changes["days_per_week"] = days
                for role, who in (("coach", x.coach), ("sponsor", x.sponsor)):
                    if who is not None:
                        members.append({"team_id": tid, "person_id": who[0], "role": role, "days_per_week": None})
                        changes[role] = who[1]
                events.append(self.ctx.event_row("team.add", tid, to_phase=states.INITIAL,
                                                 data={"programme": prog.name, "partner": x.partner, **changes}))
            team_rows.insert_periods(conn, [{"team_id": tid, "phase": states.INITIAL, "start": now, "end": None}
                                            for tid in ids])
            team_rows.insert_members(conn, members)
            self.ctx.log_rows(conn, events)
            if progress is not None:
                progress(len(chunk))

    def _members(self, s: Session, team: Team, *, intrapreneurs: Iterable[str] = (), remove: Iterable[str] = (),
                 coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> dict:
        """Apply membership changes; return what changed, for the audit trail."""
        changes: dict[str, Any] = {}
        if days_per_week is not None:
            days_per_week = validate.number(days_per_week, "--days-per-week", 0.5, 5)
        for addr in remove:
            p = find(s, "person", addr)
            m = team_rows.membership(s, team.id, p.id, "intrapreneur")
            if m is None:
                raise Invalid(N_("{email} is not an intrapreneur of {team!q}"), email=p.email, team=team.name)
            team_rows.remove_member(s, m)
            changes.setdefault("intrapreneurs_removed", []).append(p.email)
        added = []
        for addr in intrapreneurs:
            p = person_with_role(s, addr, "intrapreneur")
            m = team_rows.membership(s, team.id, p.id, "intrapreneur")
            added.append(m if m is not None else team_rows.add_member(s, team.id, p.id, "intrapreneur"))
            changes.setdefault("intrapreneurs", []).append(p.email)
        if days_per_week is not None:
            # The commitment applies to the intrapreneurs named now, or else to all of the team's.
            if not team_rows.set_commitment(s, team.id, added, days_per_week):
                raise Invalid(N_("a commitment in days per week needs an intrapreneur: name one"),
                              code="needs_intrapreneur")
            changes["days_per_week"] = days_per_week
        for role, addr in (("coach", coach), ("sponsor", sponsor)):
            if addr is None:
                continue
            p = person_with_role(s, addr, role)
            team_rows.replace_role(s, team.id, role, p.id)
            changes[role] = p.email
        team_rows.flush(s)
        return changes

    def _open_team(self, s: Session, name: str, allowed: Sequence[str] | None = None, what: str = "",
                   action: str = "manage") -> Team:
        team = find(s, "team", name)
        self.ctx.require(s, action, team)
        if states.PHASES[team.phase].terminal or (allowed is not None and team.phase not in allowed):
            params = {"team": team.name, "phase": team.phase, "allowed": list(allowed or []), "what": what,
                      "label": states.PHASES[team.phase].label}
            if not allowed:  # refused for being in a final phase
                raise Invalid(N_("cannot {what!t} {team!q}: it is in a final phase, “{label!t}”"), code="wrong_phase",
                              **params)
            labels = [states.PHASES[a].label for a in allowed]
            raise Invalid(Np_("cannot {what!t} {team!q} in the phase “{label!t}”; only in “{last!t}”",
                              "cannot {what!t} {team!q} in the phase “{label!t}”; only in “{first!t}” or “{last!t}”"),
                          code="wrong_phase", **params, n=len(labels), first=labels[0], last=labels[-1])
        return team

    def edit(self, name: str, *, rename: str | None = None, partner: str | None = None,
                  problem: str | None = None, intrapreneurs: Iterable[str] = (), remove_intrapreneurs: Iterable[str] = (),
                  coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> TeamRecord:
        """Change a team's record (not its phase); a concurrent move sees the bumped version."""
        intrapreneurs, remove_intrapreneurs = list(intrapreneurs), list(remove_intrapreneurs)
        with self.ctx.store.write() as s:
            team = self._open_team(s, name, what=N_("edit"))
            changes: dict[str, Any] = {}
            if rename is not None:
                new = validate.name(rename, "team")
                if new != team.name and team_rows.name_taken(s, new):
                    raise Invalid(N_("a team named {name!q} already exists"), name=new)
                changes["name"] = [team.name, new]
                team_rows.update(s, team, name=new)
            if partner is not None:
                prog = team_rows.programme_of(s, team)
                team_rows.update(s, team, partner_id=find(s, "partner", partner, programme=prog).id)
                changes["partner"] = validate.lookup(partner)
            if problem is not None:
                changes["problem"] = validate.text(problem, "problem")
                team_rows.update(s, team, problem=changes["problem"])
            changes.update(self._members(s, team, intrapreneurs=intrapreneurs, remove=remove_intrapreneurs,
                                         coach=coach, sponsor=sponsor, days_per_week=days_per_week))
            if not changes:
                raise Invalid(N_("nothing to change: give at least one change"), code="nothing_to_change",
                              command="team edit")
            team_rows.bump(s, team)
            self.ctx.event(s, "team.edit", team, data=changes)
            return self._team_record(s, team)

    def assess(self, team: str, *, real: bool, major: bool, actionable: bool, note: str | None = None) -> EventRecord:
        """The three criteria of the selection: real, major, actionable (réel, majeur, actionnable)."""
        note = validate.text(note, "note")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), N_("assess"), "decide")
            team_rows.assess(s, t.id, self.ctx.clock.now(), self.ctx.actor, real=real, major=major,
                             actionable=actionable, note=note)
            team_rows.bump(s, t)
            ev = self.ctx.event(s, "assess", t, reason=note, data={"real": real, "major": major, "actionable": actionable})
            return event_record(ev)

    def agree(self, team: str, party: str) -> EventRecord:
        """Record one party's agreement to select the team (both are needed: partner and operator)."""
        validate.choice(party, states.PARTIES, "party")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), N_("record an agreement for"), "decide")
            if team_rows.agreed(s, t.id, party):
                raise Invalid(N_("{party_label!t} already agreed to {team!q}"), party=party,
                              party_label=PARTY_LABELS[party], team=t.name)
            team_rows.add_agreement(s, t.id, party, self.ctx.clock.now(), self.ctx.actor)
            team_rows.bump(s, t)
            ev = self.ctx.event(s, "agree", t, data={"party": party})
            return event_record(ev)

    def poc(self, team: str, summary: str, link: str | None = None) -> EventRecord:
        """The proof of concept the team will present (before the committee)."""
        summary = validate.text(summary, "summary")
        link = validate.url(link)
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), N_("record a proof of concept for"))
            team_rows.update(s, t, poc_summary=summary, poc_link=link)
            team_rows.bump(s, t)
            ev = self.ctx.event(s, "poc", t, data={"summary": summary, "link": link})
            return event_record(ev)

    def committee(self, team: str, *, on: date | None = None, opinion: str | None = None) -> EventRecord:
        """The committee date (before presenting), then its opinion (once it has heard the team)."""
        if on is None and opinion is None:
            raise Invalid(N_("give the committee's date, its opinion, or both"), code="needs_date_or_opinion")
        opinion = validate.text(opinion, "opinion")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), N_("record the committee for"),
                                "manage" if on is not None else "opinion")
            if on is not None and opinion is not None:
                self.ctx.require(s, "opinion", t)
            data: dict[str, Any] = {}
            values: dict[str, Any] = {}
            if on is not None:
                values["committee_on"] = validate.plausible_date(on, "committee date")
                data["on"] = on.isoformat()
            if opinion is not None:
                if t.phase != "poc_committee":
                    raise Invalid(N_("the committee's opinion comes once {team!q} has presented (trigger “present”)"),
                                  team=t.name, trigger="present")
                values["committee_opinion"] = opinion
                data["opinion"] = opinion
            team_rows.update(s, t, **values)
            team_rows.bump(s, t)
            ev = self.ctx.event(s, "committee", t, data=data)
            return event_record(ev)

    def _team_record(self, s: Session, t: Team) -> TeamRecord:
        prog = team_rows.programme_of(s, t)
        partner = team_rows.partner_of(s, t)
        due = deadline(prog.signed_on, prog.months)
        rows = team_rows.people_of(s, t.id)
        intrapreneurs = tuple(Intrapreneur(n, e, d) for (role, n, e, d) in rows if role == "intrapreneur")
        coaches = tuple(Member(n, e) for (role, n, e, _) in rows if role == "coach")
        sponsors = tuple(Member(n, e) for (role, n, e, _) in rows if role == "sponsor")
        a = team_rows.assessment(s, t.id)
        days = commitment([p.days_per_week for p in intrapreneurs])
        periods = team_rows.periods(s, t.id)
        return TeamRecord(
            name=t.name, programme=prog.name, partner=partner.name if partner else None,
            phase=t.phase, phase_since=iso(t.phase_since), deadline=due.isoformat(),
            days_left=None if states.PHASES[t.phase].terminal else days_left(due, self.ctx.clock.today()),
            coach=coaches[0].email if coaches else None, problem=t.problem,
            intrapreneurs=intrapreneurs, coaches=coaches, sponsors=sponsors,
            criteria={c: (getattr(a, c) if a else None) for c in states.CRITERIA},
            assessment_note=a.note if a else None,
            agreements=tuple(team_rows.agreements(s, t.id)),
            poc=ProofOfConcept(t.poc_summary, t.poc_link),
            committee=Committee(iso_date(t.committee_on), t.committee_opinion),
            phases=tuple(PhaseSpan(p.phase, iso(p.start), iso(p.end)) for p in periods),
            coaching=_coaching(self.checkins.coaching_of(s, t, days)),
            version=t.version,
            ds=_ds_origin(ds_rows.of_team(s, t.id)),
        )

    def show(self, name: str) -> TeamRecord:
        """One team's full record: members, criteria, agreements, phases, coaching."""
        with self.ctx.store.read() as s:
            t = find(s, "team", name)
            self.ctx.require(s, "read", t)
            return self._team_record(s, t)

    def status(self, programme: str | None = None, phase: str | None = None) -> list[TeamRow]:
        """One row per team, from a few set-based queries (no Machine, no query per team)."""
        return collected(self.rows(programme, phase))

    def rows(self, programme: str | None = None, phase: str | None = None) -> Iterator[TeamRow]:
        """:meth:`status` streamed (``workflow.services.listing``): rows made as the cursor yields them, so a
        caller writing them out (``status --json``) never holds them all. Errors (unknown programme,
        permission) come at the first ``next``, before any row."""
        return status_rows(self.ctx, programme, phase)


def _ds_origin(row: Any) -> DsOrigin | None:
    if row is None:
        return None
    return DsOrigin(row.demarche, row.number, row.state, iso(row.updated_at), iso(row.deleted_at))


def _coaching(c: dict[str, Any]) -> CoachingRecord:
    return CoachingRecord(**{**c, "weeks_missing": tuple(c["weeks_missing"])})
