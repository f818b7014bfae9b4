"""Personal data: person export (right of access), person erase (right to erasure), purge (retention)
(cli.COMMANDS names purge, the ``person`` group of commands/directory.py the other two)."""

from __future__ import annotations

import json
from datetime import date

import click

from commands.context import complete, current_ctx
from commands.output import emit_json, say
from commands.params import DATE, FilePath, json_option
from commands.reports import write_document
from commands.text import _, labelled, number, tr


@click.command(name="export", short_help="All the store holds on a person (JSON).")
@click.argument("email", shell_complete=complete("person"))
@click.option("-o", "--output", "output", type=FilePath(writable=True), metavar="FILE",
              help="Write the JSON to this file (created 0600) instead of standard output.")
def person_export(email: str, output: str | None) -> None:
    """Everything the store holds about EMAIL, as JSON (right of access): coordinators, or the person
    themselves.

    Example: preincub person export ines.haddad@somme.example -o ines.json"""
    wf = current_ctx().wf()
    doc = wf.privacy.export(email)
    if output is None:
        return emit_json(doc)
    write_document(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", output)


@click.command(name="erase", short_help="Erase a person (right to erasure).")
@click.argument("email", shell_complete=complete("person"))
@click.option("--reason", required=True, help="Why (the request and its date); recorded, so without their name.")
@json_option
def person_erase(email: str, reason: str, as_json: bool) -> None:
    """Erase EMAIL (right to erasure): a pseudonym replaces their name and e-mail everywhere, the text
    they wrote and their messages go; counts, phases and dates stay (coordinators).

    Example: preincub person erase ines.haddad@somme.example --reason "Request of 2 November 2020\""""
    wf = current_ctx().wf()
    r = wf.privacy.erase(email, reason)
    if as_json:
        return emit_json(r)
    say(tr("{email} is erased: they are now {pseudonym}", email=email.strip().lower(), pseudonym=r.pseudonym))
    for label, n in ((_("Check-ins emptied of their text"), r.checkins), (_("Events rewritten"), r.events),
                     (_("Other rows that named them, rewritten"), r.rows),
                     (_("Messages to them, deleted"), r.messages)):
        say("  " + labelled(label, number(n)))
    _file_note(wf.store.dialect, r.compacted)


def _file_note(dialect: str, compacted: bool) -> None:
    """Where the old bytes may still be: the SQLite file when it could not be compacted; PostgreSQL's
    dead row versions until it vacuums."""
    if dialect == "sqlite" and compacted:
        say(_("The store file was compacted: no old byte of the erased text is left in it."))
    elif dialect == "sqlite":
        click.echo("preincub: " + _("the store file could not be compacted (another process has it open); old text "
                                    "may remain in its free pages until 'sqlite3 FILE VACUUM' runs"), err=True)
    else:
        say(_("PostgreSQL keeps old row versions until it vacuums: run VACUUM FULL to remove them from its files."))


@click.command(name="purge", short_help="Remove old free text (retention).")
@click.option("--before", type=DATE, required=True,
              help="Programmes whose deadline is before this day (YYYY-MM-DD, not after today).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, and change nothing.")
@json_option
def purge(before: date, dry_run: bool, as_json: bool) -> None:
    """Retention: remove the free text of programmes ended before a day (check-in text, assessment notes,
    event reasons, formal notices' text, expense labels); counts, amounts, phases and dates stay
    (coordinators).

    Example: preincub purge --before 2021-06-23 --dry-run"""
    r = current_ctx().wf().privacy.purge(before, dry_run=dry_run)
    if as_json:
        return emit_json(r)
    if not r.programmes:
        say(tr("no programme ended before {before!d}: nothing to purge", before=before))
        return
    head = _("A purge would remove (dry run: nothing was changed):") if dry_run else _("Removed:")
    say(labelled(tr("Programmes ended before {before!d}", before=before), ", ".join(r.programmes)))
    say(head)
    for label, n in ((_("Check-ins' text"), r.checkins), (_("Assessment notes"), r.assessments),
                     (_("Formal notices' text"), r.notices), (_("Expense labels"), r.expenses),
                     (_("Events' reasons and notes"), r.events)):
        say("  " + labelled(label, number(n)))
