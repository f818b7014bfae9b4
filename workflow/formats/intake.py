"""Intake: the applications of a call for projects, from a spreadsheet (a Démarches Simplifiées export,
a shared Excel file) into a programme's teams, all or nothing.

Each row becomes a frozen :class:`Application` (or the problems of its cells:
:mod:`workflow.formats.applications`); then, in one
transaction, partners and people missing from the store are created and the teams added, through
the directory's and the teams' own code (``new_partner``, and the batch paths ``insert_people``,
``insert_teams``), then the agreements a row gives (an exported teams CSV's ``Accords``) recorded as
``team agree`` records them. One bad
row and nothing is written: :class:`BadRows` carries every problem, with its line and column.
A team already in the programme is reported, never added twice: importing a file again changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.i18n import Message
from workflow.context import Context, find
from workflow.errors import N_, Invalid, Np_
from workflow.formats import sheets
from workflow.formats.applications import COLUMNS, Applicant, Application, RowProblem, applications, columns
from workflow.formats.sheets import Sheet
from workflow.rules import validate
from workflow.services.directory import Directory
from workflow.services.teams import NewTeam, Teams
from workflow.store import reads
from workflow.store import teams as team_rows
from workflow.store.models import Programme


class BadRows(Invalid):
    """Rows with problems: nothing was imported. ``problems`` lists each, in the order of the file."""

    def __init__(self, problems: Iterable[RowProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        lines = sorted({p.line for p in self.problems})
        super().__init__(Np_("{n} row is wrong (line {lines}); nothing was imported",
                             "{n} rows are wrong (lines {lines}); nothing was imported"),
                         code="bad_rows", n=len(lines), lines=", ".join(map(str, lines[:20])) + (
                             ", …" if len(lines) > 20 else ""))


@dataclass(frozen=True, slots=True)
class ExistingTeam:
    """A team of the file already in the programme: left as it is."""

    line: int
    name: str


@dataclass(frozen=True, slots=True)
class NewPerson:
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What an import created (or, ``dry_run``, would create), and the teams it left as they were."""

    programme: str
    file: str
    rows: int
    dry_run: bool
    teams: tuple[str, ...]
    existing: tuple[ExistingTeam, ...]
    partners: tuple[str, ...]
    people: tuple[NewPerson, ...]
    ignored_columns: tuple[str, ...]

# ---- the service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """Importing teams from a spreadsheet, in one transaction, through the directory's and teams' code."""

    ctx: Context
    directory: Directory
    teams: Teams

    def import_file(self, path: str | os.PathLike[str], programme: str, *, mapping: Mapping[str, str] | None = None,
                    dry_run: bool = False, progress: Callable[[int], None] | None = None) -> IntakeResult:
        """Read ``path`` (CSV or XLSX), then :meth:`import_sheet`."""
        return self.import_sheet(sheets.read(path), programme, mapping=mapping, dry_run=dry_run, progress=progress)

    def import_sheet(self, sheet: Sheet, programme: str, *, mapping: Mapping[str, str] | None = None,
                     dry_run: bool = False, progress: Callable[[int], None] | None = None) -> IntakeResult:
        """Add the sheet's teams to ``programme``, creating the partners and people it names that the
        store lacks; all or nothing (:class:`BadRows`). ``dry_run``: only say what would be done.
        ``progress(n)`` is called as rows are done (n rows more)."""
        cols = columns(sheet, mapping)
        apps, problems = applications(sheet, cols)
        ignored = tuple(h for i, h in enumerate(sheet.header) if h and i not in cols.values())
        store = self.ctx.store
        with store.read() if dry_run else store.write() as s:
            self.ctx.require(s, "manage")
            prog = find(s, "programme", programme)
            self.ctx.require(s, "manage", programme=prog)  # into their programmes only: refused, naming the grant
            seen = self.ctx.visible_programmes(s)
            plan = _Plan(s, prog, apps, problems, _headers(sheet, cols),
                         None if seen is None else reads.programme_names(s, seen))
            if plan.problems:
                raise BadRows(plan.problems)
            if not dry_run:
                self._apply(s, prog, plan, progress)
                if plan.new:
                    self.ctx.event(s, "team.import", data={"programme": prog.name, "file": sheet.name,
                                                           "teams": len(plan.new), "existing": len(plan.existing),
                                                           "partners": len(plan.partners), "people": len(plan.people)})
            return IntakeResult(prog.name, sheet.name, len(sheet.rows), dry_run, tuple(a.team for a in plan.new),
                                tuple(plan.existing), tuple(plan.partners),
                                tuple(NewPerson(n, e, tuple(sorted(r))) for e, (n, r) in plan.people.items()), ignored)

    def _apply(self, s: Any, prog: Programme, plan: _Plan, progress: Callable[[int], None] | None) -> None:
        """Partners through the directory's ``new_partner``; people and teams through the batch paths of
        the directory and the teams (``insert_people``, ``insert_teams``): the same rows and events."""
        partners = {k: p.id for k, p in plan.partner_rows.items()}
        made = [(key_partner(name), self.directory.new_partner(s, prog, name, kind)) for name, kind in plan.partners.items()]
        partners.update((k, p.id) for k, p in made)
        ids = dict(plan.known)
        ids.update(self.directory.insert_people(s, [(n, e, sorted(r)) for e, (n, r) in plan.people.items()]))

        def who(p: Applicant | None) -> tuple[int, str] | None:
            return None if p is None else (ids[p.email], p.email)

        self.teams.insert_teams(s, prog, [
            NewTeam(a.team, partners[key_partner(a.partner)], a.partner, a.problem,
                    tuple(who(p) for p in a.intrapreneurs), a.days_per_week, who(a.coach), who(a.sponsor))
            for a in plan.new], progress)
        now = self.ctx.clock.now()
        for a in plan.new:
            if a.agreements:
                team = find(s, "team", a.team)
                for party in a.agreements:  # as Teams.agree: the row, the team's new version, the event
                    team_rows.add_agreement(s, team.id, party, now, self.ctx.actor)
                    team_rows.bump(s, team)
                    self.ctx.event(s, "agree", team, data={"party": party})


