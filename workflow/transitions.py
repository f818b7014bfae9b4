"""Transitions: may a team move (``check``), move it (``advance``), and what happened (``history``).

One ``advance`` reads the team and everything its guards need once, outside the write lock; then,
in ONE transaction under the programme's lock, it counts the places taken (only for a trigger
that needs room), fires the trigger (each guard evaluated once) and writes the new phase by
compare-and-swap on the team's version, the closed and opened phase periods, and the event. On
SQLite every one of these statements runs through the driver's cursor (``workflow.direct``).
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
from workflow.context import Context, TeamRef, find
from workflow.deadlines import deadline
from workflow.direct import direct_read
from notifications.i18n import text
from workflow.errors import N_, Invalid, Refused
from workflow.models import Agreement, Assessment, Event, Partner, PhasePeriod, Programme, Team, TeamMember
from workflow.records import CheckRecord, EventRecord
from workflow.teams import event_record, swap


def _needs_room(trigger: str) -> bool:
    t = states.TRIGGERS.get(trigger)
    return t is not None and any(g.name == "capacity" for g in t.guards)


# The places taken in a programme, counted under the write lock (built once, as every statement below).
_OCCUPIED = select(sa.func.count()).where(Team.programme_id == sa.bindparam("programme_id"),
                                          Team.phase.in_(states.HOLDS_A_PLACE))


# What ``advance`` writes, through Core (no ORM object built and thrown away), each built once.
_LOCK_PROGRAMME = select(Programme.id).where(Programme.id == sa.bindparam("programme_id")).with_for_update()
_PERIOD = PhasePeriod.__table__
_CLOSE_PERIOD = (sa.update(_PERIOD).where(_PERIOD.c.team_id == sa.bindparam("period_team"), _PERIOD.c.end.is_(None))
                 .values(end=sa.bindparam("period_end")))
_OPEN_PERIOD = sa.insert(_PERIOD)


@cache
def _view_query(count_taken: bool) -> sa.Select:
    """The team named ``:name`` and everything its guards read, in one query built once per process."""
    tm = TeamMember

    def members(role: str, *where: Any) -> Any:
        return (select(sa.func.count()).select_from(tm)
                .where(tm.team_id == Team.id, tm.role == role, *where).scalar_subquery())

    others = aliased(Team)
    taken = (select(sa.func.count()).select_from(others)
             .where(others.programme_id == Team.programme_id, others.phase.in_(states.HOLDS_A_PLACE))
             .scalar_subquery())
    return (select(Team.id, Team.name, Team.phase, Team.version, Team.programme_id, Team.problem, Team.poc_summary,
                   Team.committee_on, Team.committee_opinion,
                   Programme.name, Programme.kind, Programme.signed_on, Programme.months, Programme.capacity,
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
            .where(Team.name == sa.bindparam("name")))


@dataclass(frozen=True)
class Transitions:
    """Moves between phases, through the one Machine of ``states``."""

    ctx: Context

    def read(self, s: Session, team: str, action: str, *, occupied: int | None = None,
             conn: Any = None) -> tuple[TeamRef, states.TeamView]:
        """The team, once the actor may ``action`` it, and the read-only view its guards judge, from
        ONE set-based query and no ORM object (``occupied``: the places taken in the programme,
        counted in it when not given; ``conn``: what runs the query, the session's connection unless
        given, as ``advance`` gives ``workflow.direct``'s)."""
        run = conn if conn is not None else s.connection()
        row = run.execute(_view_query(occupied is None),
                          {"name": validate.lookup(team), "taken": occupied or 0}).first()
        if row is None:
            find(s, "team", team)  # NotFound, in its words
            return self.read(s, team, action, occupied=occupied, conn=conn)  # created meanwhile
        (tid, name, phase, version, programme_id, problem, poc_summary, committee_on, committee_opinion, prog, kind,
         signed_on, months, capacity, min_days, partner, assessed, real, major, actionable, intrapreneurs, coaches,
         sponsors, unknown_days, least_days, agreed, held) = row
        t = TeamRef(tid, name, phase, version, programme_id)
        self.ctx.require(s, action, t)
        return t, states.TeamView(
            name=name, phase=phase, today=self.ctx.clock.today(),
            programme=states.ProgrammeView(prog, kind, deadline(signed_on, months), capacity, held, min_days,
                                           states.KINDS[kind].requires_sponsor),
            problem=problem, partner=partner, intrapreneurs=intrapreneurs, coaches=coaches, sponsors=sponsors,
            min_days_per_week=None if not intrapreneurs or unknown_days else least_days,
            criteria={} if assessed is None else {"real": real, "major": major, "actionable": actionable},
            agreed=frozenset(agreed.split(",")) if agreed else frozenset(), poc_summary=poc_summary,
            committee_on=committee_on, committee_opinion=committee_opinion,
        )

    def check(self, team: str) -> CheckRecord:
        """Which triggers may fire now; for each blocked one, every unmet condition (``states.Unmet``:
        a code, its message and params, and whether it is only missing)."""
        with self.ctx.store.read() as s:
            t, view = self.read(s, team, "read")
            available, blocked = states.check(view)
            return CheckRecord(available=tuple(available), blocked={k: tuple(v) for k, v in blocked.items()},
                               team=t.name, phase=t.phase,
                               needs_reason=tuple(n for n in available if states.TRIGGERS[n].needs_reason))

    def advance(self, team: str, trigger: str, *, reason: str | None = None, force: bool = False) -> EventRecord:
        """Fire ``trigger``: new phase, phase history and audit event in one transaction; return the event.

        The team is read, then written under a lock with compare-and-swap on its version, so of two
        concurrent moves exactly one wins and the other raises ChangedMeanwhile. Every change to a
        team bumps its version, so what the guards read stays true if the swap succeeds; only the
        places taken in the programme (other teams) are counted again under the lock. On SQLite the
        statements run through the driver's cursor (``workflow.direct``): SQLAlchemy's execution
        path was most of an advance.
        """
        reason = validate.text(reason, "reason")
        if force and reason is None:
            raise Invalid(N_("forcing a move needs a reason: say why the rules are overridden"),
                          code="force_needs_reason")
        room = _needs_room(trigger)
        store = self.ctx.store
        with store.read() as s:
            # The places taken are counted under the lock below, when they count.
            t, view = self.read(s, team, "decide", occupied=0, conn=direct_read(store))
        with store.direct_write() as conn:
            # Serialise moves within a programme, so capacity is counted under the lock (PostgreSQL;
            # SQLite's BEGIN IMMEDIATE already serialises every writer).
            if store.dialect != "sqlite":
                conn.execute(_LOCK_PROGRAMME, {"programme_id": t.programme_id})
            if room:
                taken = conn.execute(_OCCUPIED, {"programme_id": t.programme_id}).scalar_one()
                view = replace(view, programme=replace(view.programme, occupied=taken))
            try:
                move = states.attempt(trigger, view, reason=reason, force=force)
            except states.InvalidTrigger as exc:
                if not exc.valid:
                    raise Invalid(N_("trigger {trigger!q} is not possible for {team!q}: it is in a final phase, "
                                     "“{label!t}”"), code="invalid_trigger", team=t.name, trigger=trigger,
                                  phase=t.phase, label=states.PHASES[t.phase].label, valid=[]) from None
                raise Invalid(N_("trigger {trigger!q} is not possible for {team!q} in the phase “{label!t}”; "
                                 "possible: {choices}"), code="invalid_trigger", team=t.name, trigger=trigger,
                              phase=t.phase, label=states.PHASES[t.phase].label, valid=exc.valid,
                              choices=", ".join(exc.valid)) from None
            except states.Blocked as exc:
                raise Refused(exc.unmet, team=t.name, trigger=trigger) from None
            now = self.ctx.clock.now()
            swap(conn, t.id, t.version, t.name, phase=move.dest, phase_since=now)
            conn.execute(_CLOSE_PERIOD, {"period_team": t.id, "period_end": now})
            conn.execute(_OPEN_PERIOD, {"team_id": t.id, "phase": move.dest, "start": now})
            overridden = [text("en", u.message, u.params) for u in move.overridden]  # the audit is in English
            return event_record(self.ctx.log(conn, "advance", t, trigger=trigger, from_phase=t.phase,
                                             to_phase=move.dest, reason=reason, forced=bool(overridden),
                                             data={"overridden": overridden} if overridden else None))

    def history(self, team: str) -> list[EventRecord]:
        """The team's audit trail, oldest first."""
        with self.ctx.store.read() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "read", t)
            return [event_record(e) for e in s.exec(select(Event).where(Event.team_id == t.id).order_by(Event.id))]
