"""preincub's command line: parse, call ``workflow``, render with rich. No SQL and no rules here."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from functools import cache
from typing import TYPE_CHECKING

import click

import states
from notifications.message import CHANNELS, OutboxStatus
from workflow.clock import FixedClock, clock_from, parse_date, parse_datetime, until_datetime
from workflow.coaching import parse_week
from workflow.errors import QUOTE_LIMIT, Invalid, PreincubError, Refused, StoreWarning, quote
from workflow.permissions import ROLES
from notifications import i18n
from workflow.validate import shown

if TYPE_CHECKING:  # imported where used: `preincub --help` loads neither SQLAlchemy nor rich
    from rich.console import Console
    from rich.text import Text

    from workflow import Workflow
    from workflow.records import CoachingRecord, ProgrammeRecord, TeamRow

STATUSES = tuple(s.value for s in OutboxStatus)

_lang = {"value": "fr"}  # for errors raised before or outside a command's context

LABELS = {
    "team": ("Équipe", "Team"), "programme": ("Programme", "Programme"), "partner": ("Collectivité", "Partner"),
    "phase": ("Phase", "Phase"), "since": ("Depuis", "Since"), "coach": ("Coach", "Coach"),
    "days_left": ("Jours restants", "Days left"), "deadline": ("Échéance", "Deadline"), "kind": ("Type", "Kind"),
    "signed_on": ("Signée le", "Signed on"), "capacity": ("Places", "Places"), "teams": ("Équipes", "Teams"),
    "when": ("Quand", "When"), "who": ("Qui", "Who"), "action": ("Action", "Action"), "from": ("De", "From"),
    "to": ("Vers", "To"), "reason": ("Motif", "Reason"), "forced": ("Forcé", "Forced"), "name": ("Nom", "Name"),
    "email": ("E-mail", "E-mail"), "roles": ("Rôles", "Roles"), "available": ("Possibles", "Available"),
    "blocked": ("Bloqués", "Blocked"), "needs_reason": ("demande --reason", "needs --reason"),
    "problem": ("Problème", "Problem"), "intrapreneurs": ("Intrapreneurs", "Intrapreneurs"),
    "sponsor": ("Sponsor", "Sponsor"), "criteria": ("Critères", "Criteria"), "agreements": ("Accords", "Agreements"),
    "poc": ("Preuve de concept", "Proof of concept"), "committee": ("Comité", "Committee"),
    "history": ("Historique des phases", "Phase history"), "min_days": ("Jours/semaine min.", "Min. days/week"),
    "yes": ("oui", "yes"), "no": ("non", "no"), "none": ("—", "—"),
    "last_checkin": ("Dernier point", "Last check-in"), "channels": ("Rappels", "Reminders"),
    "status": ("Statut", "Status"), "attempts": ("Essais", "Attempts"), "subject": ("Objet", "Subject"),
    "due": ("Prévu", "Due"), "days_week": ("j/sem.", "d/week"), "last_tick": ("Dernier passage du démon", "Daemon's last tick"), "coaching": ("Points hebdo.", "Weekly check-ins"),
    "id": ("N°", "ID"), "on": ("Le", "On"), "week": ("Semaine", "Week"), "author": ("Auteur", "Author"),
    "notes": ("Notes", "Notes"), "hours": ("Heures", "Hours"), "mood": ("Moral", "Mood"),
    "missed": ("manqué", "missed"), "missing": ("Semaines sans point", "Weeks without check-in"),
    "held": ("tenus", "held"), "expected": ("attendus", "expected"), "per_week": ("h/semaine", "h/week"),
    "shortfall": ("sous l'engagement", "below the commitment"), "expired": ("échue", "expired"),
}


def L(key: str) -> str:
    fr, en = LABELS[key]
    return fr if _lang["value"] == "fr" else en


def phase_label(pid: str) -> str:
    return states.PHASES[pid].label(_lang["value"])


@dataclass
class Ctx:
    db: str | None
    actor: str | None
    now: datetime | None
    lang: str
    _wf: Workflow | None = field(default=None, repr=False)

    def wf(self, create: bool = False) -> Workflow:
        if self._wf is None:
            clock = FixedClock(self.now) if self.now else clock_from(None)
            from workflow import Workflow

            self._wf = Workflow.open(self.db, clock=clock, actor=self.actor, create=create)
        return self._wf

    def close(self) -> None:
        if self._wf is not None:
            self._wf.close()


class Parsed(click.ParamType):
    """A value parsed by one of the library's parsers; a ValueError is click's usage error (exit 2)."""

    def __init__(self, name: str, parse: Callable[[str], Any], kind: type | None = None) -> None:
        self.name, self.parse, self.kind = name, parse, kind

    def convert(self, value, param, ctx):
        if self.kind is not None and isinstance(value, self.kind):
            return value
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = Parsed("DATE", parse_date, date)
DATETIME = Parsed("DATETIME", parse_datetime, datetime)
WEEK = Parsed("YYYY-Www", parse_week)
ID = click.IntRange(1, 2**63 - 1)  # a row id: what the store can hold
YESNO = click.Choice(["yes", "no", "oui", "non"], case_sensitive=False)


def _yes(v: str) -> bool:
    return v.lower() in ("yes", "oui")


MAX_ERROR = 300  # one readable line, whatever the user typed


# What to run next, keyed by the library error's code: (en, fr).
ERROR_HINTS = {
    "unknown_programme": ("see 'preincub programme list'", "voir 'preincub programme list'"),
    "unknown_team": ("see 'preincub team list'", "voir 'preincub team list'"),
    "unknown_person": ("add them with 'preincub person add'", "ajoutez-la avec 'preincub person add'"),
    "unknown_partner": ("preincub partner add", "preincub partner add"),
    "unknown_actor": ("preincub person add", "preincub person add"),
    "unknown_checkin": ("see 'preincub checkin list'", "voir 'preincub checkin list'"),
    "unknown_outbox_message": ("see 'preincub outbox list'", "voir 'preincub outbox list'"),
    "nothing_to_change": ("see 'preincub {command} --help'", "voir 'preincub {command} --help'"),
    "missing_role": ("person add ... --role {role}", "person add ... --role {role}"),
    "still_member": ("team edit", "team edit"),
}


def error_hint(exc: PreincubError, lang: str) -> str:
    """`` (the command to run)`` for an error whose code has one, else nothing."""
    hint = ERROR_HINTS.get(exc.code)
    return "" if hint is None else " (" + (hint[1] if lang == "fr" else hint[0]).format(**exc.params) + ")"


def exit_code(exc: PreincubError) -> int:
    """DESIGN.md's exit codes: 3 changed concurrently (retry), 1 refused, not found or invalid."""
    from workflow.errors import ChangedMeanwhile

    return 3 if isinstance(exc, ChangedMeanwhile) else 1


