"""Parameter types and options shared by the commands: dates, weeks, row ids, --json, shell completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from workflow.clock import parse_date, parse_datetime
from workflow.coaching import parse_week
from workflow.errors import PreincubError
from workflow.money import parse_amount, parse_percent

from commands.text import current_lang

class Parsed(click.ParamType):
    """A value parsed by one of the library's parsers; a ValueError is click's usage error (exit 2),
    in this invocation's language when the library raised it (``Invalid``)."""

    def __init__(self, name: str, parse: Callable[[str], Any], kind: type | None = None) -> None:
        self.name, self.parse, self.kind = name, parse, kind

    def convert(self, value, param, ctx):
        if self.kind is not None and isinstance(value, self.kind):
            return value
        try:
            return self.parse(value)
        except PreincubError as exc:
            self.fail(exc.text(current_lang()), param, ctx)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = Parsed("DATE", parse_date, date)
DATETIME = Parsed("DATETIME", parse_datetime, datetime)
WEEK = Parsed("YYYY-Www", parse_week)
ID = click.IntRange(1, 2**63 - 1)  # a row id: what the store can hold
YESNO = click.Choice(["yes", "no", "oui", "non"], case_sensitive=False)
# Money, read by the library's parsers (workflow/money.py): "9000", "9 000", "9000,00", "9000.00"; a share "50".
AMOUNT = Parsed("EUR", parse_amount, Decimal)
PERCENT = Parsed("PERCENT", parse_percent, Decimal)



def complete(kind: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of team and programme names and e-mails, read from the store the command
    line names (--db, --as), with what the acting person may read; nothing when it cannot be read."""
    def names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
        root = ctx.find_root().params
        try:
            from workflow import Workflow

            wf = Workflow.open(root.get("db"), actor=root.get("actor"))
            try:
                return wf.complete(kind, incomplete)
            finally:
                wf.close()
        except Exception:  # noqa: BLE001 - a completion never breaks the shell
            return []
    return names


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys, ISO dates).")(f)
