"""preincub's command line: parse, call ``workflow``, render with rich. No SQL and no rules here."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import click
from rich.console import Console
from rich.table import Table

import states
from workflow import Workflow, demo
from notifications import CHANNELS
from workflow.api import PARTNER_KINDS, PROGRAMME_KINDS, ROLES
from workflow.outbox import STATUSES, until_datetime
from workflow.clock import FixedClock, clock_from, parse_date, parse_datetime
from workflow.coaching import parse_week
from workflow.db import HEAD_REVISION
from workflow.errors import PreincubError

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
    "shortfall": ("sous l'engagement", "below the commitment"),
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
            self._wf = Workflow.open(self.db, clock=clock, actor=self.actor, create=create)
        return self._wf

    def close(self) -> None:
        if self._wf is not None:
            self._wf.close()


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DateTimeParam(click.ParamType):
    name = "DATETIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return parse_datetime(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class WeekParam(click.ParamType):
    name = "YYYY-Www"

    def convert(self, value, param, ctx):
        try:
            return parse_week(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateParam()
YESNO = click.Choice(["yes", "no", "oui", "non"], case_sensitive=False)


def _yes(v: str) -> bool:
    return v.lower() in ("yes", "oui")


def _fail(message: str, code: int) -> None:
    click.echo(f"preincub: {message}", err=True)
    sys.exit(code)


class App(click.Group):
    """Errors become one line on stderr with DESIGN.md's exit codes; never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from sqlalchemy.exc import SQLAlchemyError

        try:
            rv = super().main(args, prog_name or "preincub", complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `preincub` or `preincub team` alone: the help
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(exc.format_message().replace("\n", " ") + hint, 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        except PreincubError as exc:
            _fail(exc.text(_lang["value"]), exc.exit_code)
        except SQLAlchemyError as exc:
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            _fail(f"database error: {first}", 1)
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
        sys.exit(rv if isinstance(rv, int) else 0)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys, ISO dates).")(f)


def emit_json(data) -> None:
    # Indented for a person at a terminal; compact for pipes and files (a fifth of the bytes at scale).
    click.echo(json.dumps(data, ensure_ascii=False, indent=2 if sys.stdout.isatty() else None))


def console() -> Console:
    # Off a terminal (pipes, files, tests) rich would assume 80 columns; tables read better wider.
    # NO_COLOR: no escape sequence at all, not even bold.
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    c = Console(highlight=False, **plain)
    return c if c.is_terminal else Console(highlight=False, width=int(os.environ.get("COLUMNS", 160)), **plain)


def _days(v: int | None) -> str:
    if v is None:
        return L("none")
    return f"[red]{v}[/red]" if v < 0 else (f"[yellow]{v}[/yellow]" if v <= 14 else str(v))


def _when(text: str | None, with_time: bool = True) -> str:
    if not text:
        return L("none")
    return text[:16].replace("T", " ") if with_time else text[:10]


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="PREINCUB_DB", metavar="PATH|URL",
              help="Store: an SQLite file or a postgresql+psycopg:// URL [env PREINCUB_DB; default: user data dir].")
@click.option("--as", "actor", envvar="PREINCUB_USER", metavar="EMAIL",
              help="The person acting, recorded on every change [env PREINCUB_USER; default: system user].")