def _fail(message: str, code: int, hint: str = "") -> None:
    """One line on stderr, controls made visible, cut to MAX_ERROR characters (the hint kept whole)."""
    line, room = shown(message), MAX_ERROR - len("preincub: ") - len(hint)
    if len(line) > room:
        line = line[: room - 1] + "…"
    click.echo(f"preincub: {line}{hint}", err=True)
    sys.exit(code)


_LONG_WORD = re.compile(r"(\S{%d})\S+" % QUOTE_LIMIT)


_HINT = re.compile(r" \([^()]*\)$")


# Where to record what a guard finds missing, keyed by the Unmet's code (states/guards.py).
UNMET_HINTS = {
    "problem": "team edit --problem", "partner": "team edit --partner",
    "intrapreneur": "team edit --intrapreneur EMAIL", "coach": "team edit --coach EMAIL",
    "sponsor": "team edit --sponsor EMAIL", "time": "team edit --days-per-week N",
    **{f"criterion_{c}": "team assess" for c in states.CRITERIA},
    **{f"agreement_{p}": f"team agree --party {p}" for p in states.PARTIES},
    "poc": "team poc --summary TEXT", "committee_date": "team committee --on DATE",
    "opinion": "team committee --opinion TEXT", "reason": "--reason TEXT",
}


def unmet_text(u: states.Unmet, lang: str) -> str:
    """An unmet condition in ``lang``, with the command that records what is missing."""
    hint = UNMET_HINTS.get(u.code) if u.missing else None
    return u.text(lang) + (f" ({hint})" if hint else "")


def _refusal(exc: Refused, lang: str) -> str:
    """The head and as many unmet conditions as fit in one line; `check` names the rest."""
    texts = [unmet_text(u, lang) for u in exc.reasons]
    for i in range(len(texts) - 1):  # "x (team assess); y (team assess)" -> "x; y (team assess)"
        hint = _HINT.search(texts[i])
        if hint and texts[i + 1].endswith(hint.group()):
            texts[i] = texts[i][: hint.start()]
    sep = " : " if lang == "fr" else ": "
    for n in range(len(texts), 0, -1):
        rest = len(texts) - n
        more = "" if not rest else (f" ; et {rest} autre(s) : preincub check {quote(exc.team)}" if lang == "fr"
                                    else f"; and {rest} more: preincub check {quote(exc.team)}")
        line = exc.heads[lang] + sep + "; ".join(texts[:n]) + more
        if len(line) <= MAX_ERROR - len("preincub: "):
            return line
    return exc.text(lang)


def say(message: str) -> None:
    """Print a line that may hold stored or typed text: controls and bidi overrides made visible."""
    click.echo(shown(message, multiline=True))


def _undecodable(args: list[str]) -> str | None:
    """What was typed that is not valid UTF-8 (Python hands it over as lone surrogates)."""
    for i, a in enumerate(args, 1):
        if not _is_utf8(a):
            return f"argument {i} ({_bytes_shown(a)[:80]}) is not valid UTF-8"
    for k, v in os.environ.items():
        if k.startswith("PREINCUB_") and not _is_utf8(v):
            return f"the environment variable {k} is not valid UTF-8"
    return None


