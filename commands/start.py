"""What runs before click parses, and where every error ends: --lang read first, the arguments checked
for UTF-8, an error as one line on stderr with its exit code. Light (click and the catalog):
`preincub --help` and a usage error import it, and no library module."""

from __future__ import annotations

import os
import re
import sys

import click

from notifications import i18n
from notifications.i18n import QUOTE_LIMIT
from notifications.visible import shown

from commands.text import tr

MAX_ERROR = 300  # one readable line, whatever the user typed
LONG_WORD = re.compile(r"(\S{%d})\S+" % QUOTE_LIMIT)


def fail(message: str, code: int, hint: str = "") -> None:
    """One line on stderr, controls made visible, cut to MAX_ERROR characters (the hint kept whole)."""
    line, room = shown(message), MAX_ERROR - len("preincub: ") - len(hint)
    if len(line) > room:
        line = line[: room - 1] + "…"
    click.echo(f"preincub: {line}{hint}", err=True)
    sys.exit(code)


def undecodable(args: list[str]) -> str | None:
    """What was typed that is not valid UTF-8 (Python hands it over as lone surrogates), in this
    invocation's language."""
    for i, a in enumerate(args, 1):
        if not _is_utf8(a):
            return tr("argument {i} ({value}) is not valid UTF-8; check the terminal's or the file's encoding",
                      i=i, value=_bytes_shown(a)[:80])
    for k, v in os.environ.items():
        if k.startswith("PREINCUB_") and not _is_utf8(v):
            return tr("the environment variable {name} is not valid UTF-8; check the terminal's or the file's "
                      "encoding", name=k)
    return None


def _bytes_shown(text: str) -> str:
    """Undecodable bytes as \\xNN, the rest as typed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_VALUED = {"--db", "--as", "--now", "--lang"}  # the global options that take a value


def chosen_lang(args: list[str]) -> str:
    """--lang (or PREINCUB_LANG) read before click parses, so its own errors are in that language
    too; only the global options count (``person add --lang`` is that person's language)."""
    lang = os.environ.get("PREINCUB_LANG")
    it = iter(args)
    for a in it:
        if a == "--lang":
            lang = next(it, lang)
        elif a.startswith("--lang="):
            lang = a.split("=", 1)[1]
        elif a in _VALUED:
            next(it, None)
        elif not a.startswith("-") or a == "--":
            break
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
