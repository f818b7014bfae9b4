"""Coaches' weekly check-ins: log, edit, list, gaps."""

from __future__ import annotations

import sys

import click

from notifications.i18n import N_
from workflow.errors import Invalid

from commands.context import complete, current_ctx
from commands.output import console, emit_json, say, styled, table
from commands.params import DATE, ID, INTEGER, NUMBER, WEEK, IntegerRange, json_option
from commands.text import _, labelled, number, tr


@click.group(short_help="Coaches' weekly check-ins.")
def checkin() -> None:
    """Coaches' weekly check-ins (points hebdomadaires) with teams in investigation."""


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _notes(notes: str | None, missed: bool) -> str | None:
    """--notes TEXT, '-' for stdin, or $EDITOR when omitted on a terminal (as git commit does)."""
    if notes == "-":
        try:
            text = sys.stdin.read()
            text.encode("utf-8")  # a C locale hands undecodable bytes over as surrogates
            return text
        except UnicodeError:
            raise Invalid(N_("--notes -: standard input is not valid UTF-8; convert it first (e.g. iconv -f latin1)"),
                          code="notes_not_utf8") from None
    if notes is None and not missed and _interactive():
        text = click.edit("\n" + _("# Notes of the weekly check-in. Lines starting with # are ignored.") + "\n")
        if text is None:
            raise click.UsageError(_("no notes written: check-in not logged"))
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return notes


def _checkin_options(editing: bool):
    """The fields of a check-in; when correcting one, what is not given stays as it was."""
    def decorate(f):
        for opt in reversed([
            click.option("--on", "on", type=DATE, help="Move it to this day [default: keep its day]." if editing
                         else "The day it was held [default: today]."),
            click.option("--notes", help="What was said; '-' reads stdin; omitted on a terminal: $EDITOR."
                         if not editing else "What was said; '-' reads stdin."),
            click.option("--blockers"),
            click.option("--next-steps"),
            click.option("--hours", type=NUMBER, help="The intrapreneur's hours on the project that week."),
            click.option("--mood", type=IntegerRange(1, 5), help="1 (bad) to 5 (great)."),
            click.option("--reason", help="Why it did not take place (a missed check-in only)." if editing
                         else "Why the check-in was missed (with --missed)."),
        ]):
            f = opt(f)
        return f
    return decorate


@checkin.command(name="log")
@click.argument("team_name", metavar="TEAM", shell_complete=complete("team"))
@_checkin_options(editing=False)
@click.option("--missed", is_flag=True, help="Record that this week's check-in did not take place.")
def checkin_log(team_name, on, notes, blockers, next_steps, hours, mood, reason, missed) -> None:
    """Log a check-in. Example: preincub checkin log "Insertion RSA" --notes "Entretiens usagers" --hours 7"""
    c = current_ctx().wf().checkins.log(team_name, on=on, notes=_notes(notes, missed), blockers=blockers,
                                next_steps=next_steps, hours=hours, mood=mood, missed=missed, reason=reason)
    if c.missed:
        say(tr("missed check-in #{id} recorded for {team!q}, week {week}", id=c.id, team=c.team, week=c.week))
    else:
        say(tr("check-in #{id} logged for {team!q}, week {week}", id=c.id, team=c.team, week=c.week))


@checkin.command(name="edit", short_help="Correct a check-in (audited).")
@click.argument("checkin_id", metavar="ID", type=ID)
@_checkin_options(editing=True)
def checkin_edit(checkin_id, on, notes, blockers, next_steps, hours, mood, reason) -> None:
    """Correct a check-in (its author or a coordinator, within 7 days); the change is audited."""
    c = current_ctx().wf().checkins.edit(checkin_id, on=on, notes=_notes(notes, True), blockers=blockers,
                                 next_steps=next_steps, hours=hours, mood=mood, reason=reason)
    say(tr("check-in #{id} corrected", id=c.id))


@checkin.command(name="list", short_help="List check-ins, oldest first.")
@click.option("--team", shell_complete=complete("team"))
@click.option("--coach", metavar="EMAIL", help="Check-ins logged by this person.", shell_complete=complete("person"))
@click.option("--week", type=WEEK, help="One ISO week, e.g. 2020-W30.")
@click.option("--since", type=DATE)
@json_option
def checkin_list(team, coach, week, since, as_json) -> None:
    """List check-ins, oldest first."""
    rows = current_ctx().wf().checkins(team=team, coach=coach, week=week, since=since)
    if as_json:
        return emit_json(rows)
    t = table(_("ID"), _("Team"), _("On"), _("Week"), _("Author"), _("Notes"), _("Hours"), _("Mood"))
    for c in rows:
        notes = styled((labelled(_("missed"), c.reason or "—"), "yellow")) if c.missed else (c.notes or "")
        t.add_row(str(c.id), c.team, c.on, c.week, c.author, notes,
                  "" if c.hours is None else number(c.hours), "" if c.mood is None else str(c.mood))
    console().print(t)


@checkin.command(name="gaps", short_help="Weeks without a check-in.")
@click.option("--programme", shell_complete=complete("programme"))
@click.option("--weeks", type=INTEGER, help="Only the last N weeks.")
@json_option
def checkin_gaps(programme, weeks, as_json) -> None:
    """Teams in investigation with weeks that have no check-in, oldest gap first."""
    rows = current_ctx().wf().checkins.gaps(programme, weeks)
    if as_json:
        return emit_json(rows)
    t = table(_("Team"), _("Coach"), _("Weekly check-ins"), _("Weeks without check-in"), _("Last check-in"))
    for r in rows:
        t.add_row(r.team, r.coach or "—", f"{number(r.weeks_held)}/{number(r.weeks_expected)}",
                  ", ".join(r.weeks_missing), r.last_checkin or "—")
    console().print(t)
