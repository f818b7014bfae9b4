"""preincub's command line: parse, call ``workflow``, render with rich. No SQL and no rules here.

This module is the click application (the root group, its global options, the mapping of errors to
one line and an exit code); the commands live in the ``commands`` package, one module per concern.
It stays light to import: `--help`, `--version` and a usage error load no library module that a
command body needs (tests/cli/test_cli_startup.py), and the library's errors only when one is raised."""

from __future__ import annotations

import os
import sys
import warnings

import click

from notifications import i18n

from commands import checkins, directory, moves, reminders, store, teams, web
from commands.context import Ctx, current_ctx
from commands.errors import (
    ERROR_HINTS, LONG_WORD, MAX_ERROR, UNMET_HINTS, chosen_lang, error_hint, exit_code, fail, refusal,
    show_warning, undecodable, unmet_text,
)
from commands.params import DATETIME
from commands.output import colon
from commands.text import _, current_lang, set_lang, tr, translate_command

__all__ = ["App", "Ctx", "ERROR_HINTS", "MAX_ERROR", "UNMET_HINTS", "app", "current_ctx", "error_hint", "exit_code",
           "main", "unmet_text"]

# pyproject.toml's version, given to click so `--version` never reads the installed metadata (importlib.metadata
# costs more than the rest of the start-up); a test checks that the two agree.
__version__ = "0.1.0"


class HelpFormatter(click.HelpFormatter):
    """click's help, with the language's colon after a heading: "Options\u00a0:" in French."""

    def __init__(self, indent_increment: int = 2, width: int | None = None, max_width: int | None = None) -> None:
        # click's own width, without the `import shutil` click makes for it (shutil loads bz2 and lzma).
        if width is None:
            width = click.formatting.FORCED_WIDTH
            if width is None:
                width = max(min(terminal_columns(), 80 if max_width is None else max_width) - 2, 50)
        super().__init__(indent_increment, width, max_width)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}{colon().rstrip()}\n")


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS when a positive integer, else the terminal's
    (sys.__stdout__), else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class Context(click.Context):
    """Every command's context: its help in this invocation's language, formatted by HelpFormatter."""

    formatter_class = HelpFormatter

    def __init__(self, command: click.Command, *args, **kwargs) -> None:
        translate_command(command)  # before anything reads a help text: its --help, a completion
        super().__init__(command, *args, **kwargs)


def _use_context(cmd: click.Command) -> None:
    """Every command of the tree formats its help with :class:`HelpFormatter`."""
    cmd.context_class = Context
    for sub in getattr(cmd, "commands", {}).values():
        _use_context(sub)


class App(click.Group):
    """Errors become one line on stderr with DESIGN.md's exit codes; never a traceback."""

    context_class = Context

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        warnings.showwarning = show_warning
        args = list(sys.argv[1:] if args is None else args)
        set_lang(chosen_lang(args))  # first: even the refusal of undecodable arguments is in that language
        bad = undecodable(args)
        if bad:
            fail(bad, 2)
        # The help texts in that language (each context translates its command: translate_command) and
        # their headings ("Options\u00a0:"), commands added late included.
        _use_context(self)
        before = os.environ.get("LANGUAGE")
        i18n.use_for_click(current_lang())  # click's own sentences ("Usage:", "Missing argument"…)
        try:
            return self._main(args, prog_name, complete_var, **extra)
        finally:
            if before is None:
                os.environ.pop("LANGUAGE", None)
            else:
                os.environ["LANGUAGE"] = before

    def _main(self, args, prog_name, complete_var, **extra):
        try:
            rv = super().main(args, prog_name or "preincub", complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `preincub` or `preincub team` alone: the help
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.UsageError as exc:
            hint = " (" + tr("see '{command} --help'", command=exc.ctx.command_path) + ")" if exc.ctx else ""
            # click quotes what was typed whole: cut any overlong word of it as errors.quote does.
            fail(LONG_WORD.sub(r"\1…", exc.format_message().replace("\n", " ")), 2, hint)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail(_("aborted"), 130)
        except Exception as exc:  # noqa: BLE001 - checked in this order; a bug: one line, the traceback on request
            from workflow.errors import PreincubError, Refused  # the library's errors: loaded when one may be

            if isinstance(exc, Refused):
                fail(refusal(exc, current_lang()), exit_code(exc))
            if isinstance(exc, PreincubError):
                fail(exc.text(current_lang()), exit_code(exc), error_hint(exc, current_lang()))
            if isinstance(exc, UnicodeError):
                fail(_("some text is not valid UTF-8 (standard input, a file or the terminal); check its encoding"), 1)
            if isinstance(exc, OverflowError):
                fail(_("a number is out of range; give a smaller one"), 1)
            if isinstance(exc, OSError):
                fail(f"{exc.strerror or exc}{colon()}{exc.filename}" if exc.filename else str(exc.strerror or exc), 1)
            sa_errors = sys.modules.get("sqlalchemy.exc")  # imported only by commands that opened a store
            if sa_errors is not None and isinstance(exc, sa_errors.SQLAlchemyError):
                first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
                fail(tr("database error: {detail}", detail=first), 1)
            if os.environ.get("PREINCUB_DEBUG"):
                raise
            fail(tr("internal error ({name}); please report it, with PREINCUB_DEBUG=1 for details",
                    name=type(exc).__name__), 1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", metavar="PATH|URL",
              help="Store: an SQLite file or a postgresql+psycopg:// URL [env PREINCUB_DB; default: user data dir].")
@click.option("--as", "actor", envvar="PREINCUB_USER", metavar="EMAIL",
              help="The person acting, recorded on every change [env PREINCUB_USER; default: system user].")
@click.option("--now", type=DATETIME, envvar="PREINCUB_NOW",
              help="Pretend it is this date/time, Europe/Paris [env PREINCUB_NOW; default: the real time].")
@click.option("--lang", type=click.Choice(["fr", "en"]), envvar="PREINCUB_LANG", default="fr", show_default=True,
              help="Language of labels and messages [env PREINCUB_LANG].")
@click.version_option(__version__, package_name="preincub", prog_name="preincub")
@click.pass_context
def app(ctx: click.Context, db, actor, now, lang) -> None:
    """Pre-incubation programmes, Startup d'État method: teams, phases, deadlines.

    Example: preincub team show "Insertion RSA"
    """
    set_lang(lang)
    ctx.obj = Ctx(db, actor, now, lang)
    ctx.call_on_close(ctx.obj.close)


for command in (store.init, store.demo_cmd, store.backup_cmd, store.restore_cmd, directory.programme,
                directory.partner, directory.person, teams.team, checkins.checkin, moves.advance, moves.check,
                moves.status, moves.history, moves.diagram, reminders.remind, reminders.outbox, reminders.daemon,
                web.serve, web.web):
    app.add_command(command)
directory.person.add_command(web.revoke_links)
from commands import exports  # noqa: E402
app.add_command(exports.export)
app.add_command(exports.import_all)
from commands import reports  # noqa: E402
app.add_command(reports.report)
# Step 8: agreements and money, formal notices, personal data, the audit trail.
from commands import audit, money, notices, privacy  # noqa: E402
for command in (money.funding, money.expense, notices.notice, privacy.purge, audit.audit):
    app.add_command(command)
directory.person.add_command(privacy.person_export)
directory.person.add_command(privacy.person_erase)
_use_context(app)


def main() -> None:
    """Console-script entry point."""
    set_lang(os.environ.get("PREINCUB_LANG", "fr") if os.environ.get("PREINCUB_LANG") in ("fr", "en") else "fr")
    app.main()


if __name__ == "__main__":
    main()
