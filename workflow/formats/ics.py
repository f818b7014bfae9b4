"""A programme's calendar, as iCalendar (RFC 5545, the ``icalendar`` package): its deadline, the
committee dates, the reminders ahead, and each team's weekly coaching slot as a recurring event.

Times are Europe/Paris with its VTIMEZONE, written as the EU rule (RRULE: last Sunday of March and of
October, :func:`paris_timezone`), not as the list of dates icalendar derives from the tz database, which
vobject (under Radicale and khal) reads as +01:00 all year; the rule also holds whatever the year. Every
event's UID is stable (made of the programme's, team's or reminder's identity in the store, never of the
export's time), so importing the file again updates a calendar instead of duplicating it; ``SEQUENCE``
follows the team's version, so a changed committee date or slot replaces the old one. Counted sentences
(days, months) are ``Np_``: "in 1 day", "dans 1 jour".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import states
from notifications.i18n import N_, Np_, text
from notifications.visible import shown
from workflow.clock import PARIS, paris
from workflow.context import Context
from workflow.rules.due import horizon, planned, weekly_slot
from workflow.rules.deadlines import deadline
from workflow.services.checkins import readable_programme
from workflow.store import reads
from workflow.store import reminders as reminder_rows
from workflow.store.models import Team

PRODID = "-//preincub//preincub calendar//FR"
SLOT = timedelta(hours=1)  # a coaching slot's length
REMINDER = timedelta(minutes=15)
CALENDAR_KINDS = ("deadline", "deadline_passed", "committee_soon", "missed_coaching")  # weekly ones: the slots

_SUMMARIES = {  # counted ones pick their form by ``n``, the days left
    "deadline": Np_("Reminder: the deadline of {programme} is in {n} day",
                    "Reminder: the deadline of {programme} is in {n} days"),
    "deadline_passed": N_("Reminder: the deadline of {programme} has passed, teams are undecided"),
    "committee_soon": Np_("Reminder: the committee of {team} is in {n} day",
                          "Reminder: the committee of {team} is in {n} days"),
    "missed_coaching": N_("Reminder: {team} has weeks without a check-in"),
}


def paris_timezone() -> Any:
    """Europe/Paris as a VTIMEZONE of two rules, in force since 1996 (EU summer time: from the last Sunday
    of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC). RFC 5545 dates each onset in the local
    time in force before it: 02:00 (CET) in March, 03:00 (CEST) in October."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    tz = Timezone()
    tz.add("tzid", "Europe/Paris")
    for part, name, onset, month, before, after in (
            (TimezoneStandard(), "CET", datetime(1996, 10, 27, 3, 0), 10, 2, 1),
            (TimezoneDaylight(), "CEST", datetime(1996, 3, 31, 2, 0), 3, 1, 2)):
        part.add("tzname", name)
        part.add("dtstart", onset)  # floating: the local time of the onset
        part.add("tzoffsetfrom", timedelta(hours=before))
        part.add("tzoffsetto", timedelta(hours=after))
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1su"})
        tz.add_component(part)
    return tz


def _uid(what: str, token: str, *parts: Any) -> str:
    tail = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", str(p)).strip("-") for p in parts)
    return f"{what}-{tail}-{token}@preincub" if tail else f"{what}-{token}@preincub"


def _clean(value: str | None) -> str:
    return shown(value or "", multiline=True)