def _bytes_shown(text: str) -> str:
    """Undecodable bytes as \\xNN, the rest as typed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_VALUED = {"--db", "--as", "--now", "--lang"}  # the global options that take a value


def _chosen_lang(args: list[str]) -> str:
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


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning (a store open to other users) is one line on stderr, like an error."""
    if isinstance(message, StoreWarning):
        click.echo(f"preincub: warning: {message.text(_lang['value'])}", err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


class App(click.Group):
    """Errors become one line on stderr with DESIGN.md's exit codes; never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        warnings.showwarning = _show_warning
        args = list(sys.argv[1:] if args is None else args)
        bad = _undecodable(args)
        if bad:
            _fail(f"{bad}; check the terminal's or the file's encoding", 2)
        _lang["value"] = _chosen_lang(args)
        before = os.environ.get("LANGUAGE")
        i18n.use_for_click(_lang["value"])  # click's own sentences ("Usage:", "Missing argument"…)
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
            see = "voir" if _lang["value"] == "fr" else "see"
            hint = f" ({see} '{exc.ctx.command_path} --help')" if exc.ctx else ""
            # click quotes what was typed whole: cut any overlong word of it as errors.quote does.
            _fail(_LONG_WORD.sub(r"\1…", exc.format_message().replace("\n", " ")), 2, hint)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        except Refused as exc:
            _fail(_refusal(exc, _lang["value"]), exit_code(exc))
        except PreincubError as exc:
            _fail(exc.text(_lang["value"]), exit_code(exc), error_hint(exc, _lang["value"]))
        except UnicodeError:
            _fail("some text is not valid UTF-8 (standard input, a file or the terminal); check its encoding", 1)
        except OverflowError:
            _fail("a number is out of range; give a smaller one", 1)
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
        except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback on request
            sa_errors = sys.modules.get("sqlalchemy.exc")  # imported only by commands that opened a store
            if sa_errors is not None and isinstance(exc, sa_errors.SQLAlchemyError):
                first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
                _fail(f"database error: {first}", 1)
            if os.environ.get("PREINCUB_DEBUG"):
                raise
            _fail(f"internal error ({type(exc).__name__}); please report it, with PREINCUB_DEBUG=1 for details", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


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


def _days(v: int | None) -> Text:
    from rich.text import Text

    if v is None:
        return Text(L("none"))
    if v < 0:
        return Text(f"{v} ({L('expired')})", style="red")
    return Text(str(v), style="yellow" if v <= 14 else "")


def _when(text: str | None, with_time: bool = True) -> str:
    if not text:
        return L("none")
    return text[:16].replace("T", " ") if with_time else text[:10]


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="PREINCUB_DB", metavar="PATH|URL",
              help="Store: an SQLite file or a postgresql+psycopg:// URL [env PREINCUB_DB; default: user data dir].")
@click.option("--as", "actor", envvar="PREINCUB_USER", metavar="EMAIL",
              help="The person acting, recorded on every change [env PREINCUB_USER; default: system user].")
@click.option("--now", type=DATETIME, envvar="PREINCUB_NOW",
              help="Pretend it is this date/time, Europe/Paris [env PREINCUB_NOW; default: the real time].")
@click.option("--lang", type=click.Choice(["fr", "en"]), envvar="PREINCUB_LANG", default="fr", show_default=True,
              help="Language of labels and messages [env PREINCUB_LANG].")
@click.version_option(package_name="preincub", prog_name="preincub")
@click.pass_context
def app(ctx: click.Context, db, actor, now, lang) -> None:
    """Pre-incubation programmes, Startup d'État method: teams, phases, deadlines.

    Example: preincub team show "Insertion RSA"
    """
    _lang["value"] = lang
    ctx.obj = Ctx(db, actor, now, lang)
    ctx.call_on_close(ctx.obj.close)


def _ctx() -> Ctx:
    return click.get_current_context().find_object(Ctx)


# ---- store -----------------------------------------------------------------------------------

@app.command()
def init() -> None:
    """Create the store, or upgrade it to this version's schema."""
    wf = _ctx().wf(create=True)
    from workflow.db import HEAD_REVISION

    say(f"store ready: {wf.store.where} (schema {HEAD_REVISION})")


@app.command(name="demo")
@json_option
def demo_cmd(as_json: bool) -> None:
    """Fill a fresh store with the 2020 programme of seed 1, then show its status."""
    from workflow import demo

    c = _ctx()
    wf = c.wf(create=True)
    fresh = not demo.exists(wf)
    if fresh:
        with progress("demo", demo.STEPS) as advance:
            demo.build(wf, advance)
    if c.now is None:
        wf = wf.at(FixedClock(demo.AS_OF))  # the demo's own date, unless --now says otherwise
    rows = wf.status(demo.PROGRAMME)
    if as_json:
        return emit_json(rows)
    what = "created" if fresh else "already there"
    say(f"demo programme {demo.PROGRAMME!r} {what} in {wf.store.where}")
    _status_table(rows, f"{demo.PROGRAMME} — {wf.clock.today().isoformat()}")
    if c.now is None:
        say(f"(as of {demo.AS_OF.date().isoformat()}; add --now {demo.AS_OF.date().isoformat()} "
                   "to the next commands to stay on that day)")


# ---- programmes, partners, people ------------------------------------------------------------

@app.group()
def programme() -> None:
    """Programmes: one agreement, its kind, its deadline and its places."""


@programme.command(name="add")
@click.argument("name")
@click.option("--signed-on", type=DATE, required=True, help="The day the agreement takes effect (YYYY-MM-DD).")
@click.option("--kind", type=click.Choice(list(states.KINDS)), default="preincubation", show_default=True)
@click.option("--months", type=int, help="Length in months [kind's default: 6].")
@click.option("--capacity", type=int, help="Teams the operator can coach [preincubation: 8; fast: 1].")
@click.option("--min-days-per-week", type=float, help="Intrapreneur time minimum [preincubation: 1; fast: 2.5].")
def programme_add(name, signed_on, kind, months, capacity, min_days_per_week) -> None:
    """Add a programme. Example: preincub programme add "Pré-incubation 2020" --signed-on 2020-06-23"""
    p = _ctx().wf().add_programme(name, signed_on, kind=kind, months=months, capacity=capacity,
                                  min_days_per_week=min_days_per_week)
    say(f"programme {p.name!r} added; deadline {p.deadline}")


def _programme_rows(rows: list[ProgrammeRecord]) -> None:
    t = table(L("programme"), L("kind"), L("signed_on"), L("deadline"), L("days_left"), L("capacity"), L("teams"))
    for p in rows:
        t.add_row(p.name, p.kind, p.signed_on, p.deadline, _days(p.days_left),
                  f"{p.places_taken}/{p.capacity}", str(p.teams))
    console().print(t)


@programme.command(name="list")
@json_option
def programme_list(as_json) -> None:
    """List programmes with their deadlines and places taken."""
    rows = _ctx().wf().programmes()
    if as_json:
        return emit_json(rows)
    _programme_rows(rows)


@programme.command(name="show")
@click.argument("name", shell_complete=complete("programme"))
@json_option
def programme_show(name, as_json) -> None:
    """One programme: numbers, partners, teams per phase."""
    p = _ctx().wf().programme(name)
    if as_json:
        return emit_json(p)
    _programme_rows([p])
    say(f"{L('partner')}: " + ", ".join(x.name for x in p.partners))
    say(f"{L('min_days')}: {p.min_days_per_week:g}")
    for ph, n in p.teams_by_phase.items():
        say(f"  {phase_label(ph)}: {n}")


@app.group()
def partner() -> None:
    """Partner bodies (collectivités) of a programme."""


@partner.command(name="add")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--kind", type=click.Choice(states.PARTNER_KINDS), default="departement", show_default=True)
def partner_add(name, programme, kind) -> None:
    """Add a partner body. Example: preincub partner add "Val d'Oise" --programme "Pré-incubation 2020\""""
    p = _ctx().wf().add_partner(name, programme, kind=kind)
    say(f"partner {p['name']!r} added to {p['programme']!r}")


@app.group()
def person() -> None:
    """People: coordinators, coaches, intrapreneurs, sponsors, committee members."""


_CHANNEL = click.option("--channel", "channels", multiple=True, type=click.Choice(CHANNELS),
                        help="Where their reminders go; repeat for several [default: email].")
_LANG = click.option("--lang", "person_lang", type=click.Choice(["fr", "en"]), help="Their reminders' language.")


@person.command(name="add")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True, help="Repeat for several.")
@_CHANNEL
@_LANG
def person_add(name, email, roles, channels, person_lang) -> None:
    """Add a person. Example: preincub person add "Inès Haddad" --email ines@somme.example --role intrapreneur"""
    p = _ctx().wf().add_person(name, email, roles, channels=channels or None, lang=person_lang)
    say(f"{p.name} <{p.email}> added as {', '.join(p.roles)}")


