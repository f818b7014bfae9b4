"""Transitions: may a team move (``check``), move it (``advance``), and what happened (``history``).

One ``advance`` reads the team and everything its guards need once, outside the write lock; then,
in ONE transaction under the programme's lock, it counts the places taken (only for a trigger
that needs room), fires the trigger (each guard evaluated once) and writes the new phase by
compare-and-swap on the team's version, the closed and opened phase periods, and the event. The
statements are the store's (``workflow.store.teams``); on SQLite each runs through the driver's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import states
from workflow.rules import validate
from workflow.context import Context, TeamRef, find
from workflow.rules.deadlines import deadline
from notifications.i18n import text
from workflow.errors import N_, Invalid, Refused
from workflow.records import CheckRecord, EventRecord
from workflow.services.teams import event_record
from workflow.store import events as event_rows
from workflow.store import teams as team_rows
from workflow.store.engine import Session


def _needs_room(trigger: str) -> bool:
    t = states.TRIGGERS.get(trigger)
    return t is not None and any(g.name == "capacity" for g in t.guards)


@dataclass(frozen=True)
class Transitions:
    """Moves between phases, through the one Machine of ``states``."""

    ctx: Context

    def read(self, s: Session, team: str, action: str, *, occupied: int | None = None,
             conn: Any = None) -> tuple[TeamRef, states.TeamView]:
        """The team, once the actor may ``action`` it, and the read-only view its guards judge, from
        ONE set-based query and no ORM object (``occupied``: the places taken in the programme,
        counted in it when not given; ``conn``: what runs the query, the session's connection unless
        given, as ``advance`` gives ``workflow.store.teams.fast_reader``)."""
        row = team_rows.guards_view(conn if conn is not None else s.connection(), validate.lookup(team), occupied)
        if row is None:
            find(s, "team", team)  # NotFound, in its words
            return self.read(s, team, action, occupied=occupied, conn=conn)  # created meanwhile
        (tid, name, phase, version, programme_id, partner_id, problem, poc_summary, committee_on, committee_opinion, prog, kind,
         signed_on, months, capacity, min_days, partner, assessed, real, major, actionable, intrapreneurs, coaches,
         sponsors, unknown_days, least_days, agreed, held) = row
        t = TeamRef(tid, name, phase, version, programme_id, partner_id)
        self.ctx.require(s, action, t)
        return t, states.TeamView(
            name=name, phase=phase, today=self.ctx.clock.today(),
            programme=states.ProgrammeView(prog, kind, deadline(signed_on, months), capacity, held, min_days,
                                           states.PROGRAMME_KINDS[kind].requires_sponsor),
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
        statements run through the driver's cursor (``workflow.store.driver``): SQLAlchemy's execution
        path was most of an advance.
        """
        reason = validate.text(reason, "reason")
        if force and reason is None:
            raise Invalid(N_("forcing a move needs a reason: say why the rules are overridden"),
                          code="force_needs_reason")
        store = self.ctx.store
        if store.dialect != "sqlite":
            # One transaction, the read in it: each transaction is round trips to the server (a ping, BEGIN,
            # COMMIT). The version's compare-and-swap still makes the read hold.
            with store.write() as s:
                t, view = self.read(s, team, "decide", occupied=0)
                return self._locked_move(s.connection(), t, view, trigger, reason, force)
        with store.read() as s:  # outside the write lock: SQLite has one writer at a time
            t, view = self.read(s, team, "decide", occupied=0, conn=team_rows.fast_reader(store))
        with store.direct_write() as conn:
            return self._locked_move(conn, t, view, trigger, reason, force)

    def _locked_move(self, conn: Any, t: TeamRef, view: states.TeamView, trigger: str, reason: str | None,
                     force: bool) -> EventRecord:
        """:meth:`move` in the write transaction, the places taken counted under the lock when they count."""
        if _needs_room(trigger):
            # Serialise the moves that take a place in a programme, so its places are counted under the lock
            # (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises every writer). A move that frees one
            # need not wait: counted as still taken meanwhile, it only errs on the safe side.
            if self.ctx.store.dialect != "sqlite":
                team_rows.lock_programme(conn, t.programme_id)
            taken = team_rows.places_taken(conn, t.programme_id)
            view = replace(view, programme=replace(view.programme, occupied=taken))
        return event_record(self.move(conn, t, view, trigger, reason=reason, force=force))

    def move(self, conn: Any, t: Any, view: Any, trigger: str, *, reason: str | None, force: bool = False,
             data: dict[str, Any] | None = None) -> Any:
        """Fire ``trigger`` on team ``t`` (read as ``view``) in the caller's transaction: the new phase, its
        period, and the audit event (its row). The one place a move is written: :meth:`advance`, and a
        sync that closes teams inside its page's transaction."""
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
        team_rows.swap_phase(conn, t.id, t.version, t.name, phase=move.dest, phase_since=now)
        team_rows.next_period(conn, t.id, move.dest, now)
        overridden = [text("en", u.message, u.params) for u in move.overridden]  # the audit is in English
        if overridden:
            data = {**(data or {}), "overridden": overridden}
        return self.ctx.log(conn, "advance", t, trigger=trigger, from_phase=t.phase, to_phase=move.dest,
                            reason=reason, forced=bool(overridden), data=data)

    def history(self, team: str) -> list[EventRecord]:
        """The team's audit trail, oldest first."""
        with self.ctx.store.read() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "read", t)
            return [event_record(e) for e in event_rows.of_team(s, t.id)]
