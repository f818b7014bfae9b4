"""preincub's command line: parse, call ``workflow``, render with rich. No SQL and no rules here.

This module is the click application: the root group, its global options, the mapping of errors to
one line and an exit code. The commands live in the ``commands`` package, one module per concern,
and :data:`COMMANDS` says where: the root is the CLI's one lazy group, which imports a command's
module when that command runs. So `--help`, `--version` and an unknown command import no command
module and no library module (tests/test_cli.py)."""

from __future__ import annotations

# The interpreter loaded _signal before any code ran: importing from it leaves no moment to be interrupted in.
from _signal import SIGINT, default_int_handler, getsignal, signal as set_handler


def _hold(signum: int, frame: object) -> None:
    _held.append(signum)


# A Ctrl-C while the modules below load, before click's main can turn it into "aborted" (exit 130), would be
# a KeyboardInterrupt traceback: it is held, and acted on once they are loaded (at the end of this module).
# Only where Python's own handler is in place: an ignored SIGINT (`cmd &` in a script) stays ignored.
_held: list[int] = []
if getsignal(SIGINT) is default_int_handler:
    try:
        set_handler(SIGINT, _hold)
    except ValueError:  # imported outside the main thread, where no signal is delivered
        pass

import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402

from notifications import i18n  # noqa: E402

from commands.lazy import LazyGroup  # noqa: E402
from commands.start import LONG_WORD, chosen_lang, fail, undecodable  # noqa: E402
from commands.text import _, colon, current_lang, semicolon, set_lang, tr, translate_command  # noqa: E402

__all__ = ["App", "COMMANDS", "app", "main"]

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

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        """click's rows, with the language's semicolon between the notes it adds to an option's help
        ("[default: 8080; 1<=x<=65535]"), as it puts them together with a plain "; "."""
        sep = semicolon()
        rows = [(term, _NOTES.sub(lambda m: _BARE_SEMICOLON.sub(sep, m.group()), text)) for term, text in rows]
        super().write_dl(rows, col_max, col_spacing)


_NOTES = re.compile(r"  \[[^\[\]]*\]$")  # what click appends to an option's help
_BARE_SEMICOLON = re.compile(r"(?<!\s); ")


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


# Each command: where it lives ("module:attribute", imported when it runs) and its summary, the one its
# module gives it (its short_help, else its help: a test checks they agree), the line of `preincub --help`.
COMMANDS = {
    "advance": ("commands.moves:advance", "Fire a trigger on a team."),
    "audit": ("commands.audit:audit", "The audit trail, and its check."),
    "backup": ("commands.store:backup_cmd", "Copy the SQLite store to a file."),
    "check": ("commands.moves:check", "Which triggers are possible now, and why not."),
    "checkin": ("commands.checkins:checkin", "Coaches' weekly check-ins."),
    "daemon": ("commands.reminders:daemon", "Send the reminders on a schedule."),
    "demo": ("commands.store:demo_cmd", "Fill a fresh store with the demo."),
    "diagram": ("commands.moves:diagram", "The workflow as a Mermaid state diagram."),
    "expense": ("commands.money:expense", "The operator's expenses."),
    "export": ("commands.exports:export", "Export rows, a calendar or the whole store."),
    "funding": ("commands.money:funding", "Partners' funding of a programme."),
    "history": ("commands.moves:history", "A team's audit trail."),
    "import-all": ("commands.exports:import_all", "Restore a JSON backup into an empty store."),
    "inbox": ("commands.inbox:inbox", "Check-ins by e-mail reply."),
    "init": ("commands.store:init", "Create or upgrade the store."),
    "intake": ("commands.ds:intake", "Applications from Démarches Simplifiées."),
    "notice": ("commands.notices:notice", "Formal notices to partners."),
    "outbox": ("commands.reminders:outbox", "The outbox: reminder messages."),
    "partner": ("commands.directory:partner", "Partner bodies of a programme."),
    "person": ("commands.directory:person", "People, their roles and grants."),
    "programme": ("commands.directory:programme", "Programmes, their agreements and deadlines."),
    "purge": ("commands.privacy:purge", "Remove old free text (retention)."),
    "remind": ("commands.reminders:remind", "Reminders: preview, or run one tick."),
    "report": ("commands.reports:report", "Documents: committee pack, programme report."),
    "restore": ("commands.store:restore_cmd", "Put a backup copy back as the store."),
    "schema": ("commands.schema:schema",
        "The JSON Schemas of the --json outputs and the backup.\n"
        "\n"
        "Without COMMAND, the list of schemas; with one, that schema (JSON Schema draft 2020-12). A field\n"
        "may be added to an output; none is removed or retyped without a major version.\n"
        "\n"
        "Examples: preincub schema; preincub schema team show > team-show.schema.json"),
    "serve": ("commands.web:serve", "Serve the web forms and board."),
    "status": ("commands.moves:status", "One row per team, with days left."),
    "team": ("commands.teams:team", "Teams and their record."),
    "web": ("commands.web:web", "Links to the web service."),
}


