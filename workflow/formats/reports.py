"""Reports: the strategic committee pack and the programme report, as frozen records.

Both are computed from the store with a few set-based queries (the teams, their phase periods,
their check-ins: one query each, whatever the number of teams) and need the permission ``read`` in
the programme: a coach, an intrapreneur or a sponsor counts their own teams, a partner reader their
partner body's, the programme's committee and coordinators all of its teams; someone who reads
nothing of the programme is refused, with the grant it needs.
Rendering them (Markdown, HTML, PDF, XLSX) is notifications/documents.py's.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import states
from workflow.clock import paris, stored_utc
from workflow.context import Context, find
from workflow.errors import N_, Invalid
from workflow.records import TeamRecord
from workflow.rules.coaching import coaching
from workflow.rules.deadlines import days_left, deadline
from workflow.services.checkins import CheckIns, readable_programme
from workflow.services.teams import Teams
from workflow.store import reads
from workflow.store.models import Team

RECENT = 3  # check-ins of each team in the committee pack


@dataclass(frozen=True, slots=True)
class CheckInNote:
    """What the committee reads of one check-in: its day, blockers and next steps."""

    on: str
    week: str
    blockers: str | None
    next_steps: str | None
    missed: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class CommitteeSection:
    """One team of the committee pack: its record, its last check-ins (newest first), the days left
    until its committee date (None: no date)."""

    team: TeamRecord
    recent: tuple[CheckInNote, ...]
    committee_days_left: int | None


@dataclass(frozen=True, slots=True)
class CommitteePack:
    """The strategic committee pack of a programme, on ``today``."""

    programme: str
    deadline: str
    days_left: int
    today: str
    teams: tuple[CommitteeSection, ...]


@dataclass(frozen=True, slots=True)
class PhaseCount:
    """Teams now in a phase."""

    phase: str
    teams: int


@dataclass(frozen=True, slots=True)
class PhaseDuration:
    """Days spent in a phase by the teams that left it: how many periods, median, min, max."""

    phase: str
    periods: int
    median_days: float | None
    min_days: int | None
    max_days: int | None


@dataclass(frozen=True, slots=True)
class TeamCoaching:
    """A team that entered investigation: its coaching weeks held / expected."""

    team: str
    phase: str
    coach: str | None
    weeks_held: int
    weeks_expected: int


@dataclass(frozen=True, slots=True)
class ProgrammeReport:
    """The programme's figures for the hierarchy.

    Rates are fractions (0 to 1), None when nothing is there to divide: ``selection_rate`` is the
    teams selected (that reached investigation) over those the selection decided on (selected or not
    selected); ``abandon_rate`` the teams that abandoned over all teams; ``incubation_rate`` the teams
    incubated over those whose incubation was decided (incubated or not)."""

    programme: str
    kind: str
    signed_on: str
    deadline: str
    days_left: int
    today: str
    teams: int
    funnel: tuple[PhaseCount, ...]
    selected: int
    selection_rate: float | None
    abandon_rate: float | None
    incubation_rate: float | None
    durations: tuple[PhaseDuration, ...]
    coaching: tuple[TeamCoaching, ...]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day(value: Any) -> date:
    return paris(stored_utc(value)).date()


@dataclass(frozen=True)
class Reports:
    """The committee pack and the programme report (permission ``read``)."""

    ctx: Context

    def committee(self, programme: str, teams: Sequence[str] = ()) -> CommitteePack:
        """The committee pack: each team of ``programme`` in the committee phase, or each of ``teams``."""
        today = self.ctx.clock.today()
        with self.ctx.store.read() as s:
            prog = readable_programme(self.ctx, s, programme)  # one they read nothing of: refused, naming the grant
            if teams:
                chosen: list[Team] = []
                for name in dict.fromkeys(teams):  # each once, in the order given
                    t = find(s, "team", name)
                    self.ctx.require(s, "read", t)
                    if t.programme_id != prog.id:
                        raise Invalid(N_("team {team!q} is not in programme {programme!q}"),
                                      code="team_not_in_programme", team=t.name, programme=prog.name)
                    chosen.append(t)
            else:
                chosen = reads.teams(s, prog.id, self.ctx.visible_teams(s), phase="poc_committee")
                if not chosen:
                    raise Invalid(N_("no team of programme {programme!q} is in the committee phase; name the "
                                     "teams to present"), code="no_committee_teams", programme=prog.name)
            recent = self._recent(s, [t.id for t in chosen])
            service = Teams(self.ctx, CheckIns(self.ctx))
            sections = tuple(
                CommitteeSection(service._team_record(s, t), recent.get(t.id, ()),
                                 None if t.committee_on is None else (t.committee_on - today).days)
                for t in chosen)
            due = deadline(prog.signed_on, prog.months)
            return CommitteePack(prog.name, due.isoformat(), days_left(due, today), today.isoformat(), sections)

    @staticmethod
    def _recent(s: Any, team_ids: Iterable[int]) -> dict[int, tuple[CheckInNote, ...]]:
        """The last :data:`RECENT` check-ins of each team, newest first."""
        out: dict[int, list[CheckInNote]] = {}
        for tid, on, week, blockers, next_steps, missed, reason in reads.recent_checkins(s, team_ids, RECENT):
            out.setdefault(tid, []).append(CheckInNote(on.isoformat(), week, blockers, next_steps, missed, reason))
        return {k: tuple(v) for k, v in out.items()}

    def programme(self, programme: str) -> ProgrammeReport:
        """The funnel, the time spent in each phase, coaching regularity, the deadline."""
        today = self.ctx.clock.today()
        store = self.ctx.store
        with store.read() as s:
            prog = readable_programme(self.ctx, s, programme)
            teams, periods, held = reads.programme_figures(s, store, prog.id, self.ctx.visible_teams(s))
        by_phase = {p: 0 for p in states.PHASES}
        for _tid, _name, phase, _coach in teams:
            by_phase[phase] = by_phase.get(phase, 0) + 1
        durations: dict[str, list[int]] = {p: [] for p in states.PHASES if not states.PHASES[p].terminal}
        investigation: dict[int, tuple[date, date | None]] = {}
        for tid, phase, start, end in periods:
            first = _day(start)
            last = None if end is None else _day(end)
            if last is not None and phase in durations:
                durations[phase].append((last - first).days)
            if phase == "investigation":
                investigation[tid] = (first, last)
        rows = []
        for tid, name, phase, coach in teams:
            if tid in investigation:
                start, end = investigation[tid]
                c = coaching(start, end, today, held.get(tid, set()))
                rows.append(TeamCoaching(name, phase, coach, len(c.held), len(c.expected)))
        selected = len(investigation)
        not_selected = by_phase.get("not_selected", 0)
        incubated, declined = by_phase.get("incubated", 0), by_phase.get("not_incubated", 0)
        due = deadline(prog.signed_on, prog.months)
        return ProgrammeReport(
            programme=prog.name, kind=prog.kind, signed_on=prog.signed_on.isoformat(), deadline=due.isoformat(),
            days_left=days_left(due, today), today=today.isoformat(), teams=len(teams),
            funnel=tuple(PhaseCount(p, n) for p, n in by_phase.items()),
            selected=selected, selection_rate=_ratio(selected, selected + not_selected),
            abandon_rate=_ratio(by_phase.get("abandoned", 0), len(teams)),
            incubation_rate=_ratio(incubated, incubated + declined),
            durations=tuple(PhaseDuration(p, len(d), float(statistics.median(d)) if d else None, min(d, default=None),
                                          max(d, default=None)) for p, d in durations.items()),
            coaching=tuple(rows),
        )


__all__ = ["CheckInNote", "CommitteePack", "CommitteeSection", "PhaseCount", "PhaseDuration", "ProgrammeReport",
           "Reports", "TeamCoaching"]
