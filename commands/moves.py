"""The workflow: advance, check, status, history, diagram."""

from __future__ import annotations

from dataclasses import replace

import click

from states.machine import mermaid

from commands.context import complete, current_ctx
from commands.errors import unmet_text
from commands.notices import flag_terminable
from commands.output import console, emit_json, emit_json_rows, phase_label, say, table, when_cell
from commands.params import json_option
from commands.reminders import warn_outbox
from commands.teams import status_table
from commands.text import _, current_lang, labelled, tr


@click.command(short_help="Fire a trigger on a team.")
@click.argument("name", shell_complete=complete("team"))
@click.argument("trigger")
@click.option("--reason", help="Why; required by reject, incubate, decline, abandon and --force.")
@click.option("--force", is_flag=True, help="Override unmet conditions (recorded as forced; needs --reason).")
def advance(name, trigger, reason, force) -> None:
    """Fire TRIGGER on a team: submit, select, reject, present, hear, incubate, decline, abandon."""
    ev = current_ctx().wf().transitions.advance(name, trigger, reason=reason, force=force)
    move = f"{phase_label(ev.from_)} → {phase_label(ev.to)}"
    say(tr("{team}: {move} (forced)", team=name, move=move) if ev.forced else labelled(name, move))


@click.command(short_help="Which triggers are possible now, and why not.")
@click.argument("name", shell_complete=complete("team"))
@json_option
def check(name, as_json) -> None:
    """Which triggers are possible now; for each blocked one, every unmet condition."""
    r = current_ctx().wf().transitions.check(name)
    lang = current_lang()
    blocked = {trig: [unmet_text(u, lang) for u in us] for trig, us in r.blocked.items()}
    if as_json:
        return emit_json(replace(r, blocked=blocked))  # each unmet condition as its sentence
    say(labelled(r.team, phase_label(r.phase)))
    needs = _("needs --reason")
    avail = [f"{n} ({needs})" if n in r.needs_reason else n for n in r.available]
    say(labelled(_("Available"), ", ".join(avail) or "—"))
    for trig, reasons in blocked.items():
        say(labelled(_("Blocked"), trig))
        for reason in reasons:
            say(f"  - {reason}")


@click.command(short_help="One row per team, with days left.")
@click.option("--programme", shell_complete=complete("programme"))
@json_option
def status(programme, as_json) -> None:
    """One row per team: partner, phase, since, coach, days to the deadline."""
    wf = current_ctx().wf()
    if as_json:
        return emit_json_rows(wf.teams.rows(programme))
    status_table(wf.teams.status(programme))
    flag_terminable(wf, programme)  # agreements an unanswered formal notice made terminable
    tick = wf.lease.last_tick()
    say(labelled(_("Daemon's last tick"), f"{when_cell(tick.wall)} ({tick.holder})" if tick else "—"))
    warn_outbox(wf)


@click.command(short_help="A team's audit trail.")
@click.argument("name", shell_complete=complete("team"))
@json_option
def history(name, as_json) -> None:
    """The team's audit trail: when, who, trigger, from, to, reason, forced."""
    rows = current_ctx().wf().transitions.history(name)
    if as_json:
        return emit_json(rows)
    t = table(_("When"), _("Who"), _("Action"), _("From"), _("To"), _("Reason"), _("Forced"))
    for e in rows:
        t.add_row(when_cell(e.at), e.actor, e.trigger or e.action,
                  phase_label(e.from_) if e.from_ else "", phase_label(e.to) if e.to else "",
                  e.reason or "", _("yes") if e.forced else "")
    console().print(t)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid"]), default="mermaid", show_default=True)
def diagram(fmt) -> None:
    """The workflow as a Mermaid state diagram."""
    click.echo(mermaid(_))
