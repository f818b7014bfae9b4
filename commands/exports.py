"""export csv|json|ics, import-all: a programme's rows for spreadsheets, its calendar, the whole store as
a JSON backup and that backup restored into an empty store."""

from __future__ import annotations

import click

from notifications.i18n import Np_
from workflow.formats import dump
from workflow.formats.exports import WHATS, to_csv
from workflow.store.files import write_private

from commands.context import complete, current_ctx
from commands.output import _json_text, emit_json, say
from commands.params import FilePath
from commands.reports import check_output
from commands.text import current_lang, tr


def _output_option(f):
    return click.option("-o", "--output", type=FilePath(), metavar="FILE",
                        help="Write to this file (created 0600) instead of standard output.")(f)


def _what_option(f):
    return click.option("--what", type=click.Choice(WHATS), help="Which rows: teams (default), checkins or events.")(f)


def _write(data: bytes, output: str | None) -> None:
    """To ``output`` (a new private file, whole or not at all; never the store), else to standard output as is."""
    if output is None:
        stream = click.get_binary_stream("stdout")
        stream.write(data)
        stream.flush()
        return
    write_private(check_output(output), data)


@click.group(short_help="Export rows, a calendar or the whole store.")
def export() -> None:
    """Export a programme: rows for spreadsheets (CSV, JSON), its calendar (ICS), or the whole store (JSON)."""


@export.command(name="csv", short_help="Rows as CSV, for spreadsheets.")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@_what_option
@click.option("--sep", type=click.Choice([",", ";", "tab"]), default=",", show_default=True,
              help="Column separator; ';' also writes decimal commas, as French Excel expects.")
@_output_option
def export_csv(programme, what, sep, output) -> None:
    """A programme's teams, check-ins or audit events as CSV; to a file (-o), UTF-8 with a BOM.

    Cells that would start a spreadsheet formula (= + - @) begin with an apostrophe.

    Example: preincub export csv --programme "Pré-incubation 2020" --sep ';' -o equipes.csv
    """
    rows = current_ctx().wf().exports.rows(programme, what or "teams")
    data = to_csv(rows, current_lang(), sep, bom=output is not None).encode("utf-8")
    _write(data, output)
    if output is not None:
        _done(len(rows.rows), output)


@export.command(name="json", short_help="Rows as JSON, or the whole store.")
@click.option("--programme", shell_complete=complete("programme"),
              help="The programme whose rows to export; without it, the whole store (a backup).")
@_what_option
@_output_option
def export_json(programme, what, output) -> None:
    """A programme's rows as JSON, or, without --programme, the whole store as a backup for import-all.

    Examples: preincub export json --programme "Pré-incubation 2020" --what checkins;
    preincub export json -o sauvegarde.json
    """
    wf = current_ctx().wf()
    if programme is None:
        if what is not None:
            raise click.UsageError(tr("--what needs --programme (without it, the whole store is exported)"))
        doc = wf.dump.export()
        _write(dump.dumps(doc), output)
        if output is not None:
            _done(sum(len(t["rows"]) for t in doc["tables"].values()), output)
        return
    rows = wf.exports.rows(programme, what or "teams")
    if output is None:
        return emit_json(rows.records())
    _write((_json_text(rows.records(), 2) + "\n").encode("utf-8"), output)
    _done(len(rows.rows), output)


@export.command(name="ics", short_help="A programme's calendar (iCalendar).")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@_output_option
def export_ics(programme, output) -> None:
    """A programme's calendar (iCalendar): deadline, committee dates, reminders ahead, weekly coaching slots.

    Importing it again updates the events (their UIDs are stable).

    Example: preincub export ics --programme "Pré-incubation 2020" -o programme.ics
    """
    data = current_ctx().wf().calendars.ics(programme, current_lang())
    _write(data, output)
    if output is not None:
        say(tr("calendar written to {path!q}", path=output))


def _done(n: int, path: str) -> None:
    say(tr(Np_("{n} row written to {path!q}", "{n} rows written to {path!q}"), n=n, path=path))


@click.command(name="import-all", short_help="Restore a JSON backup into an empty store.")
@click.argument("file", metavar="FILE.json", type=click.File("rb"))
@click.option("--require-signature", is_flag=True,
              help="Refuse a backup that is not signed by this instance (its secret key).")
def import_all(file, require_signature) -> None:
    """Restore a backup (export json, without --programme) into an EMPTY store: a new file or database.

    Its audit trail is verified first: a backup edited outside preincub is refused. A store that holds
    anything, a backup from a newer preincub, or another file is refused, and nothing is written.
    Example: preincub --db postgresql+psycopg://preincub@localhost/preincub import-all sauvegarde.json
    """
    data = file.read()
    rec = dump.import_all(current_ctx().db, data, require_signature=require_signature)
    say(tr(Np_("{n} row restored into {where} (schema {schema}); the backup is {origin!t}",
               "{n} rows restored into {where} (schema {schema}); the backup is {origin!t}"),
           n=sum(rec.rows.values()), where=rec.where, schema=rec.schema, origin=dump.ORIGIN_TEXT[rec.origin]))