@person.command(name="edit")
@click.argument("email", shell_complete=complete("person"))
@click.option("--name")
@click.option("--add-role", "add_roles", multiple=True, type=click.Choice(ROLES))
@click.option("--remove-role", "remove_roles", multiple=True, type=click.Choice(ROLES))
@_CHANNEL
@_LANG
def person_edit(email, name, add_roles, remove_roles, channels, person_lang) -> None:
    """Change a person's name, roles, reminder channels or language."""
    p = _ctx().wf().edit_person(email, name=name, add_roles=add_roles, remove_roles=remove_roles,
                                channels=channels or None, lang=person_lang)
    say(f"{p.name} <{p.email}> updated: {', '.join(p.roles)}; {', '.join(p.channels)}, {p.lang}")


@person.command(name="list")
@click.option("--role", type=click.Choice(ROLES))
@json_option
def person_list(role, as_json) -> None:
    """List people and their roles."""
    rows = _ctx().wf().people(role)
    if as_json:
        return emit_json(rows)
    t = table(L("name"), L("email"), L("roles"), L("channels"))
    for p in rows:
        t.add_row(p.name, p.email, ", ".join(p.roles), f"{', '.join(p.channels)} ({p.lang})")
    console().print(t)


# ---- teams ---------------------------------------------------------------------------------

@app.group()
def team() -> None:
    """Teams: their record (problem, people, criteria, agreements, proof of concept, committee)."""


def _team_options(f):
    for opt in reversed([
        click.option("--problem", help="The public problem the team investigates."),
        click.option("--intrapreneur", "intrapreneurs", multiple=True, metavar="EMAIL", help="Repeat for several.",
                     shell_complete=complete("person")),
        click.option("--coach", metavar="EMAIL", shell_complete=complete("person")),
        click.option("--sponsor", metavar="EMAIL", help="Required for 'fast' programmes.", shell_complete=complete("person")),
        click.option("--days-per-week", type=float, help="Intrapreneur time commitment, days a week."),
    ]):
        f = opt(f)
    return f


@team.command(name="add")
@click.argument("name")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--partner", required=True, help="The partner body (collectivité) that brings the problem.")
@_team_options
def team_add(name, programme, partner, problem, intrapreneurs, coach, sponsor, days_per_week) -> None:
    """Add a team, in the call for projects. Example: preincub team add "Insertion RSA" --programme P --partner Nord"""
    t = _ctx().wf().add_team(name, programme, partner, problem=problem, intrapreneurs=intrapreneurs, coach=coach,
                             sponsor=sponsor, days_per_week=days_per_week)
    say(f"team {t.name!r} added ({phase_label(t.phase)})")


@team.command(name="edit")
@click.argument("name", shell_complete=complete("team"))
@click.option("--rename", metavar="NEW_NAME")
@click.option("--partner")
@_team_options
@click.option("--remove-intrapreneur", "remove", multiple=True, metavar="EMAIL")
def team_edit(name, rename, partner, problem, intrapreneurs, coach, sponsor, days_per_week, remove) -> None:
    """Change a team's record. --intrapreneur adds; --coach and --sponsor replace."""
    t = _ctx().wf().edit_team(name, rename=rename, partner=partner, problem=problem, intrapreneurs=intrapreneurs,
                              remove_intrapreneurs=remove, coach=coach, sponsor=sponsor, days_per_week=days_per_week)
    say(f"team {t.name!r} updated")


