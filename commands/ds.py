"""intake: applications that come from outside, today Démarches Simplifiées' API (``intake ds sync``).

The sync itself is ``wf.ds.sync`` (workflow.services.ds); this module parses and presents, as ``team
import`` does: the same summary, table and JSON keys, plus each dossier's DS number and state."""

from __future__ import annotations

import click

from notifications.i18n import N_, Np_
from workflow.errors import PreincubError
from workflow.formats import sheets
from workflow.services.ds import problems_text

from commands.context import complete, current_ctx
from commands.output import console, emit_json, say, table
from commands.params import INTEGER, json_option
from commands.text import _, current_lang, labelled, number, tr

LISTED = 100  # dossiers listed one by one in the table; --json gives them all


@click.group(short_help="Applications from Démarches Simplifiées.")
def intake() -> None:
    """Applications that come in from outside: Démarches Simplifiées (DS)."""


@intake.group(name="ds", short_help="Démarches Simplifiées' API.")
def ds() -> None:
    """Démarches Simplifiées: a démarche's dossiers read through its GraphQL API (PREINCUB_DS_TOKEN)."""


@ds.command(name="sync", short_help="Sync a démarche's dossiers into teams.")
@click.option("--demarche", required=True, type=INTEGER, metavar="NUMBER", help="The démarche's number in DS.")
@click.option("--programme", required=True, shell_complete=complete("programme"),
              help="The programme the teams apply to.")
@click.option("--map", "map_file", metavar="MAP.toml",
              help="A TOML file naming our columns by DS field label or id (champDescriptorId).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
def ds_sync(demarche, programme, map_file, dry_run, as_json) -> None:
    """Bring a démarche's dossiers in as teams: en_instruction and accepte become teams in the call for
    projects, en_construction is left out, refuse and sans_suite close a team not yet in investigation.
    Incremental: a second sync asks DS only for what changed since the last.

    Example: preincub intake ds sync --demarche 12345 --programme "Pré-incubation 2024" --map ds.toml --dry-run
    """
    wf = current_ctx().wf()
    mapping = sheets.load_map(map_file) if map_file else None
    try:
        result = wf.ds.sync(demarche, programme, mapping=mapping, dry_run=dry_run)
    except PreincubError as exc:  # DS's own message may quote what it was sent: never the token
        params = {k: wf.settings.redact(v) if isinstance(v, str) else v for k, v in exc.params.items()}
        if params == exc.params:
            raise
        raise type(exc)(exc.message, code=exc.code, **params) from None
    if as_json:
        return emit_json(_json(result))
    _report(result)


def _json(r) -> dict:
    """team import's keys (programme, dry_run, teams, partners, people), each team with its ds_number and
    ds_state, and the démarche's counts per DS state."""
    return {"programme": r.programme, "demarche": r.demarche, "dry_run": r.dry_run, "pages": r.pages,
            "resumed": r.resumed, "restarted": r.restarted, "rows": len(r.teams), "states": dict(r.states),
            "teams": [{"name": t.team, "partner": t.partner, "ds_number": t.number, "ds_state": t.state,
                       "action": t.action, "reason": t.reason} for t in r.teams],
            "partners": list(r.partners), "people": r.people}


QUIET = ("unchanged", "skipped")  # counted in a line, not listed: the table is what changed
# What a dossier became (DsTeam.action), as the table says it.
ACTIONS = {"created": N_("created"), "updated": N_("updated"), "unchanged": N_("unchanged"), "closed": N_("closed"),
           "skipped": N_("not imported"), "flagged": N_("deleted in DS"), "problem": N_("problem")}


def _report(r) -> None:
    created = [t for t in r.teams if t.action == "created"]
    if r.dry_run:
        say(_("Dry run: nothing was written."))
        say(tr(Np_("{n} team would be imported into {programme!q}", "{n} teams would be imported into {programme!q}"),
               n=len(created), programme=r.programme))
    else:
        say(tr(Np_("{n} team imported into {programme!q}", "{n} teams imported into {programme!q}"),
               n=len(created), programme=r.programme))
    if r.states:
        say(labelled(_("DS states"), ", ".join(f"{state} {number(n)}" for state, n in sorted(r.states.items()))))
    shown = sorted((t for t in r.teams if t.action not in QUIET), key=lambda t: t.number)
    if shown:
        t = table(_("DS number"), _("DS state"), _("Team"), _("Partner"), _("Action"), _("Reason"))
        for d in shown[:LISTED]:
            t.add_row(str(d.number), d.state, d.team or "—", d.partner or "—", _(ACTIONS.get(d.action, d.action)),
                      problems_text(d.problems, current_lang()) if d.problems else d.reason or "")
        console().print(t)
        if len(shown) > LISTED:
            say(tr(Np_("… and {n} more dossier; --json lists them all", "… and {n} more dossiers; --json lists them all"),
                   n=len(shown) - LISTED))
    made = [(_("partner"), p, "") for p in r.partners] + [(_("person"), f"{p.name} <{p.email}>", ", ".join(p.roles))
                                                          for p in r.people]
    if made:
        t = table(_("Would be created") if r.dry_run else _("Created"), _("Name"), _("Roles"))
        for row in made[:LISTED]:
            t.add_row(*row)
        console().print(t)
    skipped = sum(1 for d in r.teams if d.action == "skipped")
    if skipped:
        say(tr(Np_("{n} dossier not imported: a draft, or refused or closed before it became a team",
                   "{n} dossiers not imported: drafts, or refused or closed before they became teams"), n=skipped))
    unchanged = sum(1 for d in r.teams if d.action == "unchanged")
    if unchanged:
        say(tr(Np_("{n} dossier unchanged since the last sync", "{n} dossiers unchanged since the last sync"),
               n=unchanged))
