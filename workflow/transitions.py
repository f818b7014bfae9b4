"""Transitions: may a team move (``check``), move it (``advance``), and what happened (``history``).

One ``advance`` reads the team and everything its guards need once, outside the write lock; then,
in ONE transaction under the programme's lock, it counts the places taken (only for a trigger
that needs room), fires the trigger (each guard evaluated once) and writes the new phase by
compare-and-swap on the team's version, the closed and opened phase periods, and the event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

import states
from workflow import validate
from workflow.context import Context, find
from workflow.deadlines import deadline
from workflow.errors import Invalid, Refused, quote
from workflow.models import Agreement, Assessment, Event, Partner, PhasePeriod, Programme, Team, TeamMember
from workflow.records import EventRecord
from workflow.teams import bump, event_record


def _needs_room(trigger: str) -> bool:
    t = states.TRIGGERS.get(trigger)
    return t is not None and any(g.name == "capacity" for g in t.guards)


def _occupied(s: Session, programme_id: int) -> int:
    return s.execute(select(sa.func.count()).where(Team.programme_id == programme_id,
                                                  Team.phase.in_(states.HOLDS_A_PLACE))).scalar_one()


@cache
def _view_query(count_taken: bool) -> sa.Select:
    """Everything the guards read of one team (``:team_id``), built once per process."""
    tm = TeamMember

    def members(role: str, *where: Any) -> Any:
        return (select(sa.func.count()).select_from(tm)
                .where(tm.team_id == Team.id, tm.role == role, *where).scalar_subquery())

    others = aliased(Team)
    taken = (select(sa.func.count()).select_from(others)
             .where(others.programme_id == Team.programme_id, others.phase.in_(states.HOLDS_A_PLACE))
             .scalar_subquery())
    return (select(Programme.name, Programme.kind, Programme.signed_on, Programme.months, Programme.capacity,
                   Programme.min_days_per_week, Partner.name, Assessment.team_id, Assessment.real, Assessment.major,
                   Assessment.actionable, members("intrapreneur"), members("coach"), members("sponsor"),
                   members("intrapreneur", tm.days_per_week.is_(None)),
                   select(sa.func.min(tm.days_per_week)).where(tm.team_id == Team.id, tm.role == "intrapreneur")
                   .scalar_subquery(),
                   select(sa.func.aggregate_strings(Agreement.party, ",")).where(Agreement.team_id == Team.id)
                   .scalar_subquery(),
                   taken if count_taken else sa.bindparam("taken", type_=sa.Integer))
            .select_from(Team).join(Programme, Programme.id == Team.programme_id)
            .outerjoin(Partner, Partner.id == Team.partner_id).outerjoin(Assessment, Assessment.team_id == Team.id)
            .where(Team.id == sa.bindparam("team_id")))


@dataclass(frozen=True)
class Transitions:
    """Moves between phases, through the one Machine of ``states``."""

    ctx: Context

    def view(self, s: Session, team: Team, *, occupied: int | None = None) -> states.TeamView:
        """The read-only view the guards judge, from ONE set-based query (``occupied``: the places
        taken in the programme, counted in it when not given)."""
        row = s.connection().execute(_view_query(occupied is None), {"team_id": team.id, "taken": occupied or 0}).one()
        (prog, kind, signed_on, months, capacity, min_days, partner, assessed, real, major, actionable,
         intrapreneurs, coaches, sponsors, unknown_days, least_days, agreed, held) = row
        return states.TeamView(
            name=team.name, phase=team.phase, today=self.ctx.clock.today(),
            programme=states.ProgrammeView(prog, kind, deadline(signed_on, months), capacity, held, min_days,
                                           states.KINDS[kind].requires_sponsor),
            problem=team.problem, partner=partner, intrapreneurs=intrapreneurs, coaches=coaches, sponsors=sponsors,
            min_days_per_week=None if not intrapreneurs or unknown_days else least_days,
            criteria={} if assessed is None else {"real": real, "major": major, "actionable": actionable},
            agreed=frozenset(agreed.split(",")) if agreed else frozenset(), poc_summary=team.poc_summary,
            committee_on=team.committee_on, committee_opinion=team.committee_opinion,
        )

    def check(self, team: str) -> dict:
        """Which triggers may fire now; for each blocked one, every unmet condition (``states.Unmet``:
        a code, its text in each language, and whether it is only missing)."""
        with self.ctx.store.read() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "read", t)
            available, blocked = states.check(self.view(s, t))
            return {
                "team": t.name, "phase": t.phase, "available": available,
                "needs_reason": [n for n in available if states.TRIGGERS[n].needs_reason],
                "blocked": blocked,
            }

    def advance(self, team: str, trigger: str, *, reason: str | None = None, force: bool = False) -> EventRecord:
        """Fire ``trigger``: new phase, phase history and audit event in one transaction; return the event.

        The team is read, then written under a lock with compare-and-swap on its version, so of two
        concurrent moves exactly one wins and the other raises ChangedMeanwhile. Every change to a
        team bumps its version, so what the guards read stays true if the swap succeeds; only the
        places taken in the programme (other teams) are counted again under the lock.
        """
        reason = validate.text(reason, "reason")
        if force and reason is None:
            raise Invalid("--force needs --reason: say why the rules are overridden",
                          "--force demande --reason : dites pourquoi les règles sont contournées",
                          code="force_needs_reason")
        room = _needs_room(trigger)
        with self.ctx.store.read() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "decide", t)
            view = self.view(s, t, occupied=0)  # counted under the lock below, when it counts
        with self.ctx.store.write() as s:
            # Serialise moves within a programme, so capacity is counted under the lock (PostgreSQL;
            # SQLite's BEGIN IMMEDIATE already serialises every writer).
            s.execute(select(Programme.id).where(Programme.id == t.programme_id).with_for_update())
            if room:
                view = replace(view, programme=replace(view.programme, occupied=_occupied(s, t.programme_id)))
            try:
                move = states.attempt(trigger, view, reason=reason, force=force)
            except states.InvalidTrigger as exc:
                valid = ", ".join(exc.valid) or "aucun (phase finale)"
                ph = states.PHASES[t.phase]
                raise Invalid(f"{exc} (team {quote(t.name)})",
                              f"déclencheur {quote(trigger)} impossible depuis la phase « {ph.fr} » ; possibles : {valid}",
                              code="invalid_trigger",
                              params={"team": t.name, "trigger": trigger, "phase": t.phase, "valid": exc.valid}) from None
            except states.Blocked as exc:
                raise Refused(f"{trigger} refused for {quote(t.name)}", f"{trigger} refusé pour {quote(t.name)}",
                              exc.unmet, team=t.name, trigger=trigger) from None
            now = self.ctx.clock.now()
            before = t.phase
            bump(s, t, phase=move.dest, phase_since=now)
            s.execute(sa.update(PhasePeriod).where(PhasePeriod.team_id == t.id, PhasePeriod.end.is_(None))
                      .values(end=now).execution_options(synchronize_session=False))
            s.add(PhasePeriod(team_id=t.id, phase=move.dest, start=now))
            overridden = [u.en for u in move.overridden]
            ev = self.ctx.event(s, "advance", t, trigger=trigger, from_phase=before, to_phase=move.dest,
                                reason=reason, forced=bool(overridden),
                                data={"overridden": overridden} if overridden else None)
            s.flush()
            return event_record(ev)

    def history(self, team: str) -> list[EventRecord]:
        """The team's audit trail, oldest first."""
        with self.ctx.store.read() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "read", t)
            return [event_record(e) for e in s.exec(select(Event).where(Event.team_id == t.id).order_by(Event.id))]
