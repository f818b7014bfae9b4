"""Teams: their record, list and sheet; the status table other commands print too."""

from __future__ import annotations

from datetime import date

import click
from rich.text import Text

import states
from notifications.i18n import format_day
from states.terms import CRITERIA_LABELS, PARTY_LABELS
from workflow.records import CoachingRecord, TeamRow

from commands.context import complete, current_ctx
from commands.intake import team_import
from commands.output import (
    console, days_cell, emit_json, emit_json_rows, grid, phase_label, say, styled, table, when_cell,
)
from commands.params import DATE, NUMBER, YESNO, json_option
from commands.text import _, current_lang, labelled, number, semicolon, tr


@click.group(short_help="Teams and their record.")
def team() -> None:
    """Teams: their record (problem, people, criteria, agreements, proof of concept, committee)."""


def _yes(v: str) -> bool:
    return v.lower() in ("yes", "oui")


def _team_options(f):
    for opt in reversed([
        click.option("--problem", help="The public problem the team investigates."),
        click.option("--intrapreneur", "intrapreneurs", multiple=True, metavar="EMAIL", help="Repeat for several.",
                     shell_complete=complete("person")),
        click.option("--coach", metavar="EMAIL", shell_complete=complete("person")),
        click.option("--sponsor", metavar="EMAIL", help="Required for 'fast' programmes.", shell_complete=complete("person")),
        click.option("--days-per-week", type=NUMBER, help="Intrapreneur time commitment, days a week."),
    ]):
        f = opt(f)
    return f


@team.command(name="add")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--partner", required=True, help="The partner body (collectivité) that brings the problem.")
@_team_options
def team_add(name, programme, partner, problem, intrapreneurs, coach, sponsor, days_per_week) -> None:
    """Add a team, in the call for projects. Example: preincub team add "Insertion RSA" --programme P --partner Nord"""
    t = current_ctx().wf().teams.add(name, programme, partner, problem=problem, intrapreneurs=intrapreneurs, coach=coach,
                             sponsor=sponsor, days_per_week=days_per_week)
    say(tr("team {name!q} added ({phase!t})", name=t.name, phase=states.PHASES[t.phase].label))


@team.command(name="edit")
@click.argument("name", shell_complete=complete("team"))
@click.option("--rename", metavar="NEW_NAME")
@click.option("--partner")
@_team_options
@click.option("--remove-intrapreneur", "remove", multiple=True, metavar="EMAIL")
def team_edit(name, rename, partner, problem, intrapreneurs, coach, sponsor, days_per_week, remove) -> None:
    """Change a team's record. --intrapreneur adds; --coach and --sponsor replace."""
    t = current_ctx().wf().teams.edit(name, rename=rename, partner=partner, problem=problem, intrapreneurs=intrapreneurs,
                              remove_intrapreneurs=remove, coach=coach, sponsor=sponsor, days_per_week=days_per_week)
    say(tr("team {name!q} updated", name=t.name))


@team.command(name="assess")
@click.argument("name", shell_complete=complete("team"))
@click.option("--real", type=YESNO, required=True, help="Is the problem real? (réel)")
@click.option("--major", type=YESNO, required=True, help="Is it major? (majeur)")
@click.option("--actionable", type=YESNO, required=True, help="Can we act on it? (actionnable)")
@click.option("--note")
def team_assess(name, real, major, actionable, note) -> None:
    """Assess the three selection criteria. Example: preincub team assess T --real yes --major yes --actionable no"""
    current_ctx().wf().teams.assess(name, real=_yes(real), major=_yes(major), actionable=_yes(actionable), note=note)
    say(tr("team {name!q} assessed", name=name))


@team.command(name="agree", short_help="Record a party's agreement to select.")
@click.argument("name", shell_complete=complete("team"))
@click.option("--party", type=click.Choice(states.PARTIES), required=True)
def team_agree(name, party) -> None:
    """Record one party's agreement to select the team (both are needed)."""
    current_ctx().wf().teams.agree(name, party)
    say(tr("agreement of {party!t} recorded for {team!q}", party=PARTY_LABELS[party], team=name))


@team.command(name="poc", short_help="Record the proof of concept.")
@click.argument("name", shell_complete=complete("team"))
@click.option("--summary", required=True)
@click.option("--link", metavar="URL")
def team_poc(name, summary, link) -> None:
    """Record the proof of concept the team will present."""
    current_ctx().wf().teams.poc(name, summary, link)
    say(tr("proof of concept recorded for {team!q}", team=name))


@team.command(name="committee")
@click.argument("name", shell_complete=complete("team"))
@click.option("--on", "on", type=DATE, help="The committee's date.")
@click.option("--opinion", help="The committee's opinion, once it has heard the team.")
def team_committee(name, on, opinion) -> None:
    """Record the committee date, then its opinion."""
    current_ctx().wf().teams.committee(name, on=on, opinion=opinion)
    say(tr("committee recorded for {team!q}", team=name))