@team.command(name="assess")
@click.argument("name", shell_complete=complete("team"))
@click.option("--real", type=YESNO, required=True, help="Is the problem real? (réel)")
@click.option("--major", type=YESNO, required=True, help="Is it major? (majeur)")
@click.option("--actionable", type=YESNO, required=True, help="Can we act on it? (actionnable)")
@click.option("--note")
def team_assess(name, real, major, actionable, note) -> None:
    """Assess the three selection criteria. Example: preincub team assess T --real yes --major yes --actionable no"""
    _ctx().wf().assess(name, real=_yes(real), major=_yes(major), actionable=_yes(actionable), note=note)
    say(f"team {name!r} assessed")


@team.command(name="agree")
@click.argument("name", shell_complete=complete("team"))
@click.option("--party", type=click.Choice(states.PARTIES), required=True)
def team_agree(name, party) -> None:
    """Record one party's agreement to select the team (both are needed)."""
    _ctx().wf().agree(name, party)
    say(f"{party} agreed to {name!r}")


@team.command(name="poc")
@click.argument("name", shell_complete=complete("team"))
@click.option("--summary", required=True)
@click.option("--link", metavar="URL")
def team_poc(name, summary, link) -> None:
    """Record the proof of concept the team will present."""
    _ctx().wf().poc(name, summary, link)
    say(f"proof of concept recorded for {name!r}")


@team.command(name="committee")
@click.argument("name", shell_complete=complete("team"))
@click.option("--on", "on", type=DATE, help="The committee's date.")
@click.option("--opinion", help="The committee's opinion, once it has heard the team.")
def team_committee(name, on, opinion) -> None:
    """Record the committee date, then its opinion."""
    _ctx().wf().committee(name, on=on, opinion=opinion)
    say(f"committee recorded for {name!r}")


def _status_table(rows: list[TeamRow], title: str | None = None) -> None:
    t = table(L("team"), L("partner"), L("phase"), L("since"), L("coach"), L("last_checkin"), L("days_left"),
              title=title)
    for r in rows:
        last = r.last_checkin or L("none")
        if r.drifting:
            last = (f"{last} ⚠ {r.weeks_missing}", "red")
        t.add_row(r.name, r.partner or L("none"), phase_label(r.phase), _when(r.phase_since, False),
                  r.coach or L("none"), styled(last), _days(r.days_left))
    console().print(t)


@team.command(name="list")
@click.option("--programme", shell_complete=complete("programme"))
@click.option("--phase", type=click.Choice(list(states.PHASES)))
@json_option
def team_list(programme, phase, as_json) -> None:
    """List teams, optionally of one programme or phase."""
    wf = _ctx().wf()
    if as_json:
        return emit_json_rows(wf.teams.rows(programme, phase))
    _status_table(wf.status(programme, phase))


@team.command(name="show")
@click.argument("name", shell_complete=complete("team"))
@json_option
def team_show(name, as_json) -> None:
    """Everything about one team."""
    t = _ctx().wf().team(name)
    if as_json:
        return emit_json(t)
    g = grid(padding=(0, 2))
    g.add_column(style="bold")
    g.add_column()
    yn = {True: L("yes"), False: L("no"), None: "?"}
    people = lambda xs: ", ".join(f"{p.name} <{p.email}>" for p in xs) or L("none")  # noqa: E731
    rows = [
        (L("team"), t.name), (L("programme"), t.programme), (L("partner"), t.partner or L("none")),
        (L("phase"), f"{phase_label(t.phase)} ({t.phase}), {L('since').lower()} {_when(t.phase_since)}"),
        (L("deadline"), styled(f"{t.deadline} (", _days(t.days_left), ")")), (L("problem"), t.problem or L("none")),
        (L("intrapreneurs"), ", ".join(f"{p.name} <{p.email}> {'?' if p.days_per_week is None else format(p.days_per_week, 'g')} {L('days_week')}"
                                       for p in t.intrapreneurs) or L("none")),
        (L("coach"), people(t.coaches)), (L("sponsor"), people(t.sponsors)),
        (L("criteria"), ", ".join(f"{c}: {yn[v]}" for c, v in t.criteria.items())),
        (L("agreements"), ", ".join(t.agreements) or L("none")),
        (L("poc"), t.poc.summary or L("none")),
        (L("committee"), f"{t.committee.on or L('none')} — {t.committee.opinion or L('none')}"),
        (L("coaching"), _coaching_line(t.coaching)),
        (L("history"), " → ".join(f"{phase_label(p.phase)} ({_when(p.start, False)})" for p in t.phases)),
    ]
    for k, v in rows:
        g.add_row(k, v)
    console().print(g)


def _coaching_line(c: CoachingRecord) -> Text:
    line = styled(f"{c.weeks_held}/{c.weeks_expected} {L('held')}, {L('last_checkin').lower()} "
                  f"{c.last_checkin or L('none')}")
    if c.weeks_missing:
        line.append_text(styled("; ", (f"{L('missing').lower()}: {', '.join(c.weeks_missing)}", "red")))
    if c.hours_per_week is not None:
        line.append(f"; {c.hours_per_week:g} {L('per_week')}")
        if c.hours_committed is not None:
            line.append(f" / {c.hours_committed:g}")
        if c.hours_shortfall:
            line.append(f" ({L('shortfall')})", style="red")
    return line


# ---- check-ins -----------------------------------------------------------------------------

