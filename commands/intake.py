"""team import: the applications of a call for projects, from a CSV or XLSX file."""

from __future__ import annotations

from contextlib import nullcontext

import click

from notifications.i18n import Np_
from notifications.visible import shown
from workflow.formats import sheets
from workflow.formats.intake import BadRows

from commands.context import complete, current_ctx
from commands.output import console, emit_json, progress, say, table
from commands.params import json_option
from commands.start import MAX_ERROR
from commands.text import _, current_lang, labelled, number, tr

BAR_FROM = 200  # rows: a smaller file is done before a bar would show
LISTED = 100  # created items listed one by one; --json gives them all
PROBLEMS_SHOWN = 200  # lines of problems on stderr, then the count of the rest


@click.command(name="import", short_help="Import teams from a CSV or XLSX file.")
@click.argument("file", metavar="FILE.csv|FILE.xlsx")
@click.option("--programme", required=True, shell_complete=complete("programme"),
              help="The programme the teams apply to.")
@click.option("--map", "map_file", metavar="MAP.toml",
              help="A TOML file mapping the file's headers to preincub's columns (e.g. a Démarches Simplifiées "
                   "export's field labels), or a column to its position (problem = 7 or problem = \"G\").")
@click.option("--dry-run", is_flag=True, help="Show what would be created; write nothing.")
@json_option
def team_import(file, programme, map_file, dry_run, as_json) -> None:
    """Import teams from a CSV or XLSX file of applications, all or nothing.

    Columns (French or English headers): équipe/team, collectivité/partner, problème/problem,
    intrapreneur ("Nom Prénom <email>", or name and e-mail columns), jours par semaine/days per week,
    coach, sponsor. Unknown partners and people are created when the row gives enough; teams already
    in the programme are left as they are. A Démarches Simplifiées export's rows are imported only in
    instruction or accepted (its "État du dossier" column), and "80 - Somme" is the partner Somme.

    Example: preincub team import candidatures.csv --programme "Pré-incubation 2021" --dry-run
    """
    wf = current_ctx().wf()
    mapping = sheets.load_map(map_file) if map_file else None
    sheet = sheets.read(file)
    bar = progress(_("Importing teams"), len(sheet.rows)) if len(sheet.rows) > BAR_FROM else nullcontext(None)
    try:
        with bar as advance:
            result = wf.intake.import_sheet(sheet, programme, mapping=mapping, dry_run=dry_run, progress=advance)
    except BadRows as exc:
        lang = current_lang()
        for p in exc.problems[:PROBLEMS_SHOWN]:
            _problem_line(p.text(lang))
        if len(exc.problems) > PROBLEMS_SHOWN:
            rest = len(exc.problems) - PROBLEMS_SHOWN
            _problem_line(tr(Np_("… and {n} more problem", "… and {n} more problems"), n=rest))
        raise
    if as_json:
        return emit_json(result)
    _report(result)


def _problem_line(text: str) -> None:
    line = shown(text)
    if len(line) > MAX_ERROR - len("preincub: "):
        line = line[: MAX_ERROR - len("preincub: ") - 1] + "…"
    click.echo("preincub: " + line, err=True)


def _report(r) -> None:
    if r.dry_run:
        say(_("Dry run: nothing was written."))
        say(tr(Np_("{n} team would be imported into {programme!q}", "{n} teams would be imported into {programme!q}"),
               n=len(r.teams), programme=r.programme))
    else:
        say(tr(Np_("{n} team imported into {programme!q}", "{n} teams imported into {programme!q}"),
               n=len(r.teams), programme=r.programme))
    made = ([(_("team"), t, "") for t in r.teams] + [(_("partner"), p, "") for p in r.partners]
            + [(_("person"), f"{p.name} <{p.email}>", ", ".join(p.roles)) for p in r.people])
    if made and len(made) <= LISTED:
        t = table(_("Would be created") if r.dry_run else _("Created"), _("Name"), _("Roles"))
        for row in made:
            t.add_row(*row)
        console().print(t)
    elif made:
        counts = {"partners": tr(Np_("{n!n} partner", "{n!n} partners"), n=len(r.partners)),
                  "people": tr(Np_("{n!n} person", "{n!n} people"), n=len(r.people))}
        say(tr("would be created: {partners} and {people}; --json lists them all", **counts) if r.dry_run
            else tr("created: {partners} and {people}; --json lists them all", **counts))
    for e in r.existing[:LISTED]:
        say(tr("line {line}: the team {name!q} is already in the programme; left as it is", line=e.line,
               name=e.name))
    if len(r.existing) > LISTED:
        say(tr(Np_("… and {n} more team already in the programme", "… and {n} more teams already in the programme"),
               n=len(r.existing) - LISTED))
    if r.skipped:
        states = ", ".join(f"{state} {number(n)}" for state, n in r.skipped.items())
        say(tr(Np_("{n} row not imported: a draft, or a refused or closed dossier ({states})",
                   "{n} rows not imported: drafts, or refused or closed dossiers ({states})"),
               n=sum(r.skipped.values()), states=states))
    if r.ignored_columns:
        say(labelled(_("Columns ignored"), ", ".join(repr(c) for c in r.ignored_columns)))
