"""preincub's command line: parse, call ``workflow``, render with rich. No SQL and no rules here.

This module is the click application: the root group, its global options, the mapping of errors to
one line and an exit code. The commands live in the ``commands`` package, one module per concern,
and :data:`COMMANDS` says where: the root is the CLI's one lazy group, which imports a command's
module when that command runs. So `--help`, `--version` and an unknown command import no command
module and no library module (tests/test_cli.py)."""

from __future__ import annotations

import os
import re
import sys

import click

from notifications import i18n

from commands.lazy import LazyGroup
from commands.start import LONG_WORD, chosen_lang, fail, undecodable
from commands.text import _, colon, current_lang, set_lang, tr, translate_command

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


# Each command: where it lives ("module:attribute", imported when it runs) and its help, the one its
# module gives it (a test checks they agree), from which `preincub --help` writes its line.
COMMANDS = {
    "advance": ("commands.moves:advance",
        "Fire TRIGGER on a team: submit, select, reject, present, hear, incubate, decline, abandon."),
    "audit": ("commands.audit:audit", "The audit trail: every change, hash-chained; verify that none was rewritten."),
    "backup": ("commands.store:backup_cmd",
        "Copy the SQLite store to FILE (0600), consistent even while the daemon or serve runs (coordinators).\n"
        "\n"
        "The copy is one self-contained file; 'preincub restore FILE' puts it back. An existing FILE is\n"
        "refused unless --force. Example: preincub backup ~/sauvegardes/preincub-$(date +%F).db"),
    "check": ("commands.moves:check", "Which triggers are possible now; for each blocked one, every unmet condition."),
    "checkin": ("commands.checkins:checkin",
        "Coaches' weekly check-ins (points hebdomadaires) with teams in investigation."),
    "daemon": ("commands.reminders:daemon",
        "Tick on a cron schedule in Europe/Paris (PREINCUB_TICK_CRON); stops cleanly on SIGTERM/SIGINT.\n"
        "\n"
        "'preincub daemon status' says whether it ticks and the outbox is healthy."),
    "demo": ("commands.store:demo_cmd",
        "Fill a fresh store with the 2020 programme of seed 1 and the 2019 FAST agreement of seed 2 beside it,\n"
        "then show seed 1's status."),
    "diagram": ("commands.moves:diagram", "The workflow as a Mermaid state diagram."),
    "expense": ("commands.money:expense", "The operator's expenses really incurred for a programme."),
    "export": ("commands.exports:export",
        "Export a programme: rows for spreadsheets (CSV, JSON), its calendar (ICS), or the whole store (JSON)."),
    "funding": ("commands.money:funding",
        "Funding per partner: cap, share of the expenses, statement, the one payment."),
    "history": ("commands.moves:history", "The team's audit trail: when, who, trigger, from, to, reason, forced."),
    "import-all": ("commands.exports:import_all",
        "Restore a backup (export json, without --programme) into an EMPTY store: a new file or database.\n"
        "\n"
        "Its audit trail is verified first: a backup edited outside preincub is refused. A store that holds\n"
        "anything, a backup from a newer preincub, or another file is refused, and nothing is written.\n"
        "Example: preincub --db postgresql+psycopg://preincub@localhost/preincub import-all sauvegarde.json"),
    "init": ("commands.store:init", "Create the store, or upgrade it to this version's schema."),
    "notice": ("commands.notices:notice",
        "Formal notices (mises en demeure): left unanswered one month, the agreement is terminable."),
    "outbox": ("commands.reminders:outbox", "The outbox: every reminder message, its status and its attempts."),
    "partner": ("commands.directory:partner", "Partner bodies (collectivités) of a programme."),
    "person": ("commands.directory:person",
        "People: administrators, coordinators, committee members, partner readers, coaches, intrapreneurs, sponsors."),
    "programme": ("commands.directory:programme", "Programmes: one agreement, its kind, its deadline and its places."),
    "purge": ("commands.privacy:purge",
        "Retention: remove the free text of programmes ended before a day (check-in text, assessment notes,\n"
        "event reasons, formal notices' text, expense labels); counts, amounts, phases and dates stay\n"
        "(coordinators).\n"
        "\n"
        "Example: preincub purge --before 2021-06-23 --dry-run"),
    "remind": ("commands.reminders:remind", "Reminders: weekly coaching, missed coaching, deadline, committee."),
    "report": ("commands.reports:report", "Documents for people: the strategic committee pack, the programme report."),
    "restore": ("commands.store:restore_cmd",
        "Put a copy made by 'preincub backup' back as the SQLite store, once checked (coordinators).\n"
        "\n"
        "The copy's integrity, schema and audit trail are checked first, and its signature tells whether it\n"
        "comes from this instance; the store is replaced in one step, never while the daemon or another\n"
        "process has it open, and the replaced store is kept beside it.\n"
        "Example: preincub restore ~/sauvegardes/preincub-2020-11-16.db"),
    "serve": ("commands.web:serve",
        "Serve the web forms and board (waitress), on the same store as the CLI.\n"
        "\n"
        "Put it behind a reverse proxy for HTTPS; PREINCUB_BASE_URL is its public address."),
    "status": ("commands.moves:status", "One row per team: partner, phase, since, coach, days to the deadline."),
    "team": ("commands.teams:team",
        "Teams: their record (problem, people, criteria, agreements, proof of concept, committee)."),
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
    """Console-script entry point."""
    set_lang(os.environ.get("PREINCUB_LANG", "fr") if os.environ.get("PREINCUB_LANG") in ("fr", "en") else "fr")
    app.main()


if __name__ == "__main__":
    main()
