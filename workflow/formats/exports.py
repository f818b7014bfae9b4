"""A programme's teams, check-ins or audit events as rows: for spreadsheets (CSV that French Excel opens
as it is: UTF-8 with a BOM, ``;``, decimal commas) and for JSON.

Columns have stable keys (the JSON keys) and English labels, translated for CSV headers. Text from the
store is written as typed, except that a cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab, a
carriage return) gets a leading apostrophe: a spreadsheet then shows it as text and never runs it as
a formula (CSV injection). Only text cells are neutralised, never the numbers written here; ``team
import`` takes exactly that apostrophe off again (:func:`unguarded`), so an export reads back as typed.

In JSON a value has one shape wherever it appears: an event's ``data`` is an object (as ``history``
gives it), a team's ``agreements`` a list of party ids; CSV writes them as text, ids translated.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import states
from notifications.i18n import N_, text
from states.terms import PARTY_LABELS
from workflow.context import Context
from workflow.errors import Invalid
from workflow.services.checkins import readable_programme
from workflow.services.teams import Teams, event_record, iso
from workflow.store import reads
from workflow.store.models import Event, Team, commitment

WHATS = ("teams", "checkins", "events")
SEPARATORS = {",": ",", ";": ";", "tab": "\t"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the JSON key
    label: str  # the CSV header, an English msgid
    kind: str = "text"  # text, phase, date, datetime, number, int, bool, parties, partner_kind, json


@dataclass(frozen=True, slots=True)
class Rows:
    """One export: what it holds, its columns and its rows (plain values: ISO dates, phase ids)."""

    what: str
    programme: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON objects, keyed by the columns' stable keys."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, r)) for r in self.rows]


# The team headers read back with `team import` (équipe, collectivité, problème, intrapreneur…).
TEAM_COLUMNS = (
    Column("team", N_("Team")), Column("programme", N_("Programme")), Column("partner", N_("Partner")),
    Column("problem", N_("Problem")), Column("partner_kind", N_("Partner kind"), "partner_kind"),
    Column("phase", N_("Phase"), "phase"),
    Column("phase_since", N_("Since"), "datetime"), Column("intrapreneur", N_("Intrapreneur")),
    Column("days_per_week", N_("Days per week"), "number"), Column("coach", N_("Coach")),
    Column("sponsor", N_("Sponsor")), Column("real", N_("Real"), "bool"), Column("major", N_("Major"), "bool"),
    Column("actionable", N_("Actionable"), "bool"), Column("agreements", N_("Agreements"), "parties"),
    Column("poc_summary", N_("Proof of concept")), Column("poc_link", N_("Proof of concept link")),
    Column("committee_on", N_("Committee date"), "date"), Column("committee_opinion", N_("Committee's opinion")),
    Column("deadline", N_("Deadline"), "date"), Column("days_left", N_("Days left"), "int"),
    Column("weeks_held", N_("Weeks held"), "int"), Column("weeks_expected", N_("Weeks expected"), "int"),
    Column("last_checkin", N_("Last check-in"), "date"), Column("hours_per_week", N_("Hours a week"), "number"),
)
CHECKIN_COLUMNS = (
    Column("id", N_("Id"), "int"), Column("team", N_("Team")), Column("author", N_("Author")),
    Column("on", N_("Day"), "date"), Column("week", N_("Week")), Column("notes", N_("Notes")),
    Column("blockers", N_("Blockers")), Column("next_steps", N_("Next steps")),
    Column("hours", N_("Hours"), "number"), Column("mood", N_("Mood"), "int"), Column("missed", N_("Missed"), "bool"),
    Column("reason", N_("Reason")), Column("created_at", N_("Created at"), "datetime"),
    Column("updated_at", N_("Updated at"), "datetime"),
)
EVENT_COLUMNS = (
    Column("id", N_("Id"), "int"), Column("at", N_("When"), "datetime"), Column("actor", N_("Who")),
    Column("team", N_("Team")), Column("action", N_("Action")), Column("trigger", N_("Trigger")),
    Column("from", N_("From"), "phase"), Column("to", N_("To"), "phase"), Column("reason", N_("Reason")),
    Column("forced", N_("Forced"), "bool"), Column("data", N_("Details"), "json"),
)
# A partner body's kind as a CSV writes it, in the export's language (``team import`` reads these words back).
PARTNER_KIND_LABELS = {"departement": N_("department"), "region": N_("region"), "other": N_("other")}


def _person(name: str, email: str) -> str:
    return f"{name} <{email}>"


@dataclass(frozen=True)
class Exports:
    """A programme's rows, as the acting person may read them (a coach: their teams; a partner reader:
    their partner body's; the programme's own events only to who reads it whole)."""

    ctx: Context
    teams: Teams

    def rows(self, programme: str, what: str = "teams") -> Rows:
        if what not in WHATS:
            raise Invalid(N_("{value!q} is not something to export; choose one of {choices}"), code="bad_export",
                          value=what, choices=", ".join(WHATS))
        with self.ctx.store.read() as s:
            prog = readable_programme(self.ctx, s, programme)  # one they read nothing of: refused, naming the grant
            mine = self.ctx.visible_teams(s)
            teams = reads.teams(s, prog.id, mine)
            if what == "teams":
                kinds = {p.id: p.kind for p in reads.partners(s, prog.id)}
                return Rows(what, prog.name, TEAM_COLUMNS, tuple(self._team_row(s, t, kinds) for t in teams))
            names = {t.id: t.name for t in teams}
            if what == "checkins":
                found = reads.checkins(s, list(names))
                return Rows(what, prog.name, CHECKIN_COLUMNS, tuple(
                    (c.id, names[c.team_id], email, c.on.isoformat(), c.week, c.notes, c.blockers, c.next_steps,
                     c.hours, c.mood, c.missed, c.reason, iso(c.created_at), iso(c.updated_at)) for c, email in found))
            events = reads.team_events(s, list(names))  # data: an object, as history gives it
            if self.ctx.reach(s, "read").covers(prog.id):  # who reads the programme whole: its own events too
                events = sorted([*events, *(e for e in reads.events_without_team(s) if _about(e, prog.name))],
                                key=lambda e: e.id)
            return Rows(what, prog.name, EVENT_COLUMNS, tuple(
                (e.id, r.at, r.actor, names.get(e.team_id), r.action, r.trigger, r.from_, r.to, r.reason, r.forced,
                 r.data) for e, r in ((e, event_record(e)) for e in events)))

    def _team_row(self, s, t: Team, kinds: dict[int, str]) -> tuple[Any, ...]:
        r = self.teams._team_record(s, t)
        return (r.name, r.programme, r.partner, r.problem, kinds.get(t.partner_id), r.phase, r.phase_since,
                ", ".join(_person(p.name, p.email) for p in r.intrapreneurs),
                commitment([p.days_per_week for p in r.intrapreneurs]),
                ", ".join(_person(p.name, p.email) for p in r.coaches),
                ", ".join(_person(p.name, p.email) for p in r.sponsors),
                r.criteria.get("real"), r.criteria.get("major"), r.criteria.get("actionable"),
                r.agreements, r.poc.summary, r.poc.link, r.committee.on, r.committee.opinion,
                r.deadline, r.days_left, r.coaching.weeks_held, r.coaching.weeks_expected, r.coaching.last_checkin,
                r.coaching.hours_per_week)


def _about(e: Event, programme: str) -> bool:
    try:
        return isinstance(e.data, str) and json.loads(e.data).get("programme") == programme
    except (ValueError, AttributeError):
        return False


# ---- CSV -------------------------------------------------------------------------------------------


def _guarded(value: str) -> bool:
    """Whether :func:`neutralised` puts an apostrophe before ``value``: it would start a formula, or it
    is such a value behind apostrophes already (so that :func:`unguarded` gives back exactly what was typed)."""
    return value.lstrip("'").startswith(FORMULA_START)


def neutralised(value: str) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula gets an apostrophe."""
    return "'" + value if _guarded(value) else value


