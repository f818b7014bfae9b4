"""Parameter types and options shared by the commands: dates, weeks, amounts, row ids, --json."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from workflow.clock import parse_date, parse_datetime
from workflow.errors import PreincubError
from workflow.rules.coaching import parse_week
from workflow.rules.money import parse_amount, parse_percent

from commands.text import current_lang


class Parsed(click.ParamType):
    """A value parsed by one of the library's parsers; a ValueError is click's usage error (exit 2),
    in this invocation's language when the library raised it (``Invalid``). A value already of
    ``kind`` (a default) is kept."""

    def __init__(self, name: str, parse: Callable[[str], Any], kind: type | None = None) -> None:
        self.name, self.parse, self.kind = name, parse, kind

    def convert(self, value, param, ctx):
        kind = self.kind
        if kind is not None and isinstance(value, kind):
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
# Money, read by the library's parsers (workflow/rules/money.py): "9000", "9 000", "9000,00", "9000.00"; a share "50".
AMOUNT = Parsed("EUR", parse_amount, Decimal)
PERCENT = Parsed("PERCENT", parse_percent, Decimal)


class FilePath(click.Path):
    """A file (not a directory) given on the command line. click names the kind ("file") in its
    messages, translated when the type is made; a command's module is loaded after the language is
    chosen, and one process (the tests) may run commands in several: the name is translated when a
    message says it, in that invocation's language."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(dir_okay=False, **kwargs)

    @property
    def name(self) -> str:  # type: ignore[override]
        return gettext.gettext("file")  # click's own msgid, from its catalog

    @name.setter
    def name(self, value: str) -> None:
        """click's constructor sets the name once; it is read through the property instead."""


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys, ISO dates).")(f)