@app.group()
def checkin() -> None:
    """Coaches' weekly check-ins (points hebdomadaires) with teams in investigation."""


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _notes(notes: str | None, missed: bool) -> str | None:
    """--notes TEXT, '-' for stdin, or $EDITOR when omitted on a terminal (as git commit does)."""
    if notes == "-":
        try:
            text = sys.stdin.read()
            text.encode("utf-8")  # a C locale hands undecodable bytes over as surrogates
            return text
        except UnicodeError:
            raise Invalid("--notes -: standard input is not valid UTF-8; convert it first (e.g. iconv -f latin1)",
                          "--notes - : l'entrée standard n'est pas en UTF-8 valide ; convertissez-la d'abord "
                          "(par ex. iconv -f latin1)") from None
    if notes is None and not missed and _interactive():
        text = click.edit("\n# Notes du point hebdomadaire. Les lignes commençant par # sont ignorées.\n")
        if text is None:
            raise click.UsageError("no notes written: check-in not logged")
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return notes


def _checkin_options(editing: bool):
    """The fields of a check-in; when correcting one, what is not given stays as it was."""
    def decorate(f):
        for opt in reversed([
            click.option("--on", "on", type=DATE, help="Move it to this day [default: keep its day]." if editing
                         else "The day it was held [default: today]."),
            click.option("--notes", help="What was said; '-' reads stdin; omitted on a terminal: $EDITOR."
                         if not editing else "What was said; '-' reads stdin."),
            click.option("--blockers"),
            click.option("--next-steps"),
            click.option("--hours", type=float, help="The intrapreneur's hours on the project that week."),
            click.option("--mood", type=click.IntRange(1, 5), help="1 (bad) to 5 (great)."),
            click.option("--reason", help="Why it did not take place (a missed check-in only)." if editing
                         else "Why the check-in was missed (with --missed)."),
        ]):
            f = opt(f)
        return f
    return decorate


@checkin.command(name="log")
@click.argument("team_name", metavar="TEAM", shell_complete=complete("team"))
@_checkin_options(editing=False)
@click.option("--missed", is_flag=True, help="Record that this week's check-in did not take place.")
def checkin_log(team_name, on, notes, blockers, next_steps, hours, mood, reason, missed) -> None:
    """Log a check-in. Example: preincub checkin log "Insertion RSA" --notes "Entretiens usagers" --hours 7"""
    c = _ctx().wf().log_checkin(team_name, on=on, notes=_notes(notes, missed), blockers=blockers,
                                next_steps=next_steps, hours=hours, mood=mood, missed=missed, reason=reason)
    say(f"check-in #{c.id} logged for {c.team!r}, week {c.week}")


@checkin.command(name="edit")
@click.argument("checkin_id", metavar="ID", type=ID)
@_checkin_options(editing=True)
def checkin_edit(checkin_id, on, notes, blockers, next_steps, hours, mood, reason) -> None:
    """Correct a check-in (its author or a coordinator, within 7 days); the change is audited."""
    c = _ctx().wf().edit_checkin(checkin_id, on=on, notes=_notes(notes, True), blockers=blockers,
                                 next_steps=next_steps, hours=hours, mood=mood, reason=reason)
    say(f"check-in #{c.id} corrected")


@checkin.command(name="list")
@click.option("--team", shell_complete=complete("team"))
@click.option("--coach", metavar="EMAIL", help="Check-ins logged by this person.", shell_complete=complete("person"))
@click.option("--week", type=WEEK, help="One ISO week, e.g. 2020-W30.")
@click.option("--since", type=DATE)
@json_option
def checkin_list(team, coach, week, since, as_json) -> None:
    """List check-ins, oldest first."""
    rows = _ctx().wf().checkins(team=team, coach=coach, week=week, since=since)
    if as_json:
        return emit_json(rows)
    t = table(L("id"), L("team"), L("on"), L("week"), L("author"), L("notes"), L("hours"), L("mood"))
    for c in rows:
        notes = styled((f"{L('missed')}: {c.reason}", "yellow")) if c.missed else (c.notes or "")
        t.add_row(str(c.id), c.team, c.on, c.week, c.author, notes,
                  "" if c.hours is None else f"{c.hours:g}", "" if c.mood is None else str(c.mood))
    console().print(t)


@checkin.command(name="gaps")
@click.option("--programme", shell_complete=complete("programme"))
@click.option("--weeks", type=int, help="Only the last N weeks.")
@json_option
def checkin_gaps(programme, weeks, as_json) -> None:
    """Teams in investigation with weeks that have no check-in, oldest gap first."""
    rows = _ctx().wf().gaps(programme, weeks)
    if as_json:
        return emit_json(rows)
    t = table(L("team"), L("coach"), L("coaching"), L("missing"), L("last_checkin"))
    for r in rows:
        t.add_row(r["team"], r["coach"] or L("none"), f"{r['weeks_held']}/{r['weeks_expected']}",
                  ", ".join(r["weeks_missing"]), r["last_checkin"] or L("none"))
    console().print(t)


# ---- the workflow ------------------------------------------------------------------------------

@app.command()
@click.argument("name", shell_complete=complete("team"))
@click.argument("trigger")
@click.option("--reason", help="Why; required by reject, incubate, decline, abandon and --force.")
@click.option("--force", is_flag=True, help="Override unmet conditions (recorded as forced; needs --reason).")
def advance(name, trigger, reason, force) -> None:
    """Fire TRIGGER on a team: submit, select, reject, present, hear, incubate, decline, abandon."""
    ev = _ctx().wf().advance(name, trigger, reason=reason, force=force)
    forced = " (forced)" if ev.forced else ""
    say(f"{name}: {phase_label(ev.from_)} → {phase_label(ev.to)}{forced}")