class Context(click.Context):
    """Every command's context: its help in this invocation's language, formatted by HelpFormatter."""

    formatter_class = HelpFormatter

    def __init__(self, command: click.Command, *args, **kwargs) -> None:
        translate_command(command)  # before anything reads a help text: its --help, a completion
        super().__init__(command, *args, **kwargs)


def _use_context(cmd: click.Command) -> None:
    """Every command added to the tree formats its help with :class:`HelpFormatter` (those the lazy
    group loads take its context class as they load)."""
    cmd.context_class = Context
    for sub in getattr(cmd, "commands", {}).values():
        _use_context(sub)


class Moment(click.ParamType):
    """``--now``: a date, or a date and time, in Europe/Paris, as the commands' DATETIME reads it."""

    name = "DATETIME"

    def convert(self, value, param, ctx):
        # The library's parser, loaded with the first value: `--help` and `--version` load no library module.
        from commands.params import DATETIME

        return DATETIME.convert(value, param, ctx)


class App(LazyGroup):
    """Errors become one line on stderr with their exit codes; never a traceback."""

    context_class = Context

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
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
            # click quotes what was typed whole: cut any overlong word of it as errors.quote does; its
            # list of choices ("Choose from:\n\ta,\n\tb") reads on one line.
            fail(LONG_WORD.sub(r"\1…", re.sub(r"\n\t*", " ", exc.format_message())), 2, hint)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail(_("aborted"), 130)
        except Exception as exc:  # noqa: BLE001 - a known error: one line; a bug: one line, the traceback on request
            # The library's errors, loaded once a command raised (so `--help` never loads the library).
            from commands.errors import explain

            known = explain(exc)
            if known is not None:
                fail(*known)
            if os.environ.get("PREINCUB_DEBUG"):
                raise
            fail(tr("internal error ({name}); please report it, with PREINCUB_DEBUG=1 for details",
                    name=type(exc).__name__), 1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=App, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", metavar="PATH|URL",
              help="Store: an SQLite file or a postgresql+psycopg:// URL [env PREINCUB_DB; default: user data dir].")
@click.option("--as", "actor", envvar="PREINCUB_USER", metavar="EMAIL",
              help="The person acting, recorded on every change [env PREINCUB_USER; default: system user].")
@click.option("--now", type=Moment(), envvar="PREINCUB_NOW",
              help="Pretend it is this date/time, Europe/Paris [env PREINCUB_NOW; default: the real time].")
@click.option("--lang", type=click.Choice(["fr", "en"]), envvar="PREINCUB_LANG", default="fr", show_default=True,
              help="Language of labels and messages [env PREINCUB_LANG].")
@click.version_option(__version__, package_name="preincub", prog_name="preincub")
def app(db, actor, now, lang) -> None:
    """Pre-incubation programmes, Startup d'État method: teams, phases, deadlines.

    Example: preincub team show "Insertion RSA"
    """
    set_lang(lang)  # the commands read the options from this context (commands.context.current_ctx)


def main() -> None:
    """Console-script entry point. A Ctrl-C outside click's main (before it, or while an error is
    explained) ends the same way as one inside it: one line, exit 130."""
    try:
        set_lang(os.environ.get("PREINCUB_LANG", "fr") if os.environ.get("PREINCUB_LANG") in ("fr", "en") else "fr")
        app.main()
    except KeyboardInterrupt:
        fail(_("aborted"), 130)


def _release_interrupts() -> None:
    """The modules are loaded: Ctrl-C raises KeyboardInterrupt again, and one held meanwhile ends the
    run as click's main ends an interrupted one (a single line, exit 130)."""
    if getsignal(SIGINT) is _hold:
        set_handler(SIGINT, default_int_handler)
    if _held:
        _held.clear()
        set_lang(chosen_lang(sys.argv[1:]))
        fail(_("aborted"), 130)


_release_interrupts()


if __name__ == "__main__":
    main()