def unguarded(value: str) -> str:
    """A cell as typed before :func:`neutralised`: its one apostrophe taken off, only where the export put it."""
    return value[1:] if value.startswith("'") and _guarded(value[1:]) else value


def _cell(value: Any, kind: str, lang: str, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return text(lang, N_("yes") if value else N_("no"))
    if kind == "phase":
        return text(lang, states.PHASES[value].label) if value in states.PHASES else neutralised(str(value))
    if kind == "number":
        s = str(int(value)) if float(value).is_integer() else repr(float(value))
        return s.replace(".", ",") if decimal_comma else s
    if kind == "int":
        return str(int(value))
    if kind == "datetime":  # Paris time as a spreadsheet reads a date and time
        return value[:16].replace("T", " ")
    if kind == "parties":  # "la collectivité, l'opérateur"
        return ", ".join(text(lang, PARTY_LABELS[p]) if p in PARTY_LABELS else neutralised(p) for p in value)
    if kind == "partner_kind":
        return text(lang, PARTNER_KIND_LABELS[value]) if value in PARTNER_KIND_LABELS else neutralised(str(value))
    if kind == "json":  # as stored: sorted keys, text as typed
        return neutralised(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return neutralised(str(value))


def to_csv(rows: Rows, lang: str, sep: str = ",", *, bom: bool = False) -> str:
    """The rows as CSV text, headers in ``lang``; ``sep`` ``;`` also writes decimal commas (French
    Excel); ``bom`` starts it with a byte-order mark, so Excel reads it as UTF-8."""
    if sep not in SEPARATORS:
        raise Invalid(N_("{value!q} is not a separator; choose one of {choices}"), code="bad_separator", value=sep,
                      choices=", ".join(SEPARATORS))
    delimiter = SEPARATORS[sep]
    out = io.StringIO()
    if bom:
        out.write(BOM)
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([text(lang, c.label) for c in rows.columns])
    comma = delimiter != ","
    for r in rows.rows:
        w.writerow([_cell(v, c.kind, lang, comma) for v, c in zip(r, rows.columns)])
    return out.getvalue()
