"""Teams: their record (members, problem, criteria, agreements, proof of concept, committee), and
reading them (one team's record, the status of many)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

import states
from workflow import validate
from workflow.checkins import CheckIns
from workflow.clock import as_aware, paris
from workflow.context import Context, find, person_with_role
from workflow.deadlines import days_left, deadline
from workflow.errors import ChangedMeanwhile, Invalid, quote
from workflow.records import (
    Committee,
    CoachingRecord,
    EventRecord,
    Intrapreneur,
    Member,
    PhaseSpan,
    ProofOfConcept,
    TeamRecord,
    TeamRow,
)
from workflow.models import (
    Agreement,
    Assessment,
    Event,
    Partner,
    Person,
    PhasePeriod,
    Programme,
    Team,
    TeamMember,
    coach_emails,
    commitment,
)

MEMBER_ROLES = ("intrapreneur", "coach", "sponsor")


def iso(dt: datetime | None) -> str | None:
    """A stored datetime as the API shows it: Paris time, to the second."""
    return None if dt is None else paris(dt).isoformat(timespec="seconds")


def iso_date(d: date | None) -> str | None:
    """A date as the API shows it (ISO), or None."""
    return None if d is None else d.isoformat()


def changed(name: str) -> ChangedMeanwhile:
    """The error of a lost compare-and-swap: nothing was written, retrying is safe."""
    return ChangedMeanwhile(f"team {quote(name)} changed meanwhile, retry",
                            f"l'équipe {quote(name)} a changé entre-temps, réessayez",
                            code="changed_meanwhile", params={"team": name})


def bump(s: Session, team: Team, **values: Any) -> None:
    """The one compare-and-swap: write ``values`` and the next version only if the team is still at
    the version read, else ChangedMeanwhile. Every change to a team goes through it, so a concurrent
    transition sees it."""
    res = s.execute(sa.update(Team).where(Team.id == team.id, Team.version == team.version)
                    .values(version=team.version + 1, **values).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise changed(team.name)
    team.version += 1


def event_record(ev: Event) -> EventRecord:
    """An audit event as the API returns it (and ``history`` lists it)."""
    return EventRecord(iso(ev.at), ev.actor, ev.action, ev.trigger, ev.from_phase, ev.to_phase, ev.reason, ev.forced,
                       json.loads(ev.data) if ev.data else None)


@dataclass(frozen=True)
class Teams:
    """Creating and editing teams, and reading them; moves between phases are :class:`Transitions`'."""

    ctx: Context
    checkins: CheckIns

    def add_team(self, name: str, programme: str, partner: str, *, problem: str | None = None,
                 intrapreneurs: Iterable[str] = (), coach: str | None = None, sponsor: str | None = None,
                 days_per_week: float | None = None) -> TeamRecord:
        """A team, in the call for projects, with its members."""
        name = validate.name(name, "team")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            prog = find(s, "programme", programme)
            if s.exec(select(Team.id).where(Team.name == name)).first():
                raise Invalid(f"a team named {quote(name)} already exists", f"une équipe nommée {quote(name)} existe déjà")
            now = self.ctx.clock.now()
            team = Team(name=name, programme_id=prog.id, partner_id=find(s, "partner", partner, programme=prog).id,
                        problem=validate.text(problem, "problem"), phase=states.INITIAL, phase_since=now,
                        created_at=now)
            s.add(team)
            s.flush()
            s.add(PhasePeriod(team_id=team.id, phase=states.INITIAL, start=now))
            changes = self._members(s, team, intrapreneurs=intrapreneurs, coach=coach, sponsor=sponsor,
                                    days_per_week=days_per_week)
            self.ctx.event(s, "team.add", team, to_phase=states.INITIAL,
                        data={"programme": prog.name, "partner": partner, **changes})
            return self._team_record(s, team)

    def _members(self, s: Session, team: Team, *, intrapreneurs: Iterable[str] = (), remove: Iterable[str] = (),
                 coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> dict:
        """Apply membership changes; return what changed, for the audit trail."""
        changes: dict[str, Any] = {}
        if days_per_week is not None:
            days_per_week = validate.number(days_per_week, "--days-per-week", 0.5, 5)
        for addr in remove:
            p = find(s, "person", addr)
            m = s.get(TeamMember, (team.id, p.id, "intrapreneur"))
            if m is None:
                raise Invalid(f"{p.email} is not an intrapreneur of {quote(team.name)}",
                              f"{p.email} n'est pas intrapreneur de {quote(team.name)}")
            s.delete(m)
            changes.setdefault("intrapreneurs_removed", []).append(p.email)
        added = []
        for addr in intrapreneurs:
            p = person_with_role(s, addr, "intrapreneur")
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
            p = person_with_role(s, addr, role)
            s.execute(sa.delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.role == role))
            s.add(TeamMember(team_id=team.id, person_id=p.id, role=role))
            changes[role] = p.email
        s.flush()
        return changes

    def _open_team(self, s: Session, name: str, allowed: Sequence[str] | None = None, what: str = "",
                   action: str = "manage") -> Team:
        team = find(s, "team", name)
        self.ctx.require(s, action, team)
        if states.PHASES[team.phase].terminal or (allowed is not None and team.phase not in allowed):
            ph = states.PHASES[team.phase]
            en = ", ".join(allowed) if allowed else "a phase that is not final"
            fr = ", ".join(f"« {states.PHASES[a].fr} »" for a in allowed) if allowed else "une phase non finale"
            raise Invalid(f"cannot {what} {quote(team.name)} in phase {team.phase}; only in {en}",
                          f"impossible pour {quote(team.name)} ({what}) en phase « {ph.fr} » ; seulement en {fr}",
                          code="wrong_phase", params={"team": team.name, "phase": team.phase,
                                                      "allowed": list(allowed or [])})
        return team

    def edit_team(self, name: str, *, rename: str | None = None, partner: str | None = None,
                  problem: str | None = None, intrapreneurs: Iterable[str] = (), remove_intrapreneurs: Iterable[str] = (),
                  coach: str | None = None, sponsor: str | None = None, days_per_week: float | None = None) -> TeamRecord:
        """Change a team's record (not its phase); a concurrent move sees the bumped version."""
        intrapreneurs, remove_intrapreneurs = list(intrapreneurs), list(remove_intrapreneurs)
        with self.ctx.store.write() as s:
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
                team.partner_id = find(s, "partner", partner, programme=prog).id
                changes["partner"] = validate.lookup(partner)
            if problem is not None:
                team.problem = validate.text(problem, "problem")
                changes["problem"] = team.problem
            s.add(team)
            changes.update(self._members(s, team, intrapreneurs=intrapreneurs, remove=remove_intrapreneurs,
                                         coach=coach, sponsor=sponsor, days_per_week=days_per_week))
            if not changes:
                raise Invalid("nothing to change: give at least one option",
                              "rien à modifier : donnez au moins une option", code="nothing_to_change",
                              params={"command": "team edit"})
            bump(s, team)
            self.ctx.event(s, "team.edit", team, data=changes)
            return self._team_record(s, team)

    def assess(self, team: str, *, real: bool, major: bool, actionable: bool, note: str | None = None) -> EventRecord:
        """The three criteria of the selection: real, major, actionable (réel, majeur, actionnable)."""
        note = validate.text(note, "note")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), "assess", "decide")
            a = s.get(Assessment, t.id) or Assessment(team_id=t.id, actor=self.ctx.actor, at=self.ctx.clock.now())
            a.real, a.major, a.actionable, a.note = real, major, actionable, note
            a.at, a.actor = self.ctx.clock.now(), self.ctx.actor
            s.add(a)
            bump(s, t)
            ev = self.ctx.event(s, "assess", t, reason=note, data={"real": real, "major": major, "actionable": actionable})
            s.flush()
            return event_record(ev)

    def agree(self, team: str, party: str) -> EventRecord:
        """Record one party's agreement to select the team (both are needed: partner and operator)."""
        validate.choice(party, states.PARTIES, "party")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("call_for_projects", "selection"), "agree", "decide")
            if s.get(Agreement, (t.id, party)) is not None:
                raise Invalid(f"the {party} already agreed to {quote(t.name)}", f"la partie {party} a déjà donné son accord pour {quote(t.name)}")
            s.add(Agreement(team_id=t.id, party=party, at=self.ctx.clock.now(), actor=self.ctx.actor))
            bump(s, t)
            ev = self.ctx.event(s, "agree", t, data={"party": party})
            s.flush()
            return event_record(ev)

    def poc(self, team: str, summary: str, link: str | None = None) -> EventRecord:
        """The proof of concept the team will present (before the committee)."""
        summary = validate.text(summary, "summary")
        link = validate.url(link)
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), "record a proof of concept for")
            t.poc_summary, t.poc_link = summary, link
            s.add(t)
            bump(s, t)
            ev = self.ctx.event(s, "poc", t, data={"summary": summary, "link": link})
            s.flush()
            return event_record(ev)

    def committee(self, team: str, *, on: date | None = None, opinion: str | None = None) -> EventRecord:
        """The committee date (before presenting), then its opinion (once it has heard the team)."""
        if on is None and opinion is None:
            raise Invalid("give --on DATE, --opinion TEXT, or both", "donnez --on DATE, --opinion TEXT, ou les deux")
        opinion = validate.text(opinion, "opinion")
        with self.ctx.store.write() as s:
            t = self._open_team(s, team, ("investigation", "poc_committee"), "record the committee for",
                                "manage" if on is not None else "opinion")
            if on is not None and opinion is not None:
                self.ctx.require(s, "opinion", t)
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
            bump(s, t)
            ev = self.ctx.event(s, "committee", t, data=data)
            s.flush()
            return event_record(ev)

    def _team_record(self, s: Session, t: Team) -> TeamRecord:
        prog = s.get(Programme, t.programme_id)
        partner = s.get(Partner, t.partner_id) if t.partner_id else None
        due = deadline(prog.signed_on, prog.months)
        rows = s.execute(select(TeamMember.role, Person.name, Person.email, TeamMember.days_per_week)
                         .join(Person, Person.id == TeamMember.person_id)
                         .where(TeamMember.team_id == t.id).order_by(Person.name)).all()
        intrapreneurs = tuple(Intrapreneur(n, e, d) for (role, n, e, d) in rows if role == "intrapreneur")
        coaches = tuple(Member(n, e) for (role, n, e, _) in rows if role == "coach")
        sponsors = tuple(Member(n, e) for (role, n, e, _) in rows if role == "sponsor")
        a = s.get(Assessment, t.id)
        days = commitment([p.days_per_week for p in intrapreneurs])
        periods = s.exec(select(PhasePeriod).where(PhasePeriod.team_id == t.id).order_by(PhasePeriod.start, PhasePeriod.id)).all()
        return TeamRecord(
            name=t.name, programme=prog.name, partner=partner.name if partner else None,
            phase=t.phase, phase_since=iso(t.phase_since), deadline=due.isoformat(),
            days_left=None if states.PHASES[t.phase].terminal else days_left(due, self.ctx.clock.today()),
            coach=coaches[0].email if coaches else None, problem=t.problem,
            intrapreneurs=intrapreneurs, coaches=coaches, sponsors=sponsors,
            criteria={c: (getattr(a, c) if a else None) for c in states.CRITERIA},
            assessment_note=a.note if a else None,
            agreements=tuple(sorted(s.exec(select(Agreement.party).where(Agreement.team_id == t.id)).all())),
            poc=ProofOfConcept(t.poc_summary, t.poc_link),
            committee=Committee(iso_date(t.committee_on), t.committee_opinion),
            phases=tuple(PhaseSpan(p.phase, iso(p.start), iso(p.end)) for p in periods),
            coaching=_coaching(self.checkins.coaching_of(s, t, days)),
            version=t.version,
        )

    def team(self, name: str) -> TeamRecord:
        """One team's full record: members, criteria, agreements, phases, coaching."""
        with self.ctx.store.read() as s:
            t = find(s, "team", name)
            self.ctx.require(s, "read", t)
            return self._team_record(s, t)

    def status(self, programme: str | None = None, phase: str | None = None) -> list[TeamRow]:
        """One row per team, from one set-based query (no Machine, no query per team)."""
        return list(self.rows(programme, phase))

    def rows(self, programme: str | None = None, phase: str | None = None) -> Iterator[TeamRow]:
        """:meth:`status` streamed: rows are made as the cursor yields them, so a caller writing them
        out (``status --json``) never holds them all. Errors (unknown programme, permission) come at
        the first ``next``, before any row."""
        if phase is not None:
            validate.choice(phase, tuple(states.PHASES), "phase")
        coach = coach_emails()
        # Dates come as stored (no type processing per row), converted once per distinct value.
        raw = self.ctx.store.dialect == "sqlite"
        since_col = sa.type_coerce(Team.phase_since, sa.String) if raw else Team.phase_since
        signed_col = sa.type_coerce(Programme.signed_on, sa.String) if raw else Programme.signed_on
        q = (select(Team.id, Team.name, Programme.name, Partner.name, Team.phase, since_col, coach.c.email,
                    signed_col, Programme.months)
             .join(Programme, Programme.id == Team.programme_id)
             .outerjoin(Partner, Partner.id == Team.partner_id)
             .outerjoin(coach, coach.c.team_id == Team.id))
        today = self.ctx.clock.today()
        teams = select(Team.id)
        dues: dict[tuple[Any, int], tuple[str, date]] = {}
        shown: dict[Any, str | None] = {}
        terminal = states.TERMINAL
        drift = self.ctx.settings.missed_weeks
        with self.ctx.store.read() as s:
            if programme is not None:
                teams = teams.where(Team.programme_id == find(s, "programme", programme).id)
            if phase is not None:
                teams = teams.where(Team.phase == phase)
            mine = self.ctx.visible_teams(s)
            if mine is not None:
                teams = teams.where(Team.id.in_(mine))
            if teams.whereclause is not None:
                q = q.where(Team.id.in_(teams))
            marks = self.checkins.coaching_marks(s, teams)
            result = s.connection().execution_options(stream_results=True, yield_per=2000).execute(
                q.order_by(Programme.name, Team.name))
            nothing = (None, None)
            for tid, name, prog, partner, ph, since, coach_email, signed_on, months in result:
                due = dues.get((signed_on, months))
                if due is None:
                    d = deadline(date.fromisoformat(signed_on) if isinstance(signed_on, str) else signed_on, months)
                    due = dues[(signed_on, months)] = (d.isoformat(), d)
                since_iso = shown.get(since)
                if since_iso is None:
                    since_iso = shown[since] = _iso_stored(since)
                last, missing = marks.get(tid, nothing)
                yield TeamRow(name, prog, partner, ph, since_iso, coach_email, due[0],
                              None if ph in terminal else (due[1] - today).days,
                              None if last is None else last.isoformat(), missing,
                              missing is not None and missing >= drift)


def _coaching(c: dict[str, Any]) -> CoachingRecord:
    return CoachingRecord(**{**c, "weeks_missing": tuple(c["weeks_missing"])})


def _iso_stored(value: str | datetime | None) -> str | None:
    """A stored UTC datetime (SQLite gives its text) as :func:`iso` shows it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return iso(as_aware(value)) if value is not None else None