@app.command()
@click.argument("name", shell_complete=complete("team"))
@json_option
def check(name, as_json) -> None:
    """Which triggers are possible now; for each blocked one, every unmet condition."""
    r = _ctx().wf().check(name)
    lang = _lang["value"]
    blocked = {trig: [unmet_text(u, lang) for u in us] for trig, us in r["blocked"].items()}
    if as_json:
        return emit_json({"available": r["available"], "blocked": blocked, "team": r["team"],
                          "phase": r["phase"], "needs_reason": r["needs_reason"]})
    say(f"{r['team']}: {phase_label(r['phase'])}")
    avail = [f"{n} ({L('needs_reason')})" if n in r["needs_reason"] else n for n in r["available"]]
    say(f"{L('available')}: {', '.join(avail) or L('none')}")
    for trig, reasons in blocked.items():
        say(f"{L('blocked')}: {trig}")
        for reason in reasons:
            say(f"  - {reason}")


@app.command()
@click.option("--programme", shell_complete=complete("programme"))
@json_option
def status(programme, as_json) -> None:
    """One row per team: partner, phase, since, coach, days to the deadline."""
    wf = _ctx().wf()
    if as_json:
        return emit_json_rows(wf.teams.rows(programme))
    _status_table(wf.status(programme))
    tick = wf.last_tick()
    say(f"{L('last_tick')}: " + (f"{tick['wall']} ({tick['holder']})" if tick else L("none")))
    _warn_outbox(wf)


@app.command()
@click.argument("name", shell_complete=complete("team"))
@json_option
def history(name, as_json) -> None:
    """The team's audit trail: when, who, trigger, from, to, reason, forced."""
    rows = _ctx().wf().history(name)
    if as_json:
        return emit_json(rows)
    t = table(L("when"), L("who"), L("action"), L("from"), L("to"), L("reason"), L("forced"))
    for e in rows:
        t.add_row(_when(e.at), e.actor, e.trigger or e.action,
                  phase_label(e.from_) if e.from_ else "", phase_label(e.to) if e.to else "",
                  e.reason or "", L("yes") if e.forced else "")
    console().print(t)


@app.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid"]), default="mermaid", show_default=True)
def diagram(fmt) -> None:
    """The workflow as a Mermaid state diagram."""
    from states.machine import mermaid

    click.echo(mermaid(_lang["value"]))


# ---- reminders and the daemon ----------------------------------------------------------------

PROGRESS_AFTER = 1.5  # seconds: a delivery batch quicker than this shows no progress bar


def _t(fr: str, en: str) -> str:
    return fr if _lang["value"] == "fr" else en


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class _DeliveryProgress:
    """A progress bar (rich, on stderr) for a delivery batch, on a terminal only, and only once the
    batch has taken PROGRESS_AFTER seconds; the library just calls ``update(done, total)``."""

    def __init__(self) -> None:
        import time

        self.clock, self.start, self.bar, self.task = time.monotonic, time.monotonic(), None, None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.clock() - self.start < PROGRESS_AFTER:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn(_t("Envoi", "Delivering")), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(file=sys.stderr, force_terminal=True),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self):
        return self.update if _stderr_is_terminal() else None

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _outbox_warning(wf: Workflow) -> str | None:
    """One line while messages failed or have been retrying for over an hour (for those who may see the outbox)."""
    from workflow.errors import Forbidden

    try:
        h = wf.outbox_health()
    except Forbidden:
        return None
    if h["healthy"]:
        return None
    return _t(f"⚠ boîte d'envoi : {h['failed']} message(s) en échec, {h['retrying_over_an_hour']} en échec depuis "
              "plus d'une heure (voir 'preincub outbox list', puis 'preincub outbox retry --status failed')",
              f"⚠ outbox: {h['failed']} message(s) failed, {h['retrying_over_an_hour']} failing for over an hour "
              "(see 'preincub outbox list', then 'preincub outbox retry --status failed')")


def _warn_outbox(wf: Workflow) -> None:
    """The warning line of `status`'s text output."""
    if warning := _outbox_warning(wf):
        say(warning)


_CONSOLE = click.option("--console", "to_console", is_flag=True,
                        help="Print every message here instead of sending it (to try things out); marked sent.")


@app.group()
def remind() -> None:
    """Reminders: weekly coaching, missed coaching, deadline, committee."""


@remind.command(name="preview")
@click.option("--until", type=DATE, help="Up to this day [default: 30 days from now].")
@json_option
def remind_preview(until, as_json) -> None:
    """What would be enqueued from now (the clock) up to DATE, in order; writes nothing."""
    wf = _ctx().wf()
    end = until_datetime(until) if until else wf.clock.now() + timedelta(days=30)
    with progress("remind preview"):  # a bar that pulses while a large programme is computed
        rows = wf.remind_preview(end)
    if as_json:
        return emit_json(rows)
    t = table(L("due"), L("action"), L("to"), L("channels"), L("subject"))
    for r in rows:
        t.add_row(r["at"].replace("T", " ")[:16], r["kind"], r["to"], r["channel"], r["subject"])
    console().print(t)


@remind.command(name="run")
@_CONSOLE
def remind_run(to_console) -> None:
    """One tick: enqueue what is due now, then deliver pending messages.

    A message on a channel not configured here (PREINCUB_SMTP_URL, PREINCUB_WEBHOOK_URL) waits.
    """
    wf = _ctx().wf()
    with _DeliveryProgress() as progress:
        r = wf.tick(console=to_console, progress=progress)
    from workflow.outbox import tick_line

    click.echo(tick_line(r))
    if warning := _outbox_warning(wf):
        click.echo(f"preincub: {shown(warning)}", err=True)


