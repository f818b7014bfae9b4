"""Guards: named predicates over a read-only view of a team and its programme.

Each returns ``None`` when met, or an :class:`Unmet` saying why (an English catalog msgid and its
parameters; clients translate it), so
"can this team do X now, and if not why?" is answered without side effects. An Unmet names no
command: its ``code`` is stable, and ``missing`` says that something is simply not recorded yet, so
a client may point to where it is recorded (the CLI keeps a table of hints keyed by code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from states.terms import CRITERIA, CRITERIA_LABELS, N_, PARTIES, PARTY_LABELS  # defined there (light); read here too


@dataclass(frozen=True, slots=True)
class Unmet:
    code: str
    message: str  # English catalog msgid with {name} placeholders (notifications.i18n.text)
    params: Mapping[str, Any] = field(default_factory=dict)
    missing: bool = False  # not recorded yet (rather than recorded and not good enough)


@dataclass(frozen=True, slots=True)
class ProgrammeView:
    name: str
    kind: str
    deadline: date
    capacity: int
    occupied: int  # teams holding a place (states.phases.HOLDS_A_PLACE)
    min_days_per_week: float
    requires_sponsor: bool


@dataclass(frozen=True, slots=True)
class TeamView:
    name: str
    phase: str
    programme: ProgrammeView
    today: date
    problem: str | None = None
    partner: str | None = None
    intrapreneurs: int = 0
    coaches: int = 0
    sponsors: int = 0
    # Smallest weekly commitment among intrapreneurs; None when one of them has none recorded.
    min_days_per_week: float | None = None
    criteria: Mapping[str, bool | None] = field(default_factory=dict)
    agreed: frozenset[str] = frozenset()
    poc_summary: str | None = None
    committee_on: date | None = None
    committee_opinion: str | None = None
    reason: str | None = None  # what the coordinator typed with the trigger


GuardFn = Callable[[TeamView], "Unmet | None"]


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    check: GuardFn
    # "input" guards are about what the coordinator types with the trigger (a reason), not the team.
    about: str = "team"

    def __call__(self, view: TeamView) -> Unmet | None:
        return self.check(view)


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def has_problem(v: TeamView) -> Unmet | None:
    if _blank(v.problem):
        return Unmet("problem", N_("no problem statement"), missing=True)
    return None


def has_partner(v: TeamView) -> Unmet | None:
    if _blank(v.partner):
        return Unmet("partner", N_("no partner body"), missing=True)
    return None


def has_intrapreneur(v: TeamView) -> Unmet | None:
    if v.intrapreneurs < 1:
        return Unmet("intrapreneur", N_("no intrapreneur"), missing=True)
    return None


def criteria_met(v: TeamView) -> list[Unmet]:
    out = []
    for c in CRITERIA:
        value = v.criteria.get(c)
        if value is None:
            out.append(Unmet(f"criterion_{c}", N_("criterion “{criterion!t}” not assessed"),
                             {"criterion": CRITERIA_LABELS[c]}, missing=True))
        elif not value:
            out.append(Unmet(f"criterion_{c}", N_("criterion “{criterion!t}” assessed no"),
                             {"criterion": CRITERIA_LABELS[c]}))
    return out


def _criterion(c: str) -> GuardFn:
    def check(v: TeamView) -> Unmet | None:
        return next((u for u in criteria_met(v) if u.code == f"criterion_{c}"), None)

    return check


def _party(party: str) -> GuardFn:
    def check(v: TeamView) -> Unmet | None:
        if party not in v.agreed:
            return Unmet(f"agreement_{party}", N_("no agreement from {party!t}"), {"party": PARTY_LABELS[party]},
                         missing=True)
        return None

    return check


def has_coach(v: TeamView) -> Unmet | None:
    if v.coaches < 1:
        return Unmet("coach", N_("no coach"), missing=True)
    return None


def has_sponsor(v: TeamView) -> Unmet | None:
    if v.programme.requires_sponsor and v.sponsors < 1:
        return Unmet("sponsor", N_("no sponsor named by the partner body"), missing=True)
    return None


def enough_time(v: TeamView) -> Unmet | None:
    need = v.programme.min_days_per_week
    if v.min_days_per_week is None:
        return Unmet("time", N_("intrapreneur time commitment not recorded"), missing=True)
    if v.min_days_per_week < need:
        return Unmet("time", N_("intrapreneur time, in days a week, {got!n}: below the programme's minimum of {need!n}"),
                     {"got": v.min_days_per_week, "need": need})
    return None


def has_room(v: TeamView) -> Unmet | None:
    p = v.programme
    if p.occupied >= p.capacity:
        return Unmet("capacity", N_("programme full: {occupied!n} of {capacity!n} places taken"),
                     {"occupied": p.occupied, "capacity": p.capacity})
    return None


def before_deadline(v: TeamView) -> Unmet | None:
    d = v.programme.deadline
    if v.today > d:
        return Unmet("deadline", N_("programme past its deadline ({deadline!d})"), {"deadline": d})
    return None


def has_poc(v: TeamView) -> Unmet | None:
    if _blank(v.poc_summary):
        return Unmet("poc", N_("no proof of concept recorded"), missing=True)
    return None


def committee_in_time(v: TeamView) -> Unmet | None:
    d = v.programme.deadline
    if v.committee_on is None:
        return Unmet("committee_date", N_("no committee date"), missing=True)
    if v.committee_on > d:
        return Unmet("committee_date", N_("committee date {on!d} after the deadline {deadline!d}"),
                     {"on": v.committee_on, "deadline": d})
    return None


def has_opinion(v: TeamView) -> Unmet | None:
    if _blank(v.committee_opinion):
        return Unmet("opinion", N_("the committee's opinion is not recorded"), missing=True)
    return None


def has_reason(v: TeamView) -> Unmet | None:
    if _blank(v.reason):
        return Unmet("reason", N_("a reason is required"), missing=True)
    return None


G_PROBLEM = Guard("problem", has_problem)
G_PARTNER = Guard("partner", has_partner)
G_INTRAPRENEUR = Guard("intrapreneur", has_intrapreneur)
G_CRITERIA = tuple(Guard(f"criterion_{c}", _criterion(c)) for c in CRITERIA)
G_AGREEMENTS = tuple(Guard(f"agreement_{p}", _party(p)) for p in PARTIES)
G_COACH = Guard("coach", has_coach)
G_SPONSOR = Guard("sponsor", has_sponsor)
G_TIME = Guard("time", enough_time)
G_ROOM = Guard("capacity", has_room)
G_DEADLINE = Guard("deadline", before_deadline)
G_POC = Guard("poc", has_poc)
G_COMMITTEE_DATE = Guard("committee_date", committee_in_time)
G_OPINION = Guard("opinion", has_opinion)
G_REASON = Guard("reason", has_reason, about="input")