@dataclass(frozen=True)
class Calendars:
    """The calendar of one programme, with what the acting person may read of it (the reminders ahead only
    for those who may preview that programme's: its coordinators, an administrator)."""

    ctx: Context

    def ics(self, programme: str, lang: str = "fr") -> bytes:
        from icalendar import Calendar, Event  # an optional heavy dependency: loaded only to write a calendar

        now = self.ctx.clock.now()
        cfg = self.ctx.settings
        with self.ctx.store.read() as s:
            prog = readable_programme(self.ctx, s, programme)  # one they read nothing of: refused, naming the grant
            due = deadline(prog.signed_on, prog.months)
            # The programme's identity in this store (kept by a backup and its restore), in every UID.
            token = hashlib.sha256(f"{prog.id}:{paris(prog.created_at).isoformat()}".encode()).hexdigest()[:12]
            teams = reads.teams(s, prog.id, self.ctx.visible_teams(s))
            partners = {p.id: p.name for p in reads.partners(s, prog.id)}
            coaches = reads.coaches(s, [t.id for t in teams])
            periods = reads.investigations(s, [t.id for t in teams])
            dues = []
            if self.ctx.reach(s, "remind").covers(prog.id):  # who may preview this programme's reminders
                until = datetime.combine(max(due + timedelta(days=1), now.date() + timedelta(days=30)), time(23, 59),
                                         tzinfo=PARIS)
                snap = reminder_rows.snapshot(s, now - horizon(cfg), [prog.id])
                shown_ids = {t.id for t in teams}
                dues = [d for d in planned(snap, now, until, cfg)
                        if d.at > now and d.programme_id == prog.id and d.kind in CALENDAR_KINDS
                        and (d.team_id is None or d.team_id in shown_ids)]

        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", _clean(prog.name))
        cal.add("x-wr-timezone", "Europe/Paris")
        cal.add_component(paris_timezone())
        stamp = now.astimezone(timezone.utc)

        def event(uid: str, summary: str, start: date | datetime, end: date | datetime, description: str = "",
                  sequence: int = 0) -> Any:
            ev = Event()
            ev.add("uid", uid)
            ev.add("dtstamp", stamp)
            ev.add("summary", _clean(summary))
            ev.add("dtstart", start)
            ev.add("dtend", end)
            ev.add("sequence", sequence)
            if description:
                ev.add("description", _clean(description))
            ev.add("transp", "TRANSPARENT" if not isinstance(start, datetime) else "OPAQUE")
            cal.add_component(ev)
            return ev

        event(_uid("deadline", token, "p", prog.id),
              text(lang, N_("Deadline of {programme}"), {"programme": prog.name}), due, due + timedelta(days=1),
              text(lang, Np_("{programme}: {n} month from {signed!d}", "{programme}: {n} months from {signed!d}"),
                   {"programme": prog.name, "n": prog.months, "signed": prog.signed_on}))
        for t in teams:
            if t.committee_on is None:
                continue
            event(_uid("committee", token, "t", t.id),
                  text(lang, N_("Strategic committee: {team}"), {"team": t.name}), t.committee_on,
                  t.committee_on + timedelta(days=1), self._about(lang, t, partners, coaches), t.version)
        for d in dues:
            ctx = {"programme": prog.name, "team": d.context.get("team", ""), "n": d.context.get("days_left", 0)}
            start = paris(d.at)
            event(_uid("reminder", token, d.key), text(lang, _SUMMARIES[d.kind], ctx), start, start + REMINDER,
                  text(lang, N_("preincub sends this reminder then ({key})"), {"key": d.key}))
        for t in teams:
            period = periods.get(t.id)
            if period is None:
                continue
            self._slot(event, token, t, period, due, lang, partners, coaches)
        return cal.to_ical()

    def _slot(self, event: Any, token: str, t: Team, period: tuple[datetime, datetime | None], due: date, lang: str,
              partners: dict[int, str], coaches: dict[int, list[str]]) -> None:
        """The weekly coaching slot: the weekly reminder's moment (Monday 09:00 by default), each week from
        the team's entry into investigation until it left it or the deadline; a week whose slot a public
        holiday moves is an exception (EXDATE) and its moved occurrence (RDATE)."""
        cfg = self.ctx.settings
        start, end = paris(period[0]), paris(period[1]) if period[1] else None
        until = datetime.combine(due, time(23, 59, 59), tzinfo=PARIS)
        if end is not None and end < until:
            until = end
        monday = start.date() - timedelta(days=start.weekday())

        def regular(m: date) -> datetime:
            r = cfg.reminders
            return datetime.combine(m + timedelta(days=r.remind_weekday), r.remind_at, tzinfo=PARIS)

        while regular(monday) < start:
            monday += timedelta(days=7)
        first = regular(monday)
        if first > until:
            return
        ev = event(_uid("coaching", token, "t", t.id), text(lang, N_("Coaching: {team}"), {"team": t.name}),
                   first, first + SLOT, self._about(lang, t, partners, coaches), t.version)
        ev.add("rrule", {"freq": "weekly", "until": until.astimezone(timezone.utc)})
        exdates, rdates = [], []
        m = monday
        while regular(m) <= until:
            moved = weekly_slot(m, cfg)
            if moved != regular(m):
                exdates.append(regular(m))
                if moved <= until:
                    rdates.append(moved)
            m += timedelta(days=7)
        if exdates:
            ev.add("exdate", exdates)
        if rdates:
            ev.add("rdate", rdates)

    @staticmethod
    def _about(lang: str, t: Team, partners: dict[int, str], coaches: dict[int, list[str]]) -> str:
        lines = [text(lang, N_("Partner: {partner}"), {"partner": partners.get(t.partner_id) or "—"}),
                 text(lang, N_("Phase: {phase!t}"), {"phase": states.PHASES[t.phase].label}),
                 text(lang, N_("Coach: {coach}"), {"coach": ", ".join(coaches.get(t.id, [])) or "—"})]
        return "\n".join(lines)