@app.group()
def outbox() -> None:
    """The outbox: every reminder message, its status and its attempts."""


@outbox.command(name="list")
@click.option("--status", type=click.Choice(STATUSES))
@json_option
def outbox_list(status, as_json) -> None:
    """List messages; --status failed shows why each failed."""
    rows = _ctx().wf().outbox(status)
    if as_json:
        return emit_json(rows)
    t = table(L("id"), L("due"), L("action"), L("to"), L("channels"), L("status"), L("attempts"), L("reason"))
    for r in rows:
        via = r.channel if r.sent_via in (None, r.channel) else f"{r.channel} → {r.sent_via}"
        t.add_row(str(r.id), r.due_at.replace("T", " "), r.kind, r.to, via,
                  styled((r.status, "red" if r.status == "failed" else "")), str(r.attempts),
                  r.last_error or "")
    console().print(t)


@outbox.command(name="retry")
@click.argument("row_id", metavar="[ID]", type=ID, required=False)
@click.option("--status", type=click.Choice(["failed", "cancelled"]),
              help="Every message with this status (after an outage: failed), instead of one ID.")
@click.option("--since", type=DATE, help="With --status: only messages due on or after this day.")
def outbox_retry(row_id, status, since) -> None:
    """Send a failed or cancelled message (or all of them: --status failed) again at the next tick."""
    if since is not None and status is None:
        raise click.UsageError("--since goes with --status")
    if (row_id is None) == (status is None):
        raise click.UsageError("give one message ID, or --status failed for every failed message")
    wf = _ctx().wf()
    if row_id is not None:
        wf.outbox_retry(row_id)
        click.echo(f"message #{row_id} will be sent again at the next tick")
        return
    ids = wf.outbox_retry_all(status, since)
    click.echo(f"{len(ids)} message(s) will be sent again at the next tick")


@outbox.command(name="cancel")
@click.argument("row_id", metavar="ID", type=ID)
def outbox_cancel(row_id) -> None:
    """Never send a pending or failed message."""
    _ctx().wf().outbox_cancel(row_id)
    click.echo(f"message #{row_id} cancelled")


@app.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="One tick (with the lease), then exit: a liveness check.")
@_CONSOLE
@click.pass_context
def daemon(ctx: click.Context, once, to_console) -> None:
    """Tick on a cron schedule in Europe/Paris (PREINCUB_TICK_CRON); stops cleanly on SIGTERM/SIGINT.

    'preincub daemon status' says whether it ticks and the outbox is healthy.
    """
    if ctx.invoked_subcommand is not None:
        if once or to_console:
            raise click.UsageError("--once and --console go with 'preincub daemon' alone")
        return
    from workflow.daemon import serve
    from workflow.outbox import tick_line

    import logging

    class _LogFormatter(logging.Formatter):
        """Log lines carry names and errors from the store: controls and bidi overrides made visible,
        so a journal viewer or terminal shows them, and one record stays one line."""

        def format(self, record: logging.LogRecord) -> str:
            return shown(super().format(record))

    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    wf = _ctx().wf()
    r = serve(wf, once=once, console=to_console)
    if once:
        if r is None:
            raise click.ClickException("the tick failed (see the log above)")
        if r.get("skipped"):  # a live daemon holds the lease: that is the answer to "is it alive?"
            t = wf.last_tick()
            say(f"daemon {t['lease_holder']} is alive: it holds the lease until {t['lease_until']}; "
                f"its last tick: {t['wall']}" if t else "another daemon holds the lease")
            return
        click.echo(tick_line(r))


@daemon.command(name="status")
@json_option
def daemon_status(as_json) -> None:
    """The daemon's last tick, and the outbox's pending, retrying and failed messages.

    Exits 1 when unhealthy (for monitoring): the daemon never ticked or is late, or messages failed
    or have been failing for over an hour.
    """
    from workflow.daemon import health

    h = health(_ctx().wf())
    if as_json:
        emit_json(h)
    else:
        t = h["last_tick"]
        say(f"{L('last_tick')}: " + (f"{t['wall']} ({t['holder']})" if t else L("none"))
            + (_t(f" ; prochain prévu {t['next_tick']}", f"; next due {t['next_tick']}") if t and t.get("next_tick")
               else ""))
        say(_t(f"Boîte d'envoi : {h['pending']} en attente (dont {h['retrying']} en nouvel essai, "
               f"{h['retrying_over_an_hour']} depuis plus d'une heure), {h['failed']} en échec",
               f"Outbox: {h['pending']} pending ({h['retrying']} retrying, {h['retrying_over_an_hour']} for over "
               f"an hour), {h['failed']} failed"))
        words = {"never_ticked": _t("le démon n'a jamais tourné", "the daemon never ticked"),
                 "late": _t("le démon est en retard", "the daemon is late"),
                 "failed": _t("des messages ont échoué", "messages failed"),
                 "retrying": _t("des messages échouent depuis plus d'une heure", "messages failing for over an hour")}
        say(_t("état : ", "health: ") + (", ".join(words[p] for p in h["problems"]) if h["problems"]
                                          else _t("bon", "healthy")))
    if not h["healthy"]:  # exit 1 for monitoring, with the contract's one line on stderr
        _fail(_t("démon en mauvaise santé : ", "the daemon is unhealthy: ") + ", ".join(h["problems"]), 1)


def main() -> None:
    """Console-script entry point."""
    _lang["value"] = os.environ.get("PREINCUB_LANG", "fr") if os.environ.get("PREINCUB_LANG") in ("fr", "en") else "fr"
    app.main()


if __name__ == "__main__":
    main()