def status_table(rows: list[TeamRow], title: str | None = None) -> None:
    t = table(_("Team"), _("Partner"), _("Phase"), _("Since"), _("Coach"), _("Last check-in"), _("Days left"),
              title=title)
    for r in rows:
        last = r.last_checkin or "—"
        if r.drifting:
            last = (f"{last} ⚠ {number(r.weeks_missing)}", "red")
        t.add_row(r.name, r.partner or "—", phase_label(r.phase), when_cell(r.phase_since, False),
                  r.coach or "—", styled(last), days_cell(r.days_left))
    console().print(t)


@team.command(name="list", short_help="List teams.")
@click.option("--programme", shell_complete=complete("programme"))
@click.option("--phase", type=click.Choice(tuple(states.PHASES)))
@json_option
def team_list(programme, phase, as_json) -> None:
    """List teams, optionally of one programme or phase."""
    wf = current_ctx().wf()
    if as_json:
        return emit_json_rows(wf.teams.rows(programme, phase))
    status_table(wf.teams.status(programme, phase))


@team.command(name="show")
@click.argument("name", shell_complete=complete("team"))
@json_option
def team_show(name, as_json) -> None:
    """Everything about one team."""
    t = current_ctx().wf().teams.show(name)
    if as_json:
        return emit_json(t)
    g = grid(padding=(0, 2))
    g.add_column(style="bold")
    g.add_column()
    yn = {True: _("yes"), False: _("no"), None: "?"}
    people = lambda xs: ", ".join(f"{p.name} <{p.email}>" for p in xs) or "—"  # noqa: E731
    days = lambda p: tr("{days} d/week", days="?" if p.days_per_week is None else number(p.days_per_week))  # noqa: E731
    rows = [
        (_("Team"), t.name), (_("Programme"), t.programme), (_("Partner"), t.partner or "—"),
        (_("Phase"), tr("{label} ({phase}), since {when}", label=phase_label(t.phase), phase=t.phase,
                        when=when_cell(t.phase_since))),
        (_("Deadline"), styled(f"{_day(t.deadline)} (", days_cell(t.days_left), ")")), (_("Problem"), t.problem or "—"),
        (_("Intrapreneurs"), ", ".join(f"{p.name} <{p.email}> {days(p)}" for p in t.intrapreneurs) or "—"),
        (_("Coach"), people(t.coaches)), (_("Sponsor"), people(t.sponsors)),
        (_("Criteria"), ", ".join(labelled(_(CRITERIA_LABELS.get(c, c)), yn[v]) for c, v in t.criteria.items())),
        (_("Agreements"), ", ".join(_(PARTY_LABELS.get(p, p)) for p in t.agreements) or "—"),
        (_("Proof of concept"), t.poc.summary or "—"),
        (_("Committee"), f"{_day(t.committee.on)} — {t.committee.opinion or '—'}"),
        (_("Weekly check-ins"), _coaching_line(t.coaching)),
        (_('Phase history'), " → ".join(f"{phase_label(p.phase)} ({when_cell(p.start, False)})" for p in t.phases)),
    ]
    if t.ds is not None:  # the Démarches Simplifiées dossier it came from, flagged when DS deleted it
        origin = styled(tr("dossier {number} of the démarche {demarche} ({state})", number=t.ds.number,
                           demarche=t.ds.demarche, state=t.ds.state))
        if t.ds.deleted_at:
            origin.append_text(styled(semicolon(), (tr("deleted in DS on {day}", day=_day(t.ds.deleted_at)), "red")))
        rows.append((_("Démarches Simplifiées"), origin))
    for k, v in rows:
        g.add_row(k, v)
    console().print(g)


def _day(iso: str | None) -> str:
    """A stored ISO date as the language writes it ("23 décembre 2020"), "—" when there is none."""
    return format_day(date.fromisoformat(iso[:10]), current_lang()) if iso else "—"


def _coaching_line(c: CoachingRecord) -> Text:
    line = styled(tr("{held}/{expected} held, last check-in {last}", held=number(c.weeks_held),
                     expected=number(c.weeks_expected), last=c.last_checkin or "—"))
    if c.weeks_missing:
        missing = labelled(_("weeks without check-in"), ", ".join(c.weeks_missing))
        line.append_text(styled(semicolon(), (missing, "red")))
    if c.hours_per_week is not None:
        line.append(semicolon() + tr("{hours} h/week", hours=number(c.hours_per_week)))
        if c.hours_committed is not None:
            line.append(f" / {number(c.hours_committed)}")
        if c.hours_shortfall:
            line.append(" " + tr("(below the commitment)"), style="red")
    return line


team.add_command(team_import)  # `team import`, in its own module
