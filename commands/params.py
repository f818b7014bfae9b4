"""Parameter types and options shared by the commands: dates, weeks, amounts, numbers, row ids, --json.

Every number option goes through :class:`Number` (a decimal: "2,5" as French writes it, or "2.5") or
:class:`Integer` / :class:`IntegerRange` (ASCII digits): click's own FLOAT and INT take what Python's
float() and int() take ("1e400", "nan", "１２", "1_000"), which nobody means on a command line."""

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
from workflow.rules.numbers import parse_decimal, parse_whole

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
        return _parsed(self, self.parse, value, param, ctx)


def _parsed(ptype: click.ParamType, parse: Callable[[str], Any], value: str, param: Any, ctx: Any) -> Any:
    """``parse(value)``; a ValueError is click's usage error, in this invocation's language when the
    library raised it (``Invalid``)."""
    try:
        return parse(value)
    except PreincubError as exc:
        ptype.fail(exc.text(current_lang()), param, ctx)
    except ValueError as exc:
        ptype.fail(str(exc), param, ctx)


class _Typed:
    """A mixin over click's number types: the text is read by ``read`` (a refusal is click's usage error,
    in this invocation's language) before click's own conversion and range check; a number passes."""

    read: Callable[[str], Any]

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            value = _parsed(self, self.read, value, param, ctx)  # type: ignore[arg-type]
        return super().convert(value, param, ctx)  # type: ignore[misc]


class Number(_Typed, click.types.FloatParamType):
    """A decimal number option ("2,5" or "2.5"), as :func:`parse_decimal` reads it."""

    read = staticmethod(parse_decimal)


class Integer(_Typed, click.types.IntParamType):
    """A whole number option, ASCII digits only (:func:`parse_whole`)."""

    read = staticmethod(parse_whole)


class IntegerRange(_Typed, click.IntRange):
    """A whole number option within bounds (click's range check and message), ASCII digits only."""

    read = staticmethod(parse_whole)


NUMBER = Number()
INTEGER = Integer()
DATE = Parsed("DATE", parse_date, date)
DATETIME = Parsed("DATETIME", parse_datetime, datetime)
WEEK = Parsed("YYYY-Www", parse_week)
ID = IntegerRange(1, 2**63 - 1)  # a row id: what the store can hold
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