def key_partner(name: str) -> str:
    """A partner's name as matched: case and spacing aside ("Pas-de-Calais" = "pas-de-calais")."""
    return " ".join(validate.lookup(name).casefold().split())


class _Plan:
    """What an import does, checked against the store: teams new and existing, partners and people to create."""

    def __init__(self, s: Any, prog: Programme, apps: list[Application], problems: list[RowProblem],
                 headers: dict[str, str], readable: set[str] | None = None) -> None:
        """``readable``: the names of the programmes the importer reads (None: all); a team of another
        programme with a name of the file is reported without naming its programme."""
        self.problems = list(problems)
        self.headers = headers
        self.new: list[Application] = []
        self.existing: list[ExistingTeam] = []
        self.partners: dict[str, str] = {}  # name → kind, to create
        self.people: dict[str, tuple[str, set[str]]] = {}  # e-mail → (name, roles), to create
        self.partner_rows = {key_partner(p.name): p for p in reads.partners(s, prog.id)}
        teams = reads.programme_of_teams(s, {a.team for a in apps})
        emails = {p.email for a in apps for p in (*a.intrapreneurs, a.coach, a.sponsor) if p is not None}
        self.known = known = reads.people_ids(s, emails)
        roles: dict[int, set[str]] = {}
        for pid, role in reads.roles_of(s, set(known.values())):
            roles.setdefault(pid, set()).add(role)
        names = {p.email: p.name for a in apps for p in (*a.intrapreneurs, a.coach, a.sponsor)
                 if p is not None and p.name and p.email not in known}
        seen: dict[str, int] = {}
        for a in apps:
            if a.team in seen:
                self._problem(a, "team", N_("the team {team!q} is also on line {other}"), "duplicate_team",
                              team=a.team, other=seen[a.team])
                continue
            seen[a.team] = a.line
            if a.team in teams:
                if teams[a.team] == prog.name:
                    self.existing.append(ExistingTeam(a.line, a.team))
                elif readable is None or teams[a.team] in readable:
                    self._problem(a, "team", N_("a team named {name!q} already exists in the programme {programme!q}"),
                                  "team_exists", name=a.team, programme=teams[a.team])
                else:  # team names are unique in the store; the other programme is not the importer's to read
                    self._problem(a, "team", N_("a team named {name!q} already exists in another programme"),
                                  "team_exists", name=a.team)
                continue
            ok = True
            for role, people in (("intrapreneur", a.intrapreneurs), ("coach", (a.coach,)), ("sponsor", (a.sponsor,))):
                for p in people:
                    if p is not None:
                        ok &= self._person(a, role, p, known, roles, names)
            if ok:
                self.new.append(a)
                k = key_partner(a.partner)
                if k not in self.partner_rows and not any(key_partner(n) == k for n in self.partners):
                    self.partners[a.partner] = a.partner_kind or "departement"

    def _person(self, a: Application, role: str, p: Applicant, known: dict[str, int], roles: dict[int, set[str]],
                names: dict[str, str]) -> bool:
        column = role
        if p.email in known:
            if role not in roles.get(known[p.email], set()):
                self._problem(a, column, N_("{email} does not have the role {role}"), "missing_role",
                              email=p.email, role=role)
                return False
            return True
        if p.email not in names:
            self._problem(a, column, N_("{email} is not in the store yet: give their name too, as "
                                        "Nom Prénom <{email}>"), "needs_name", email=p.email)
            return False
        self.people.setdefault(p.email, (names[p.email], set()))[1].add(role)
        return True

    def _problem(self, a: Application, col: str, message: Message, code: str, **params: Any) -> None:
        self.problems.append(RowProblem(a.line, self.headers.get(col), code, message, params))


def _headers(sheet: Sheet, cols: dict[str, int]) -> dict[str, str]:
    """preincub's column → the file's header that gives it (an intrapreneur: the e-mail's, when no
    combined column): where a problem found against the store is reported."""
    out = {c: sheet.header[i] for c, i in cols.items()}
    if "intrapreneur" not in out and "intrapreneur_email" in out:
        out["intrapreneur"] = out["intrapreneur_email"]
    return out


__all__ = ["Applicant", "Application", "BadRows", "COLUMNS", "ExistingTeam", "Intake", "IntakeResult", "NewPerson",
           "RowProblem", "applications", "columns"]
