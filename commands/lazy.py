"""The one lazy group of the CLI (click's documented pattern): a subcommand's module is imported when
that subcommand runs, so `preincub --help` and an unknown command load none of them."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from gettext import gettext as click_gettext  # what click's own sentences go through ("Commands")
from importlib import import_module

import click

from commands.text import _, short_help, translate_command


def _adopt(cmd: click.Command, context_class: type[click.Context]) -> None:
    """``cmd`` and its subcommands make their contexts as the group that loaded it does."""
    cmd.context_class = context_class
    for sub in getattr(cmd, "commands", {}).values():
        _adopt(sub, context_class)


@contextmanager
def _loading() -> Iterator[None]:
    """A command's modules imported with the cyclic collector paused, then what they made frozen out of its
    later runs (``gc.freeze``): the library's import makes some 300,000 objects, none of them garbage, and the
    collector's passes over them were ~8 % of a command's start; they would also be scanned again by every
    full collection of the command itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.enable()


class LazyGroup(click.Group):
    """A group whose subcommands ``lazy`` names: ``{name: ("module:attribute", summary)}``. The module
    is imported by :meth:`get_command`, when the subcommand runs (or its completion or help is
    asked for). ``summary``, when given, is that command's own one-line summary (its ``short_help``,
    else its help; a test checks it): the group's list of commands shows it (its first sentence),
    translated, without importing the module."""

    def __init__(self, *args, lazy: Mapping[str, tuple[str, str | None]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _sep, attr = self.lazy[cmd_name][0].partition(":")
        with _loading():
            cmd = getattr(import_module(module), attr)
        _adopt(cmd, self.context_class)
        translate_command(cmd)  # its line in this group's list, when read from the command itself
        return cmd

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # click suggests from the commands loaded: from all here
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=exc.ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, each line from the table where it has the summary."""
        rows = []
        for name in self.list_commands(ctx):
            summary = None if name in self.commands else self.lazy[name][1]  # an added command wins
            if summary is not None:
                rows.append((name, short_help(_(summary))))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section(click_gettext("Commands")):
                formatter.write_dl(rows)
