"""schema: the JSON Schemas of the --json outputs and of the backup (workflow/formats/schemas), the
promise scripts rely on."""

from __future__ import annotations

import click

from workflow.formats import schemas

from commands.output import console, say, table
from commands.text import _


@click.command()
@click.argument("command", nargs=-1, metavar="[COMMAND]")
def schema(command: tuple[str, ...]) -> None:
    """The JSON Schemas of the --json outputs and the backup.

    Without COMMAND, the list of schemas; with one, that schema (JSON Schema draft 2020-12). A field
    may be added to an output; none is removed or retyped without a major version.

    Examples: preincub schema; preincub schema team show > team-show.schema.json
    """
    if command:
        click.echo(schemas.text(schemas.name_of(command)), nl=False)
        return
    t = table(_("Schema"), _("Output"))
    for name in schemas.names():
        t.add_row(name, schemas.title(name))
    console().print(t)
    say(_("Print one: preincub schema NAME"))
