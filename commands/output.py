"""What the commands print: phases in the chosen language, lines, JSON and rich tables."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from functools import cache
from itertools import islice
from json.encoder import encode_basestring as _encode_str  # what json.dumps(ensure_ascii=False) writes for a str
from operator import attrgetter
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

import states
from notifications.visible import shown
from workflow.records import json_keys, plain, row_plain

from commands.text import _, number, tr


def phase_label(pid: str) -> str:
    return _(states.PHASES[pid].label)


def say(message: str) -> None:
    """Print a line that may hold stored or typed text: controls and bidi overrides made visible."""
    click.echo(shown(message, multiline=True))


_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"


@cache
def _json_unsafe() -> re.Pattern[str]:
    """What JSON output writes as \\uXXXX beyond what json escapes (compiled on the first JSON output)."""
    return re.compile(_JSON_UNSAFE)


def _json_text(data: Any, indent: int | None) -> str:
    # json escapes C0 controls itself; C1 controls and bidi overrides become \uXXXX too (same data).
    return _json_unsafe().sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False, indent=indent))


def _escaped(s: str) -> str:
    """One string as :func:`_json_text` writes it (a value or a key)."""
    s = _encode_str(s)  # of the unsafe characters only DEL (\x7f) is ASCII
    return s if s.isascii() and "\x7f" not in s else _json_unsafe().sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def _json_value(v: Any) -> str:
    """One flat value in the bytes :func:`_json_text` gives for it: a string searched for unsafe
    characters only when not ASCII (``str.isascii`` is O(1)) or holding DEL; anything else than
    str, None, bool and int through ``json.dumps``."""
    cls = v.__class__
    if cls is str:
        return _escaped(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if cls is int:
        return int.__repr__(v)
    return _json_text(v, None)


_MEMO_LIMIT = 4096  # distinct values remembered per column (a column of unique names stops growing there)
# The column types whose values can key a memo: one Python type each (plus None), so no value is
# taken for an equal one of another type (True == 1 == 1.0 as dict keys).
_MEMO_TYPES = ({"str", "None"}, {"int", "None"}, {"bool", "None"})


class _Memo(dict):
    """One column's values as :func:`_json_value` writes them, each distinct value encoded once."""

    def __missing__(self, value: Any) -> str:
        encoded = _escaped(value) if value.__class__ is str else _json_value(value)
        if len(self) < _MEMO_LIMIT:
            self[value] = encoded
        return encoded


class _Unmemoized:
    """A column of another type: each value encoded by itself."""

    __getitem__ = staticmethod(_json_value)


def _rows_encoder(cls: type) -> Callable[[list[Any]], list[str]]:
    """A flat record class's compact JSON objects for a batch of rows, without a dict per row and with
    no Python per value: the batch is read column by column (``attrgetter``, ``zip``), each column's
    values are mapped through its memo (a status repeats its programmes, partners, phases, dates
    and coaches thousands of times), and the rows are written through one ``%`` template holding
    the keys. The bytes are :func:`_json_text`'s."""
    keys = json_keys(cls)
    template = "{" + ", ".join(_escaped(k).replace("%", "%%") + ": %s" for _, k in keys) + "}"
    types = {f.name: {p.strip() for p in str(f.type).split("|")} for f in fields(cls)}
    columns = [_Memo() if any(types[attr] <= t for t in _MEMO_TYPES) else _Unmemoized() for attr, _ in keys]
    lookups = [c.__getitem__ for c in columns]
    get = attrgetter(*(attr for attr, _ in keys))
    if len(keys) == 1:
        values = get

        def get(r: Any) -> tuple[Any, ...]:
            return (values(r),)

    fill = template.__mod__

    def encode(rows: list[Any]) -> list[str]:
        encoded = [list(map(lookup, column)) for lookup, column in zip(lookups, zip(*map(get, rows)))]
        return list(map(fill, zip(*encoded)))

    return encode


def emit_json(data: Any) -> None:
    """Print records (or plain data) as JSON: indented for a person at a terminal; compact for pipes
    and files (a fifth of the bytes at scale). Records go through the one serializer, ``plain``."""
    click.echo(_json_text(plain(data), 2 if sys.stdout.isatty() else None))


def emit_json_rows(rows: Iterable[Any], batch: int = 2000) -> None:
    """Print a JSON list of flat records as they come, in the same bytes :func:`emit_json` gives for
    the whole list: compact, each batch of rows encoded from their values (:func:`_rows_encoder`);
    indented, each batch is dumped as a list and its brackets are dropped."""
    it = iter(rows)
    first = next(it, None)  # errors (unknown programme, permission) come before any output
    if first is None:
        return click.echo("[]")
    indent = 2 if sys.stdout.isatty() else None
    if indent is None:  # pipes and files (large outputs): each row written straight from its values
        encode = _rows_encoder(type(first))
        click.echo("[" + encode([first])[0], nl=False)
        while chunk := list(islice(it, batch)):
            click.echo(", " + ", ".join(encode(chunk)), nl=False)
        click.echo("]")
        return None
    as_dict = row_plain(type(first))  # indented, for a person at a terminal
    cut, sep = 2, ",\n"
    click.echo("[\n", nl=False)
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
    click.echo("\n]")


def console() -> Console:
    """The console tables print on."""
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
    err = Console(stderr=True, highlight=False, markup=False, emoji=False)
    if not err.is_terminal:
        yield lambda advance=1: None
        return
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(shown(description), total=total)
        yield lambda advance=1: bar.advance(task, advance)


def styled(*parts: str | Text | tuple[str, str]) -> Text:
    """Text from pieces: strings shown as typed (controls made visible), ``(text, style)`` pairs styled."""
    out = Text()
    for part in parts:
        if isinstance(part, Text):
            out.append(part)
        elif isinstance(part, tuple):
            out.append(shown(part[0], multiline=True), style=part[1])
        else:
            out.append(shown(part, multiline=True))
    return out


class SafeTable(Table):
    """A rich table whose cells are text, never markup, whoever typed them."""

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*(styled(c) if isinstance(c, str) else c for c in cells), **kwargs)


def table(*headers: str, **kwargs: Any) -> SafeTable:
    return SafeTable(*headers, **kwargs)


def grid(**kwargs: Any) -> SafeTable:
    return SafeTable.grid(**kwargs)


def days_cell(v: int | None) -> Text:
    if v is None:
        return Text("—")
    if v < 0:
        return Text(tr("{days} (expired)", days=number(v)), style="red")
    return Text(number(v), style="yellow" if v <= 14 else "")


def when_cell(text: str | None, with_time: bool = True) -> str:
    if not text:
        return "—"
    return text[:16].replace("T", " ") if with_time else text[:10]
