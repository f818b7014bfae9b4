"""Parameter types and options shared by the commands: dates, weeks, row ids, --json, shell completion.

The library's parsers and the modules behind some choices are imported on first use, not when the
commands are declared: `preincub --help` and a usage error never load zoneinfo, decimal or the guards."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

import click

from commands.text import current_lang


def _named(where: str) -> Any:
    """The object ``"module:name"`` names, its module imported now."""
    module, _, name = where.partition(":")
    return getattr(import_module(module), name)


class Parsed(click.ParamType):
    """A value parsed by one of the library's parsers; a ValueError is click's usage error (exit 2),
    in this invocation's language when the library raised it (``Invalid``). The parser and the type
    it returns are named ("module:name") and imported on the first value."""

    def __init__(self, name: str, parse: str, kind: str | None = None) -> None:
        self.name, self._parse, self._kind = name, parse, kind

    @property
    def parse(self) -> Callable[[str], Any]:
        return _named(self._parse)

    @property
    def kind(self) -> type | None:
        return None if self._kind is None else _named(self._kind)

    def convert(self, value, param, ctx):
        from workflow.errors import PreincubError

        kind = self.kind
        if kind is not None and isinstance(value, kind):
            return value
        try:
            return self.parse(value)
        except PreincubError as exc:
            self.fail(exc.text(current_lang()), param, ctx)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class LazyChoice(click.Choice):
    """A :class:`click.Choice` whose choices are read when first needed (to parse a value, or to show
    an option's help), so declaring a command loads no library module: ``source`` names them
    ("module:NAME", as :class:`Parsed`'s parsers) or makes them."""

    def __init__(self, source: str | Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        self._source, self._choices, self.case_sensitive = source, None, case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._choices is None:
            source = self._source
            self._choices = tuple(_named(source) if isinstance(source, str) else source())
        return self._choices

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:
        self._choices = tuple(value)


DATE = Parsed("DATE", "workflow.clock:parse_date", "datetime:date")
DATETIME = Parsed("DATETIME", "workflow.clock:parse_datetime", "datetime:datetime")
WEEK = Parsed("YYYY-Www", "workflow.coaching:parse_week")
ID = click.IntRange(1, 2**63 - 1)  # a row id: what the store can hold
YESNO = click.Choice(["yes", "no", "oui", "non"], case_sensitive=False)
# Money, read by the library's parsers (workflow/money.py): "9000", "9 000", "9000,00", "9000.00"; a share "50".
AMOUNT = Parsed("EUR", "workflow.money:parse_amount", "decimal:Decimal")
PERCENT = Parsed("PERCENT", "workflow.money:parse_percent", "decimal:Decimal")


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
