"""What the commands print: labels in the chosen language, lines, JSON and rich tables (rich loaded on
first use, so `preincub --help` never imports it)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import click

import states
from notifications import i18n
from workflow.validate import shown

from commands.text import _, current_lang, number, tr

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

def phase_label(pid: str) -> str:
    return _(states.PHASES[pid].label)


def say(message: str) -> None:
    """Print a line that may hold stored or typed text: controls and bidi overrides made visible."""
    click.echo(shown(message, multiline=True))


def colon() -> str:
    """": " between a label and its value, " : " (no-break space) in French: the one way the CLI
    writes "label: value" (the label is a msgid without the colon: ``labelled(_("Partners"), x)``)."""
    return i18n.colon(current_lang())


def semicolon() -> str:
    """"; " between the parts of one line, " ; " (no-break space) in French."""
    return colon().replace(":", ";")


def labelled(label: str, value: str) -> str:
    """``label: value`` in this invocation's language (``label`` already translated)."""
    return label + colon() + value





_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def _json_text(data: Any, indent: int | None) -> str:
    # json escapes C0 controls itself; C1 controls and bidi overrides become \uXXXX too (same data).
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False, indent=indent))


def emit_json(data: Any) -> None:
    """Print records (or plain data) as JSON: indented for a person at a terminal; compact for pipes
    and files (a fifth of the bytes at scale). Records go through the one serializer, ``plain``."""
    from workflow.records import plain

    click.echo(_json_text(plain(data), 2 if sys.stdout.isatty() else None))


def emit_json_rows(rows: Iterable[Any], batch: int = 2000) -> None:
    """Print a JSON list of flat records as they come, in the same bytes :func:`emit_json` gives for
    the whole list: each batch is dumped as a list and its brackets are dropped."""
    from workflow.records import row_plain

    it = iter(rows)
    first = next(it, None)  # errors (unknown programme, permission) come before any output
    if first is None:
        return click.echo("[]")
    as_dict = row_plain(type(first))
    indent = 2 if sys.stdout.isatty() else None
    cut, sep = (2, ",\n") if indent else (1, ", ")
    click.echo("[\n" if indent else "[", nl=False)
    chunk, started = [as_dict(first)], False
    while chunk:
        for r in it:
            chunk.append(as_dict(r))
            if len(chunk) >= batch:
                break
        click.echo((sep if started else "") + _json_text(chunk, indent)[cut:-cut], nl=False)
        chunk, started = [], True
        for r in it:  # the next batch, if any
            chunk.append(as_dict(r))
            break
    click.echo("\n]" if indent else "]")


def console() -> Console:
    """The console tables print on."""
    from rich.console import Console

    # Off a terminal (pipes, files, tests) rich would assume 80 columns; tables read better wider.
    # NO_COLOR: no escape sequence at all, not even bold.
    # Never markup nor emoji codes: stored text ("[/]", "[link=…]", ":x:") is shown as typed.
    opts = {"highlight": False, "markup": False, "emoji": False}
    if os.environ.get("NO_COLOR"):
        opts["color_system"] = None
    c = Console(**opts)
    return c if c.is_terminal else Console(width=int(os.environ.get("COLUMNS", 160)), **opts)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A transient progress bar on stderr, only on a terminal (never in pipes, logs or JSON)."""
    from rich.console import Console

    err = Console(stderr=True, highlight=False, markup=False, emoji=False)
    if not err.is_terminal:
        yield lambda advance=1: None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(shown(description), total=total)
        yield lambda advance=1: bar.advance(task, advance)


def styled(*parts: str | Text | tuple[str, str]) -> Text:
    """Text from pieces: strings shown as typed (controls made visible), ``(text, style)`` pairs styled."""
    from rich.text import Text

    out = Text()
    for part in parts:
        if isinstance(part, Text):
            out.append(part)
        elif isinstance(part, tuple):
            out.append(shown(part[0], multiline=True), style=part[1])
        else:
            out.append(shown(part, multiline=True))
    return out


@cache
def _safe_table() -> type:
    """A rich table whose cells are text, never markup, whoever typed them (rich loaded on first use)."""
    from rich.table import Table

    class SafeTable(Table):
        def add_row(self, *cells, **kwargs) -> None:
            super().add_row(*(styled(c) if isinstance(c, str) else c for c in cells), **kwargs)

    return SafeTable


def table(*headers: str, **kwargs: Any):
    return _safe_table()(*headers, **kwargs)


def grid(**kwargs: Any):
    return _safe_table().grid(**kwargs)


def days_cell(v: int | None) -> Text:
    from rich.text import Text

    if v is None:
        return Text("—")
    if v < 0:
        return Text(tr("{days} (expired)", days=number(v)), style="red")
    return Text(number(v), style="yellow" if v <= 14 else "")


def when_cell(text: str | None, with_time: bool = True) -> str:
    if not text:
        return "—"
    return text[:16].replace("T", " ") if with_time else text[:10]
