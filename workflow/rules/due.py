"""What is due, and when: reminders derived from the database, never stored as scheduler jobs.

Pure: from a :class:`Snapshot` of the store (read by :func:`workflow.store.reminders.snapshot`),
:func:`occurrences` lists every reminder due in a time window, each with a deterministic idempotency key, the moment it becomes due and the moment
it goes stale. A tick enqueues those due now and not yet stale (so a daemon back from three days
down sends the deadline reminder that matters now, not a burst of old weekly pings); ``remind
preview`` lists those due up to a date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache


from workflow.clock import PARIS, paris
from workflow.errors import N_
from workflow.rules.coaching import iso_week
from workflow.rules.deadlines import terminable_on
from workflow.settings import Settings

REMINDER_KINDS = ("coaching", "missed_coaching", "deadline", "deadline_passed", "committee_soon", "notice_terminable")
# How each kind reads where people see it (tables, `person show`, refusals): catalog msgids.
REMINDER_NAMES = {"coaching": N_("weekly check-in"), "missed_coaching": N_("missed check-in"),
                  "deadline": N_("programme deadline"), "deadline_passed": N_("deadline passed"),
                  "committee_soon": N_("committee soon"), "notice_terminable": N_("notice unanswered")}
# What a programme's coordinators are always told, whatever they chose: its deadline coming and passed, and an
# agreement a formal notice left unanswered made terminable. Only coordinators receive the last two.
UNMUTABLE = ("deadline", "deadline_passed", "notice_terminable")
COORDINATORS_ONLY = ("deadline_passed", "notice_terminable")


def mutable(kind: str, role: str) -> bool:
    """Whether one who receives a ``kind`` reminder as ``role`` may stop it (``person edit --mute``, a
    message's one-click link): anyone, anything, but a coordinator the deadline and formal-notice ones,
    which keep the programme within its agreement."""
    return not (role == "coordinator" and kind in UNMUTABLE)


@dataclass(frozen=True, slots=True)
class TeamFacts:
    id: int
    name: str
    programme_id: int
    phase: str
    investigation: tuple[tuple[datetime, datetime | None], ...]  # its investigation period(s)
    heard_at: datetime | None  # when it left the committee phase
    decided_at: datetime | None  # when it reached a final phase
    committee_on: date | None
    coaches: tuple[int, ...]
    intrapreneurs: tuple[int, ...]
    held: frozenset[str]  # ISO weeks with a check-in held
    last_checkin: date | None
    partner_id: int | None = None

    def open_at(self, at: datetime) -> bool:
        return self.decided_at is None or at < self.decided_at


@dataclass(frozen=True, slots=True)
class ProgrammeFacts:
    id: int
    name: str
    deadline: date


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """An unanswered formal notice, as the reminder planning needs it."""

    id: int
    programme_id: int
    programme: str
    partner: str
    on: date
    breach: str

    @property
    def day(self) -> date:
        """The day its reminder is due, from midnight in Paris: the first day the agreement is terminable."""
        return terminable_on(self.on)


@dataclass(frozen=True)
class Snapshot:
    """What reminders depend on, read in a few set-based queries (:func:`workflow.store.reminders.snapshot`)."""

    programmes: dict[int, ProgrammeFacts]
    teams: list[TeamFacts]  # undecided, or decided after the snapshot's horizon
    coordinators: dict[int, tuple[int, ...]]  # programme id -> its coordinators
    committee: dict[int, tuple[int, ...]] = field(default_factory=dict)  # programme id -> its committee: told when a team is heard
    notices: tuple[NoticeFacts, ...] = ()  # unanswered formal notices (workflow.store.notices.facts)
    partner_readers: dict[int, tuple[int, ...]] = field(default_factory=dict)  # partner body id -> its readers


@dataclass(frozen=True)
class Due:
    key: str  # idempotency key of the reminder, e.g. coaching:12:2020-W30
    kind: str
    at: datetime  # due from (Europe/Paris)
    stale: datetime  # no longer worth sending from then on
    recipients: tuple[int, ...]
    team_id: int | None = None
    programme_id: int | None = None
    context: dict = field(default_factory=dict, compare=False)
    # recipient id -> what differs in their copy: the teams a message names are those its reader may read
    per_reader: dict[int, dict] = field(default_factory=dict, compare=False)
    # Why its recipients receive it (each message's footer says so): their role, unless ``roles`` gives a
    # recipient's own (role, team or None).
    role: str = field(default="coordinator", compare=False)
    roles: dict[int, tuple[str, str | None]] = field(default_factory=dict, compare=False)

    def why(self, pid: int) -> tuple[str, str | None]:
        """The role ``pid`` receives it as, and the team that role is held in (None: the programme)."""
        found = self.roles.get(pid)
        if found is not None:
            return found
        return self.role, self.context.get("team") if self.role in ("coach", "intrapreneur") else None


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> Container[date]:
    # holidays (its calendars: ~8 ms) is imported by the first reminder planned, not by every command
    # that loads the library (`status` never plans one).
    import holidays

    return holidays.country_holidays("FR", years=year)


def working_day(d: date) -> date:
    """``d``, or the next day that is neither a weekend nor a French public holiday."""
    while d.weekday() >= 5 or d in _french_holidays(d.year):
        d += timedelta(days=1)
    return d


def _at(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=PARIS)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


@lru_cache(maxsize=1024)
def weekly_slot(week_monday: date, cfg: Settings) -> datetime:
    """When the weekly coaching reminder of that week goes out (a holiday moves it to the next working day)."""
    return _at(working_day(week_monday + timedelta(days=cfg.reminders.remind_weekday)), cfg.reminders.remind_at)


def _unique(*groups: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(pid for g in groups for pid in g))


def occurrences(snap: Snapshot, lo: datetime, hi: datetime, now: datetime, cfg: Settings, *,
                fresh_at: datetime | None = None) -> Iterator[Due]:
    """Every reminder due at a moment in [lo, hi], as the store stands at ``now``.

    Weeks after ``now`` are assumed to get no check-in yet (the weekly reminder is planned), and
    missed-coaching alerts are only raised about weeks already over. With ``fresh_at``, weekly
    reminders already stale at that moment may be left out (the caller drops them anyway: a tick
    over 10,000 teams then skips five weeks of each team's past instead of building them).
    """
    current_week = iso_week(now.date())
    by_programme: dict[int, list[TeamFacts]] = defaultdict(list)
    for t in snap.teams:
        by_programme[t.programme_id].append(t)
    weeks = _Weeks(cfg)
    for t in snap.teams:
        p = snap.programmes[t.programme_id]
        yield from _coaching(t, p, lo, hi, now, current_week, snap, weeks, fresh_at)
        if t.committee_on is not None:
            ctx = {"team": t.name, "programme": p.name, "committee_on": t.committee_on.isoformat()}
            for d in _countdown(f"committee:{t.id}:{t.committee_on.isoformat()}", "committee_soon", t.committee_on,
                                cfg.reminders.committee_days, lo, hi, cfg):
                when = max(d.at, now)  # a reminder sent late speaks of the team as it is now
                if t.open_at(when) and (t.heard_at is None or when < t.heard_at):
                    coordinators, committee = snap.coordinators.get(p.id, ()), snap.committee.get(p.id, ())
                    to = _unique(t.intrapreneurs, t.coaches, coordinators, committee)
                    # Who each is, the programme's roles first (a coordinator who also coaches is told as such).
                    roles = {**{pid: ("intrapreneur", t.name) for pid in t.intrapreneurs},
                             **{pid: ("coach", t.name) for pid in t.coaches},
                             **{pid: ("committee", None) for pid in committee},
                             **{pid: ("coordinator", None) for pid in coordinators}}
                    yield Due(d.key, d.kind, d.at, d.stale, to,
                              t.id, p.id, {**ctx, "days_left": d.context["days_left"]}, roles=roles)
    for pid, teams in by_programme.items():
        p = snap.programmes[pid]
        countdown = list(_countdown(f"deadline:{p.id}", "deadline", p.deadline, cfg.reminders.deadline_days, lo, hi,
                                    cfg))
        # The day after the deadline, then weekly.
        first = _at(p.deadline + timedelta(days=1), cfg.reminders.remind_at)
        n = max(0, (lo - first).days // 7)
        late = []
        while (at := first + timedelta(days=7 * n)) <= hi:
            if at >= lo:
                late.append(Due(f"deadline_passed:{p.id}:{at.date().isoformat()}", "deadline_passed", at,
                                at + timedelta(days=7), (), context={"days_late": (at.date() - p.deadline).days}))
            n += 1
        for d in countdown + late:
            pending = [t for t in teams if t.open_at(max(d.at, now))]  # only while teams are undecided
            if not pending:
                continue
            ctx = {"programme": p.name, "deadline": p.deadline.isoformat(), **d.context,
                   "undecided": sorted(t.name for t in pending)}
            coordinators = snap.coordinators.get(p.id, ())
            if d.kind == "deadline_passed":
                yield Due(d.key, d.kind, d.at, d.stale, coordinators, programme_id=p.id, context=ctx)
                continue
            # Each reader is told of the undecided teams they may read: a coordinator, the programme's;
            # a partner body's reader, that body's; a coach or an intrapreneur, their own.
            names: dict[int, set[str]] = defaultdict(set)
            who: dict[int, tuple[str, str | None]] = {}  # each reader's role, on the first team that gives it
            for t in pending:
                for role, group in (("partner", snap.partner_readers.get(t.partner_id, ())), ("coach", t.coaches),
                                    ("intrapreneur", t.intrapreneurs)):
                    for pid in group:
                        names[pid].add(t.name)
                        who.setdefault(pid, (role, t.name))
            for pid in coordinators:
                names.pop(pid, None)
                who.pop(pid, None)
            to = _unique(coordinators, tuple(names))
            yield Due(d.key, d.kind, d.at, d.stale, to, programme_id=p.id, context=ctx,
                      per_reader={pid: {"undecided": sorted(n)} for pid, n in names.items()}, roles=who)
    yield from _notices(snap, lo, hi)


def _notices(snap: Snapshot, lo: datetime, hi: datetime) -> Iterator[Due]:
    """Each unanswered formal notice, to the coordinators from the first moment (Paris) of the day it
    makes the agreement terminable; stale a month later. It overlaps the window rather than starts in
    it, so a daemon down longer than the horizon still sends it once."""
    for n in snap.notices:
        at, stale = _at(n.day, time(0)), _at(terminable_on(n.day), time(0))
        if at <= hi and stale > lo:
            yield Due(f"notice:{n.id}:terminable", "notice_terminable", at, stale, snap.coordinators.get(n.programme_id, ()),
                      programme_id=n.programme_id,
                      context={"id": n.id, "programme": n.programme, "partner": n.partner, "on": n.on.isoformat(),
                               "terminable_on": n.day.isoformat(), "breach": n.breach})


def _countdown(key: str, kind: str, target: date, days: tuple[int, ...], lo: datetime, hi: datetime,
               cfg: Settings) -> Iterator[Due]:
    """J-N moments before ``target``; each goes stale when the next one is due, the last after the target."""
    slots = [(n, _at(target - timedelta(days=n), cfg.reminders.remind_at)) for n in sorted(days, reverse=True)]
    ends = [at for _, at in slots[1:]] + [_at(target + timedelta(days=1), time(0))]
    for (n, at), stale in zip(slots, ends):
        if lo <= at <= hi:
            yield Due(f"{key}:J-{n}", kind, at, stale, (), context={"days_left": n})


@dataclass(frozen=True, slots=True)
class _Week:
    """What every team shares about one coaching week (its Monday): computed once per
    :func:`occurrences`, not once per team."""

    week: str  # its ISO week
    slot: datetime  # weekly_slot: when its reminder goes out
    stale: datetime  # the next Monday, 00:00 Paris
    past: tuple[str, ...]  # the missed_weeks ISO weeks before it, most recent first


class _Weeks(dict[date, _Week]):
    """Monday -> :class:`_Week`, filled on first use, for one settings object and one call (so
    nothing outlives a change of settings; each entry is computed from its own date: DST-safe)."""

    def __init__(self, cfg: Settings) -> None:
        super().__init__()
        self.cfg = cfg

    def __missing__(self, monday: date) -> _Week:
        past = tuple(iso_week(monday - timedelta(days=7 * k)) for k in range(1, self.cfg.reminders.missed_weeks + 1))
        w = _Week(iso_week(monday), weekly_slot(monday, self.cfg), _at(monday + timedelta(days=7), time(0)), past)
        self[monday] = w
        return w


def _coaching(t: TeamFacts, p: ProgrammeFacts, lo: datetime, hi: datetime, now: datetime, current_week: str,
              snap: Snapshot, weeks: _Weeks, fresh_at: datetime | None) -> Iterator[Due]:
    for start, end in t.investigation:
        yield from _coaching_period(t, p, paris(start), paris(end) if end else None, lo, hi, now, current_week,
                                    snap, weeks, fresh_at)


_ONE_WEEK = timedelta(days=7)


def _coaching_period(t: TeamFacts, p: ProgrammeFacts, start: datetime, end: datetime | None, lo: datetime,
                     hi: datetime, now: datetime, current_week: str, snap: Snapshot, weeks: _Weeks,
                     fresh_at: datetime | None) -> Iterator[Due]:
    monday = _monday(max(lo, start).date())
    last = min(hi.date(), p.deadline)
    ctx = {"team": t.name, "programme": p.name,
           "last_checkin": t.last_checkin.isoformat() if t.last_checkin else None}
    held, coaches = t.held, t.coaches
    began = iso_week(start.date())
    while monday <= last:
        w = weeks[monday]
        monday += _ONE_WEEK
        if fresh_at is not None and w.stale <= fresh_at:
            continue  # stale already: the caller would drop whatever this week yields
        week = w.week
        at = max(w.slot, start)
        if lo <= at <= hi and at.date() <= p.deadline and (end is None or max(at, now) < end):
            ctx["days_left"] = (p.deadline - at.date()).days
            if (week > current_week or week not in held) and coaches:
                yield Due(f"coaching:{t.id}:{week}", "coaching", at, w.stale, coaches, team_id=t.id,
                          programme_id=p.id, context={**ctx, "week": week}, role="coach")
            # Alert coordinators once the last N full weeks had no check-in at all.
            if week <= current_week and all(pw >= began and pw not in held for pw in w.past):
                yield Due(f"missed:{t.id}:{w.past[0]}", "missed_coaching", at, w.stale, snap.coordinators.get(p.id, ()),
                          team_id=t.id, programme_id=p.id,
                          context={**ctx, "week": week, "weeks": sorted(w.past)})


def horizon(cfg: Settings) -> timedelta:
    """How far back a reminder can be due and still not stale (the longest countdown gap, and a week)."""
    return timedelta(days=max((*cfg.reminders.deadline_days, *cfg.reminders.committee_days, 7)) + 8)


def quiet_until(at: datetime, cfg: Settings) -> datetime:
    """The first moment after ``at`` when a reminder can fall due: reminders fall due at the reminder time
    (PREINCUB_REMIND_AT) or at midnight, Paris time, or when a change makes them (a team selected: a change
    writes an event, which a tick sees). Until then, what was due at ``at`` is all there is."""
    day = at.astimezone(PARIS).date()
    moments = [_at(d, t) for d in (day, day + timedelta(days=1)) for t in (cfg.reminders.remind_at, time(0))]
    return min(m for m in moments if m > at)


def due_now(snap: Snapshot, now: datetime, cfg: Settings) -> list[Due]:
    """Reminders due at ``now`` and not yet stale: what one tick enqueues (catch-up included)."""
    return sorted((d for d in occurrences(snap, now - horizon(cfg), now, now, cfg, fresh_at=now) if now < d.stale),
                  key=lambda d: (d.at, d.key))


def planned(snap: Snapshot, now: datetime, until: datetime, cfg: Settings) -> list[Due]:
    """What is due now and what will fall due up to ``until``, in order (``remind preview``)."""
    later = [d for d in occurrences(snap, now, until, now, cfg) if d.at > now]
    return due_now(snap, now, cfg) + sorted(later, key=lambda d: (d.at, d.key))