@click.option("--now", type=DateTimeParam(), envvar="PREINCUB_NOW",
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
    click.echo(f"store ready: {wf.store.where} (schema {HEAD_REVISION})")


@app.command(name="demo")
@json_option
def demo_cmd(as_json: bool) -> None:
    """Fill a fresh store with the 2020 programme of seed 1, then show its status."""
    c = _ctx()
    wf = c.wf(create=True)
    fresh = not demo.exists(wf)
    if fresh:
        demo.build(wf)
    if c.now is None:
        wf.clock = FixedClock(demo.AS_OF)  # the demo's own date, unless --now says otherwise
    rows = wf.status(demo.PROGRAMME)
    if as_json:
        return emit_json(rows)
    what = "created" if fresh else "already there"
    click.echo(f"demo programme {demo.PROGRAMME!r} {what} in {wf.store.where}")
    _status_table(rows, f"{demo.PROGRAMME} — {wf.clock.today().isoformat()}")
    if c.now is None:
        click.echo(f"(as of {demo.AS_OF.date().isoformat()}; add --now {demo.AS_OF.date().isoformat()} "
                   "to the next commands to stay on that day)")


# ---- programmes, partners, people ------------------------------------------------------------

@app.group()
def programme() -> None:
    """Programmes: one agreement, its kind, its deadline and its places."""


@programme.command(name="add")
@click.argument("name")
@click.option("--signed-on", type=DATE, required=True, help="The day the agreement takes effect (YYYY-MM-DD).")
@click.option("--kind", type=click.Choice(PROGRAMME_KINDS), default="preincubation", show_default=True)
@click.option("--months", type=int, help="Length in months [kind's default: 6].")
@click.option("--capacity", type=int, help="Teams the operator can coach [preincubation: 8; fast: 1].")
@click.option("--min-days-per-week", type=float, help="Intrapreneur time minimum [preincubation: 1; fast: 2.5].")
def programme_add(name, signed_on, kind, months, capacity, min_days_per_week) -> None:
    """Add a programme. Example: preincub programme add "Pré-incubation 2020" --signed-on 2020-06-23"""
    p = _ctx().wf().add_programme(name, signed_on, kind=kind, months=months, capacity=capacity,
                                  min_days_per_week=min_days_per_week)
    click.echo(f"programme {p['name']!r} added; deadline {p['deadline']}")


def _programme_rows(rows: list[dict]) -> None:
    t = Table(L("programme"), L("kind"), L("signed_on"), L("deadline"), L("days_left"), L("capacity"), L("teams"))
    for p in rows:
        t.add_row(p["name"], p["kind"], p["signed_on"], p["deadline"], _days(p["days_left"]),
                  f"{p['places_taken']}/{p['capacity']}", str(p["teams"]))
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
@click.argument("name")
@json_option
def programme_show(name, as_json) -> None:
    """One programme: numbers, partners, teams per phase."""
    p = _ctx().wf().programme(name)
    if as_json:
        return emit_json(p)
    _programme_rows([p])
    click.echo(f"{L('partner')}: " + ", ".join(x["name"] for x in p["partners"]))
    click.echo(f"{L('min_days')}: {p['min_days_per_week']:g}")
    for ph, n in p["teams_by_phase"].items():
        click.echo(f"  {phase_label(ph)}: {n}")


@app.group()
def partner() -> None:
    """Partner bodies (collectivités) of a programme."""


@partner.command(name="add")
@click.argument("name")
@click.option("--programme", required=True)
@click.option("--kind", type=click.Choice(PARTNER_KINDS), default="departement", show_default=True)
def partner_add(name, programme, kind) -> None:
    """Add a partner body. Example: preincub partner add "Val d'Oise" --programme "Pré-incubation 2020\""""
    p = _ctx().wf().add_partner(name, programme, kind=kind)
    click.echo(f"partner {p['name']!r} added to {p['programme']!r}")


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
    click.echo(f"{p['name']} <{p['email']}> added as {', '.join(p['roles'])}")


@person.command(name="edit")
@click.argument("email")
@click.option("--name")
@click.option("--add-role", "add_roles", multiple=True, type=click.Choice(ROLES))
@click.option("--remove-role", "remove_roles", multiple=True, type=click.Choice(ROLES))
@_CHANNEL
@_LANG
def person_edit(email, name, add_roles, remove_roles, channels, person_lang) -> None:
    """Change a person's name, roles, reminder channels or language."""
    p = _ctx().wf().edit_person(email, name=name, add_roles=add_roles, remove_roles=remove_roles,
                                channels=channels or None, lang=person_lang)
    click.echo(f"{p['name']} <{p['email']}> updated: {', '.join(p['roles'])}; {', '.join(p['channels'])}, {p['lang']}")


@person.command(name="list")
@click.option("--role", type=click.Choice(ROLES))
@json_option
def person_list(role, as_json) -> None:
    """List people and their roles."""
    rows = _ctx().wf().people(role)
    if as_json:
        return emit_json(rows)
    t = Table(L("name"), L("email"), L("roles"), L("channels"))
    for p in rows:
        t.add_row(p["name"], p["email"], ", ".join(p["roles"]), f"{', '.join(p['channels'])} ({p['lang']})")
    console().print(t)


# ---- teams ---------------------------------------------------------------------------------

@app.group()
def team() -> None:
    """Teams: their record (problem, people, criteria, agreements, proof of concept, committee)."""


def _team_options(f):
    for opt in reversed([
        click.option("--problem", help="The public problem the team investigates."),
        click.option("--intrapreneur", "intrapreneurs", multiple=True, metavar="EMAIL", help="Repeat for several."),
        click.option("--coach", metavar="EMAIL"),
        click.option("--sponsor", metavar="EMAIL", help="Required for 'fast' programmes."),
        click.option("--days-per-week", type=float, help="Intrapreneur time commitment, days a week."),
    ]):
        f = opt(f)
    return f


@team.command(name="add")
@click.argument("name")
@click.option("--programme", required=True)
@click.option("--partner", required=True, help="The partner body (collectivité) that brings the problem.")
@_team_options
def team_add(name, programme, partner, problem, intrapreneurs, coach, sponsor, days_per_week) -> None:
    """Add a team, in the call for projects. Example: preincub team add "Insertion RSA" --programme P --partner Nord"""
    t = _ctx().wf().add_team(name, programme, partner, problem=problem, intrapreneurs=intrapreneurs, coach=coach,
                             sponsor=sponsor, days_per_week=days_per_week)
    click.echo(f"team {t['name']!r} added ({phase_label(t['phase'])})")


@team.command(name="edit")
@click.argument("name")
@click.option("--rename", metavar="NEW_NAME")
@click.option("--partner")
@_team_options
@click.option("--remove-intrapreneur", "remove", multiple=True, metavar="EMAIL")
def team_edit(name, rename, partner, problem, intrapreneurs, coach, sponsor, days_per_week, remove) -> None:
    """Change a team's record. --intrapreneur adds; --coach and --sponsor replace."""
    t = _ctx().wf().edit_team(name, rename=rename, partner=partner, problem=problem, intrapreneurs=intrapreneurs,
                              remove_intrapreneurs=remove, coach=coach, sponsor=sponsor, days_per_week=days_per_week)
    click.echo(f"team {t['name']!r} updated")


@team.command(name="assess")
@click.argument("name")
@click.option("--real", type=YESNO, required=True, help="Is the problem real? (réel)")
@click.option("--major", type=YESNO, required=True, help="Is it major? (majeur)")
@click.option("--actionable", type=YESNO, required=True, help="Can we act on it? (actionnable)")
@click.option("--note")
def team_assess(name, real, major, actionable, note) -> None:
    """Assess the three selection criteria. Example: preincub team assess T --real yes --major yes --actionable no"""
    _ctx().wf().assess(name, real=_yes(real), major=_yes(major), actionable=_yes(actionable), note=note)
    click.echo(f"team {name!r} assessed")


@team.command(name="agree")
@click.argument("name")
@click.option("--party", type=click.Choice(states.PARTIES), required=True)
def team_agree(name, party) -> None:
    """Record one party's agreement to select the team (both are needed)."""
    _ctx().wf().agree(name, party)
    click.echo(f"{party} agreed to {name!r}")


@team.command(name="poc")
@click.argument("name")
@click.option("--summary", required=True)
@click.option("--link", metavar="URL")
def team_poc(name, summary, link) -> None:
    """Record the proof of concept the team will present."""
    _ctx().wf().poc(name, summary, link)
    click.echo(f"proof of concept recorded for {name!r}")


@team.command(name="committee")
@click.argument("name")
@click.option("--on", "on", type=DATE, help="The committee's date.")
@click.option("--opinion", help="The committee's opinion, once it has heard the team.")
def team_committee(name, on, opinion) -> None:
    """Record the committee date, then its opinion."""
    _ctx().wf().committee(name, on=on, opinion=opinion)
    click.echo(f"committee recorded for {name!r}")


def _status_table(rows: list[dict], title: str | None = None) -> None:
    t = Table(L("team"), L("partner"), L("phase"), L("since"), L("coach"), L("last_checkin"), L("days_left"),
              title=title)
    for r in rows:
        last = r["last_checkin"] or L("none")
        if r["drifting"]:
            last = f"[red]{last} ⚠ {r['weeks_missing']}[/red]"
        t.add_row(r["name"], r["partner"] or L("none"), phase_label(r["phase"]), _when(r["phase_since"], False),
                  r["coach"] or L("none"), last, _days(r["days_left"]))
    console().print(t)


@team.command(name="list")
@click.option("--programme")
@click.option("--phase", type=click.Choice(list(states.PHASES)))
@json_option
def team_list(programme, phase, as_json) -> None:
    """List teams, optionally of one programme or phase."""
    rows = _ctx().wf().status(programme, phase)
    if as_json:
        return emit_json(rows)
    _status_table(rows)


@team.command(name="show")
@click.argument("name")
@json_option
def team_show(name, as_json) -> None:
    """Everything about one team."""
    t = _ctx().wf().team(name)
    if as_json:
        return emit_json(t)
    g = Table.grid(padding=(0, 2))
    g.add_column(style="bold")
    g.add_column()
    yn = {True: L("yes"), False: L("no"), None: "?"}
    people = lambda xs: ", ".join(f"{p['name']} <{p['email']}>" for p in xs) or L("none")  # noqa: E731
    rows = [
        (L("team"), t["name"]), (L("programme"), t["programme"]), (L("partner"), t["partner"] or L("none")),
        (L("phase"), f"{phase_label(t['phase'])} ({t['phase']}), {L('since').lower()} {_when(t['phase_since'])}"),
        (L("deadline"), f"{t['deadline']} ({_days(t['days_left'])})"), (L("problem"), t["problem"] or L("none")),
        (L("intrapreneurs"), ", ".join(f"{p['name']} <{p['email']}> {'?' if p['days_per_week'] is None else format(p['days_per_week'], 'g')} {L('days_week')}"
                                       for p in t["intrapreneurs"]) or L("none")),
        (L("coach"), people(t["coaches"])), (L("sponsor"), people(t["sponsors"])),
        (L("criteria"), ", ".join(f"{c}: {yn[v]}" for c, v in t["criteria"].items())),
        (L("agreements"), ", ".join(t["agreements"]) or L("none")),
        (L("poc"), t["poc"]["summary"] or L("none")),
        (L("committee"), f"{t['committee']['on'] or L('none')} — {t['committee']['opinion'] or L('none')}"),
        (L("coaching"), _coaching_line(t["coaching"])),
        (L("history"), " → ".join(f"{phase_label(p['phase'])} ({_when(p['start'], False)})" for p in t["phases"])),
    ]
    for k, v in rows:
        g.add_row(k, v)
    console().print(g)


def _coaching_line(c: dict) -> str:
    line = f"{c['weeks_held']}/{c['weeks_expected']} {L('held')}, {L('last_checkin').lower()} {c['last_checkin'] or L('none')}"
    if c["weeks_missing"]:
        line += f"; [red]{L('missing').lower()}: {', '.join(c['weeks_missing'])}[/red]"
    if c["hours_per_week"] is not None:
        line += f"; {c['hours_per_week']:g} {L('per_week')}"
        if c["hours_committed"] is not None:
            line += f" / {c['hours_committed']:g}"
        if c["hours_shortfall"]:
            line += f" [red]({L('shortfall')})[/red]"
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
        return sys.stdin.read()
    if notes is None and not missed and _interactive():
        text = click.edit("\n# Notes du point hebdomadaire. Les lignes commençant par # sont ignorées.\n")
        if text is None:
            raise click.UsageError("no notes written: check-in not logged")
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return notes


def _checkin_options(f):
    for opt in reversed([
        click.option("--on", "on", type=DATE, help="The day it was held [default: today]."),
        click.option("--notes", help="What was said; '-' reads stdin; omitted on a terminal: $EDITOR."),
        click.option("--blockers"),
        click.option("--next-steps"),
        click.option("--hours", type=float, help="The intrapreneur's hours on the project that week."),
        click.option("--mood", type=click.IntRange(1, 5), help="1 (bad) to 5 (great)."),
        click.option("--reason", help="Why the check-in was missed (with --missed)."),
    ]):
        f = opt(f)
    return f


@checkin.command(name="log")
@click.argument("team_name", metavar="TEAM")
@_checkin_options
@click.option("--missed", is_flag=True, help="Record that this week's check-in did not take place.")
def checkin_log(team_name, on, notes, blockers, next_steps, hours, mood, reason, missed) -> None:
    """Log a check-in. Example: preincub checkin log "Insertion RSA" --notes "Entretiens usagers" --hours 7"""
    c = _ctx().wf().log_checkin(team_name, on=on, notes=_notes(notes, missed), blockers=blockers,
                                next_steps=next_steps, hours=hours, mood=mood, missed=missed, reason=reason)
    click.echo(f"check-in #{c['id']} logged for {c['team']!r}, week {c['week']}")


@checkin.command(name="edit")
@click.argument("checkin_id", metavar="ID", type=int)
@_checkin_options
def checkin_edit(checkin_id, on, notes, blockers, next_steps, hours, mood, reason) -> None:
    """Correct a check-in (its author or a coordinator, within 7 days); the change is audited."""
    c = _ctx().wf().edit_checkin(checkin_id, on=on, notes=_notes(notes, True), blockers=blockers,
                                 next_steps=next_steps, hours=hours, mood=mood, reason=reason)
    click.echo(f"check-in #{c['id']} corrected")


@checkin.command(name="list")
@click.option("--team")
@click.option("--coach", metavar="EMAIL", help="Check-ins logged by this person.")
@click.option("--week", type=WeekParam(), help="One ISO week, e.g. 2020-W30.")
@click.option("--since", type=DATE)
@json_option
def checkin_list(team, coach, week, since, as_json) -> None:
    """List check-ins, oldest first."""
    rows = _ctx().wf().checkins(team=team, coach=coach, week=week, since=since)
    if as_json:
        return emit_json(rows)
    t = Table(L("id"), L("team"), L("on"), L("week"), L("author"), L("notes"), L("hours"), L("mood"))
    for c in rows:
        notes = f"[yellow]{L('missed')}: {c['reason']}[/yellow]" if c["missed"] else (c["notes"] or "")
        t.add_row(str(c["id"]), c["team"], c["on"], c["week"], c["author"], notes,
                  "" if c["hours"] is None else f"{c['hours']:g}", "" if c["mood"] is None else str(c["mood"]))
    console().print(t)


@checkin.command(name="gaps")
@click.option("--programme")
@click.option("--weeks", type=int, help="Only the last N weeks.")
@json_option
def checkin_gaps(programme, weeks, as_json) -> None:
    """Teams in investigation with weeks that have no check-in, oldest gap first."""
    rows = _ctx().wf().gaps(programme, weeks)
    if as_json:
        return emit_json(rows)
    t = Table(L("team"), L("coach"), L("coaching"), L("missing"), L("last_checkin"))
    for r in rows:
        t.add_row(r["team"], r["coach"] or L("none"), f"{r['weeks_held']}/{r['weeks_expected']}",
                  ", ".join(r["weeks_missing"]), r["last_checkin"] or L("none"))
    console().print(t)


# ---- the workflow ------------------------------------------------------------------------------

@app.command()
@click.argument("name")
@click.argument("trigger")
@click.option("--reason", help="Why; required by reject, incubate, decline, abandon and --force.")
@click.option("--force", is_flag=True, help="Override unmet conditions (recorded as forced; needs --reason).")
def advance(name, trigger, reason, force) -> None:
    """Fire TRIGGER on a team: submit, select, reject, present, hear, incubate, decline, abandon."""
    ev = _ctx().wf().advance(name, trigger, reason=reason, force=force)
    forced = " (forced)" if ev["forced"] else ""
    click.echo(f"{name}: {phase_label(ev['from'])} → {phase_label(ev['to'])}{forced}")


@app.command()
@click.argument("name")
@json_option
def check(name, as_json) -> None:
    """Which triggers are possible now; for each blocked one, every unmet condition."""
    r = _ctx().wf().check(name, _lang["value"])
    if as_json:
        return emit_json({"available": r["available"], "blocked": r["blocked"], "team": r["team"],
                          "phase": r["phase"], "needs_reason": r["needs_reason"]})
    click.echo(f"{r['team']}: {phase_label(r['phase'])}")
    avail = [f"{n} ({L('needs_reason')})" if n in r["needs_reason"] else n for n in r["available"]]
    click.echo(f"{L('available')}: {', '.join(avail) or L('none')}")
    for trig, reasons in r["blocked"].items():
        click.echo(f"{L('blocked')}: {trig}")
        for reason in reasons:
            click.echo(f"  - {reason}")


@app.command()
@click.option("--programme")
@json_option
def status(programme, as_json) -> None:
    """One row per team: partner, phase, since, coach, days to the deadline."""
    wf = _ctx().wf()
    rows = wf.status(programme)
    if as_json:
        return emit_json(rows)
    _status_table(rows)
    tick = wf.last_tick()
    click.echo(f"{L('last_tick')}: " + (f"{tick['wall']} ({tick['holder']})" if tick else L("none")))


@app.command()
@click.argument("name")
@json_option
def history(name, as_json) -> None:
    """The team's audit trail: when, who, trigger, from, to, reason, forced."""
    rows = _ctx().wf().history(name)
    if as_json:
        return emit_json(rows)
    t = Table(L("when"), L("who"), L("action"), L("from"), L("to"), L("reason"), L("forced"))
    for e in rows:
        t.add_row(_when(e["at"]), e["actor"], e["trigger"] or e["action"],
                  phase_label(e["from"]) if e["from"] else "", phase_label(e["to"]) if e["to"] else "",
                  e["reason"] or "", L("yes") if e["forced"] else "")
    console().print(t)


@app.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid"]), default="mermaid", show_default=True)
def diagram(fmt) -> None:
    """The workflow as a Mermaid state diagram."""
    from states.machine import mermaid

    click.echo(mermaid(_lang["value"]))


# ---- reminders and the daemon ----------------------------------------------------------------

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
    rows = wf.remind_preview(end)
    if as_json:
        return emit_json(rows)
    t = Table(L("due"), L("action"), L("to"), L("channels"), L("subject"))
    for r in rows:
        t.add_row(r["at"].replace("T", " ")[:16], r["kind"], r["to"], r["channel"], r["subject"])
    console().print(t)


@remind.command(name="run")
def remind_run() -> None:
    """One tick: enqueue what is due now, then deliver pending messages."""
    r = _ctx().wf().tick()
    click.echo(f"enqueued {r['enqueued']}, sent {r['sent']}, to retry {r['retry']}, failed {r['failed']}")


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
    t = Table(L("id"), L("due"), L("action"), L("to"), L("channels"), L("status"), L("attempts"), L("reason"))
    for r in rows:
        t.add_row(str(r["id"]), r["due_at"].replace("T", " "), r["kind"], r["to"], r["channel"], r["status"],
                  str(r["attempts"]), r["last_error"] or "")
    console().print(t)


@outbox.command(name="retry")
@click.argument("row_id", metavar="ID", type=int)
def outbox_retry(row_id) -> None:
    """Send a failed or cancelled message again at the next tick."""
    _ctx().wf().outbox_retry(row_id)
    click.echo(f"message #{row_id} will be sent again at the next tick")


@outbox.command(name="cancel")
@click.argument("row_id", metavar="ID", type=int)
def outbox_cancel(row_id) -> None:
    """Never send a pending or failed message."""
    _ctx().wf().outbox_cancel(row_id)
    click.echo(f"message #{row_id} cancelled")


@app.command()
@click.option("--once", is_flag=True, help="One tick (with the lease), then exit: a liveness check.")
def daemon(once) -> None:
    """Tick on a cron schedule in Europe/Paris (PREINCUB_TICK_CRON); stops cleanly on SIGTERM/SIGINT."""
    import logging

    from workflow.daemon import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    wf = _ctx().wf()
    r = serve(wf, once=once)
    if once:
        if r is None:
            raise click.ClickException("the tick failed (see the log above)")
        if r.get("skipped"):  # a live daemon holds the lease: that is the answer to "is it alive?"
            t = wf.last_tick()
            click.echo(f"daemon {t['lease_holder']} is alive: it holds the lease until {t['lease_until']}; "
                       f"its last tick: {t['wall']}" if t else "another daemon holds the lease")
            return
        click.echo(f"enqueued {r['enqueued']}, sent {r['sent']}, to retry {r['retry']}, failed {r['failed']}")


def main() -> None:
    """Console-script entry point."""
    _lang["value"] = os.environ.get("PREINCUB_LANG", "fr") if os.environ.get("PREINCUB_LANG") in ("fr", "en") else "fr"
    app.main()


if __name__ == "__main__":
    main()
