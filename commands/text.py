"""The CLI's language: every sentence the CLI prints is English in the code and translated here,
through the one catalog (notifications/locale), in the language of this invocation (--lang).

Help texts (command docstrings, ``help=`` of options) stay plain English in the code, as click
expects; :func:`translate_command` swaps them for their translation before click formats anything, and
:func:`help_texts` hands them to the catalog's extractor.

Light (click and the catalog): `preincub --help` imports it.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import click

from notifications import i18n
from notifications.i18n import N_

_lang = {"value": i18n.DEFAULT_LANG}  # this invocation's language, set by App.main before parsing


def current_lang() -> str:
    return _lang["value"]


def set_lang(value: str) -> None:
    _lang["value"] = value


def _(message: str) -> str:
    """A sentence in this invocation's language."""
    return i18n.translations(_lang["value"]).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(_lang["value"]).ngettext(singular, plural, n)


def tr(message: i18n.Message, **params: Any) -> str:
    """A sentence with placeholders (``{x!q}``, ``{n!n}``… see notifications.i18n), filled."""
    return i18n.text(_lang["value"], message, params)


def number(value: float | int) -> str:
    return i18n.format_number(value, _lang["value"])


# A command's texts: its help, and the words of its usage line ("[OPTIONS]", "COMMAND [ARGS]...").
_HELP_FIELDS = ("help", "short_help", "epilog", "options_metavar", "subcommand_metavar")


def day(value: date) -> str:
    """A date as people read it, in the chosen language ("23 juin 2020")."""
    return i18n.format_day(value, current_lang())


def _sources(obj: Any, fields: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(field, English source) of an object's help texts; the source is kept on first sight."""
    kept = obj.__dict__.setdefault("_preincub_help", {f: inspect.cleandoc(getattr(obj, f, None) or "")
                                                      for f in fields})
    return ((f, s) for f, s in kept.items() if s)


# What click shows for a value by its type (click's type names, TEXT, INTEGER…), as msgids: the help writes
# them in its language. A range is its number's kind (click adds the bounds); the first match counts.
_KINDS = ((click.types.BoolParamType, N_("BOOLEAN")), (click.types.IntParamType, N_("INTEGER")),
          (click.types.FloatParamType, N_("NUMBER")), (click.File, N_("FILE")),
          (click.types.StringParamType, N_("TEXT")))


def _kind(p: click.Parameter) -> tuple[str, bool] | None:
    """The English word click shows for ``p``'s value, and whether it is ``p``'s own metavar (shown as is;
    else click decorates it: "[NAME]" when optional, "NAME..." when repeated). None where no word is
    shown (a flag) or the value is spelled out ("[md|html|pdf]")."""
    if p.metavar:
        return p.metavar, True
    if isinstance(p.type, (click.Choice, click.DateTime)) or getattr(p, "is_flag", False) or getattr(p, "count", False):
        return None
    if isinstance(p, click.Argument):
        return p.name.upper(), False
    if isinstance(p.type, click.Path):
        return (N_("FILE") if not p.type.dir_okay else N_("DIRECTORY") if not p.type.file_okay else N_("PATH")), False
    word = next((w for cls, w in _KINDS if isinstance(p.type, cls)), None)
    return (word or p.type.name.upper()), False


def _metavar_source(p: click.Parameter) -> tuple[str, bool] | None:
    """:func:`_kind`, in English: kept on first sight, before it is translated."""
    if "_preincub_metavar" not in p.__dict__:
        p.__dict__["_preincub_metavar"] = _kind(p)
    return p.__dict__["_preincub_metavar"]


def _translate_metavar(p: click.Parameter, gettext: Callable[[str], str]) -> None:
    """``p``'s value word in this invocation's language, decorated as click would."""
    kept = _metavar_source(p)
    if kept is None:
        return
    word, own = kept
    shown = gettext(word)
    if not own:
        if isinstance(p, click.Argument) and not p.required:
            shown = f"[{shown}]"
        if p.nargs != 1:
            shown += "..."
    p.metavar = shown


def _walk(cmd: click.Command) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every command of the tree, lazy groups' too (their modules imported: maintenance only)."""
    yield cmd, _HELP_FIELDS
    for p in cmd.params:
        if isinstance(p, click.Option):
            yield p, ("help",)
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _walk(cmd.get_command(ctx, name))


def _translate(obj: Any, fields: tuple[str, ...], gettext: Callable[[str], str]) -> None:
    for f, source in _sources(obj, fields):
        setattr(obj, f, gettext(source))
    if isinstance(obj, click.Command) and obj.help and not obj._preincub_help.get("short_help"):
        obj.short_help = short_help(obj.help)


def translate_command(cmd: click.Command) -> None:
    """Put what ``cmd --help`` shows in this invocation's language: its help texts, its options', and
    its subcommands' (their line in its list). cli.Context calls it for each command click makes a
    context for, so a run translates the commands on its path, not the whole tree, and is right
    when tests switch languages."""
    gettext = i18n.translations(_lang["value"]).gettext
    _translate(cmd, _HELP_FIELDS, gettext)
    for p in cmd.params:
        if isinstance(p, click.Option):
            _translate(p, ("help",), gettext)
        _translate_metavar(p, gettext)
    for sub in getattr(cmd, "commands", {}).values():
        _translate(sub, _HELP_FIELDS, gettext)


def short_help(text: str, limit: int = 60) -> str:
    """A command's one line in the list of commands: its first sentence, cut at ``limit`` with "...",
    as click makes it, but a no-break space stays one (click splits on it, and French loses the space
    it puts before ":" and ";"). 60 characters fit on one line of an 80-column terminal beside the
    longest command name; a command whose first sentence is longer has a ``short_help`` that fits."""
    words = re.split(r"[ \t\n]+", text.partition("\n\n")[0].strip())
    for i, word in enumerate(words):
        if word.endswith(".") and (i == len(words) - 1 or not words[i + 1][:1].islower()):
            words = words[: i + 1]
            break
    line = " ".join(words)
    if len(line) <= limit:
        return line
    glued = textwrap.shorten(line.replace("\u00a0", "\ue000"), limit, placeholder="...", break_on_hyphens=False)
    return glued.replace("\ue000", "\u00a0")


def help_texts(root: click.Command) -> Iterator[str]:
    """Every English help text of the tree, and the words its usage lines show for values, for the catalog."""
    for obj, fields in _walk(root):
        for _f, source in _sources(obj, fields):
            yield source
        for p in getattr(obj, "params", ()):
            kept = _metavar_source(p)
            if kept is not None:
                yield kept[0]


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

