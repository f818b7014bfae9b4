"""Coaches' weekly check-ins (points hebdomadaires): logging, correcting, listing, and the gaps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import date, timedelta
from typing import Any

from workflow.clock import paris
from workflow.context import Context, TeamRef, find
from workflow.errors import N_, ChangedMeanwhile, Forbidden, Invalid, Np_, NotFound
from workflow.records import CheckInRecord, GapRecord
from workflow.rules import validate
from workflow.rules.coaching import Coaching, coaching, iso_week, parse_week
from workflow.store import checkins as checkin_rows
from workflow.store import people as people_rows
from workflow.store import programmes as programme_rows
from workflow.store.checkins import FIELDS
from workflow.store.engine import Session
from workflow.store.models import CheckIn, Programme, Team


# What a caller writes in a check-in's own transaction, once it is recorded (session, check-in as recorded).
Also = Callable[[Session, CheckInRecord], None]


def readable_programme(ctx: Context, s: Session, name: str) -> Programme:
    """The programme named so, when the actor reads something in it (``status --programme``, ``team
    list``, ``checkin gaps``): one they do not read is refused with the grant it needs, rather than
    shown as empty."""
    p = find(s, "programme", name)
    seen = ctx.visible_programmes(s)
    if seen is not None and not programme_rows.among(s, p.id, seen):
        ctx.require(s, "read", programme=p)  # refused: it names the programme and the grant needed
    return p


@dataclass(frozen=True)
class CheckIns:
    """Logging, correcting and reading check-ins, and the coaching figures of teams and status."""

    ctx: Context

    # ---- writing -------------------------------------------------------------------------

    def _investigation(self, s: Session, team: Team | TeamRef) -> tuple[date, date | None]:
        """The days the team was in investigation (the last time it was)."""
        p = checkin_rows.investigation(s.connection(), team.id)
        if p is None:
            raise Invalid(N_("team {team!q} has not entered investigation; weekly check-ins start with it"),
                          team=team.name)
        return paris(p.start).date(), paris(p.end).date() if p.end else None

    def _checked(self, s: Session, team: Team | TeamRef, values: dict[str, Any]) -> dict[str, Any]:
        """Validate a check-in's fields against the team's investigation period and the clock."""
        on = values["on"]
        start, end = self._investigation(s, team)
        today = self.ctx.clock.today()
        validate.past_date(on, today, "--on", "checkin_in_future")
        if on < start:
            raise Invalid(N_("{on!d} is before {team!q} entered investigation ({start!d})"), on=on, team=team.name,
                          start=start)
        if end is not None and on > end:
            raise Invalid(N_("{on!d} is after {team!q} left investigation ({end!d})"), on=on, team=team.name, end=end)
        for key in ("notes", "blockers", "next_steps", "reason"):
            values[key] = validate.text(values.get(key), key.replace("_", " "))
        if values.get("hours") is not None:
            values["hours"] = validate.number(values["hours"], "--hours", 0, 60)
        if values.get("mood") is not None:
            values["mood"] = int(validate.number(values["mood"], "--mood", 1, 5, integer=True))
        if values["missed"]:
            if values["reason"] is None:
                raise Invalid(N_("a missed check-in needs a reason"), code="missed_needs_reason")
        elif values["reason"] is not None:
            raise Invalid(N_("a reason is only for a missed check-in (one that did not take place)"),
                          code="reason_only_when_missed")
        elif values["notes"] is None:
            raise Invalid(N_("a check-in needs notes (or, if it was missed, a reason)"), code="needs_notes")
        return values

    def log(self, team: str, *, on: date | None = None, notes: str | None = None, blockers: str | None = None,
                    next_steps: str | None = None, hours: float | None = None, mood: int | None = None,
                    missed: bool = False, reason: str | None = None, once: bool = False,
                    also: Also | None = None) -> CheckInRecord:
        """Log this week's check-in (or a missed one, with its reason) for a team in investigation.

        ``once`` (the web form): refuse with ChangedMeanwhile when the actor already logged one for
        that team and week, checked in the writing transaction (the team row locked on PostgreSQL), so
        two racing submissions never create two check-ins. ``also`` writes what goes with it in the same
        transaction (a reply by e-mail: its receipt and the answer), given the check-in as recorded."""
        with self.ctx.store.write() as s:
            t = find(s, "team", team)
            self.ctx.require(s, "checkin", t)
            me = self.ctx.me(s).id
            v = self._checked(s, t, {"on": on or self.ctx.clock.today(), "notes": notes, "blockers": blockers,
                                     "next_steps": next_steps, "hours": hours, "mood": mood, "missed": missed,
                                     "reason": reason})
            if once:
                checkin_rows.lock_team(s, t.id)
                if checkin_rows.logged_in_week(s, t.id, me, iso_week(v["on"])):
                    raise ChangedMeanwhile(N_("a check-in of week {week} is already logged for {team!q}"),
                                           code="checkin_exists", week=iso_week(v["on"]), team=t.name)
            now = self.ctx.clock.now()
            c = checkin_rows.add(s, team_id=t.id, author_id=me, week=iso_week(v["on"]), created_at=now,
                                 updated_at=now, **v)
            self.ctx.event(s, "checkin.log", t, reason=c.reason,
                        data={"checkin": c.id, "on": c.on.isoformat(), "week": c.week, "missed": c.missed},
                        sealed={"checkin": [c.id]})
            record = self._checkin_record(s, c)
            if also is not None:
                also(s, record)
            return record

    def edit(self, checkin_id: int, *, also: Also | None = None, **changes: Any) -> CheckInRecord:
        """Correct a check-in: its author (or a coordinator), within the edit window; audited. ``also``: as
        :meth:`log`'s."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise Invalid(N_("cannot change {fields}"), fields=", ".join(sorted(unknown)))
        if not changes:
            raise Invalid(N_("nothing to change: give at least one change"), code="nothing_to_change",
                          command="checkin edit")
        # Core rows, no ORM object: the write lock is held for a few short statements only.
        with self.ctx.store.write() as s:
            conn = s.connection()
            c = checkin_rows.to_edit(conn, checkin_id)
            if c is None:
                raise NotFound(N_("no check-in #{checkin}"), code="unknown_checkin", checkin=checkin_id)
            t = TeamRef(c.team_id, c.team_name, c.phase, c.version, c.programme_id, c.partner_id)
            self.ctx.require(s, "checkin", t)
            me = self.ctx.me(s)
            if c.author_id != me.id and c.programme_id not in self.ctx.reach(s, "decide").programmes:
                raise Forbidden(N_("acting as {actor}, you may not correct check-in #{checkin}: only its author "
                                   "or a coordinator of {programme!q} may"), code="not_author", actor=self.ctx.actor,
                                checkin=c.id, programme=people_rows.programme_of(s, c.programme_id).name)
            window = timedelta(days=self.ctx.settings.coaching.checkin_edit_days)
            if self.ctx.clock.now() - c.created_at > window:
                raise Invalid(Np_("check-in #{checkin} was logged on {logged!d}; corrections are allowed for {n} day "
                                  "only", "check-in #{checkin} was logged on {logged!d}; corrections are allowed for "
                                  "{n} days only"), checkin=c.id, logged=paris(c.created_at).date(), n=window.days)
            before = {k: getattr(c, k) for k in FIELDS}
            v = self._checked(s, t, {**before, "missed": c.missed, **changes})
            diff = {k: [_plain(before[k]), _plain(v[k])] for k in FIELDS if v[k] != before[k]}
            new = {**{k: v[k] for k in FIELDS}, "week": iso_week(v["on"]), "updated_at": self.ctx.clock.now()}
            checkin_rows.update(conn, c.id, new)
            self.ctx.log(conn, "checkin.edit", t, data={"checkin": c.id, "changes": diff}, sealed={"checkin": [c.id]})
            record = self._checkin_record(s, SimpleNamespace(**{**c._asdict(), **new}), t.name, c.author)
            if also is not None:
                also(s, record)
            return record

    # ---- reading -------------------------------------------------------------------------

    @staticmethod
    def _checkin_record(s: Session, c: CheckIn | SimpleNamespace, team: str | None = None,
                        author: str | None = None) -> CheckInRecord:
        if team is None:
            team, author = checkin_rows.names(s, c.team_id, c.author_id)
        return CheckInRecord(c.id, team, author, c.on.isoformat(), c.week, c.notes, c.blockers, c.next_steps,
                             c.hours, c.mood, c.missed, c.reason, paris(c.created_at).isoformat(timespec="seconds"),
                             paris(c.updated_at).isoformat(timespec="seconds"))

    def __call__(self, **filters: Any) -> list[CheckInRecord]:
        """``wf.checkins(...)`` lists them, as ``wf.checkins.entries(...)``."""
        return self.entries(**filters)

    def entries(self, *, team: str | None = None, coach: str | None = None, week: str | None = None,
                 since: date | None = None) -> list[CheckInRecord]:
        """Check-ins the actor may read, filtered by team, coach, ISO week or first day."""
        with self.ctx.store.read() as s:
            team_id = mine = None
            if team is not None:
                t = find(s, "team", team)
                self.ctx.require(s, "read", t)
                team_id = t.id
            else:
                mine = self.ctx.visible_teams(s)
            author_id = find(s, "person", coach).id if coach is not None else None
            week = parse_week(week) if week is not None else None  # Invalid when it is not a week
            rows = checkin_rows.entries(s, team_id=team_id, teams=mine, author_id=author_id, week=week, since=since)
            return [self._checkin_record(s, c, n, e) for c, n, e in rows]

    def _held_weeks(self, s: Session, teams) -> tuple[dict[int, set[str]], dict[int, set[str]], dict[int, date]]:
        """Held weeks, weeks recorded as missed, and last check-in day of the teams in ``teams`` (a subquery)."""
        held: dict[int, set[str]] = {}
        excused: dict[int, set[str]] = {}
        last: dict[int, date] = {}
        for team_id, missed, weeks, day in checkin_rows.held_weeks(s.connection(), teams):
            (excused if missed else held)[team_id] = set(weeks.split(","))
            if not missed:
                last[team_id] = day if isinstance(day, date) else date.fromisoformat(day)
        return held, excused, last

    def gaps(self, programme: str | None = None, weeks: int | None = None) -> list[GapRecord]:
        """Teams in investigation with weeks that have no check-in, oldest gap first (set-based)."""
        if weeks is not None:
            weeks = int(validate.number(weeks, "--weeks", 1, 104, integer=True))
        today = self.ctx.clock.today()
        with self.ctx.store.read() as s:
            programme_id = readable_programme(self.ctx, s, programme).id if programme is not None else None
            teams = checkin_rows.investigating(programme_id, self.ctx.visible_teams(s))
            rows = checkin_rows.gap_rows(s.connection(), teams)
            held, excused, last = self._held_weeks(s, teams)
        out = []
        for tid, name, prog, partner, since, coach, in rows:
            start = paris(since).date()
            c = coaching(start, None, today, held.get(tid, set()), last=weeks)
            if c.missing:
                out.append(GapRecord(name, prog, partner, coach, start.isoformat(), len(c.expected), len(c.held),
                                     tuple(c.missing), tuple(w for w in c.missing if w in excused.get(tid, ())),
                                     _plain(last.get(tid))))
        out.sort(key=lambda r: (r.weeks_missing[0], -len(r.weeks_missing), r.team))
        return out

    def coaching_of(self, s: Session, team: Team, commitment: float | None) -> dict:
        """Coaching weeks held / expected, last check-in, hours a week against the commitment."""
        try:
            start, end = self._investigation(s, team)
        except Invalid:
            return {"weeks_expected": 0, "weeks_held": 0, "weeks_missing": [], "last_checkin": None,
                    "hours_per_week": None, "hours_committed": None, "hours_shortfall": False}
        entries = checkin_rows.held(s, team.id)
        c: Coaching = coaching(start, end, self.ctx.clock.today(), {e.week for e in entries})
        per_week: dict[str, float] = defaultdict(float)
        for e in entries:
            if e.hours is not None:
                per_week[e.week] += e.hours
        avg = round(sum(per_week.values()) / len(per_week), 1) if per_week else None
        committed = None if commitment is None else commitment * self.ctx.settings.coaching.hours_per_day
        return {**c.as_dict(), "last_checkin": _plain(max((e.on for e in entries), default=None)),
                "hours_per_week": avg, "hours_committed": committed,
                "hours_shortfall": avg is not None and committed is not None and avg < committed}

def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v
