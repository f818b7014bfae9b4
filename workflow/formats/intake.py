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
A partner cell that names a département ("80 - Somme", "Somme (80)", "somme", "80") is the programme's
partner of that INSEE code or name; a new one is named as the INSEE names it, with its code. A file with a
state column (a DS export's "État du dossier") imports only its dossiers in instruction or accepted.

A page of Démarches Simplifiées dossiers goes the same way (:func:`ds_rows` reads it as a sheet whose
header is preincub's columns; ``Intake.ds_plan`` and ``ds_apply`` check and write it), except that a
dossier with a problem is left out and the others go on: :mod:`workflow.services.ds` decides.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from notifications.i18n import Message
from workflow.context import Context, find
from workflow.errors import N_, Invalid, Np_
from workflow.formats import sheets
from workflow.formats.applications import (
    COLUMNS,
    DS_LIVE,
    DS_STATES,
    Applicant,
    Application,
    RowProblem,
    applications,
    columns,
    known_column,
    target,
)
from workflow.formats.sheets import Cell, Sheet, key
from workflow.rules import validate
from workflow.rules.partners import (
    DEPARTEMENTS,
    match_partner,
    name_key,
    split_departement,
)
from workflow.services.listing import gc_paused
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
    skipped: dict[str, int] = field(default_factory=dict)  # rows not imported, by their DS state (a DS export's)

# ---- the service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """Importing teams from a spreadsheet, in one transaction, through the directory's and teams' code."""

    ctx: Context
    directory: Directory
    teams: Teams

    def import_file(self, path: str | os.PathLike[str], programme: str, *,
                    mapping: Mapping[str, str | int] | None = None, dry_run: bool = False, progress: Callable[[int], None] | None = None) -> IntakeResult:
        """Read ``path`` (CSV or XLSX), then :meth:`import_sheet`."""
        with gc_paused():
            return self.import_sheet(sheets.read(path), programme, mapping=mapping, dry_run=dry_run,
                                     progress=progress)

    def import_sheet(self, sheet: Sheet, programme: str, *, mapping: Mapping[str, str | int] | None = None,
                     dry_run: bool = False, progress: Callable[[int], None] | None = None) -> IntakeResult:
        """Add the sheet's teams to ``programme``, creating the partners and people it names that the
        store lacks; all or nothing (:class:`BadRows`). ``dry_run``: only say what would be done.
        ``progress(n)`` is called as rows are done (n rows more). A file with a state column (a DS export's
        "État du dossier") imports only its dossiers in instruction or accepted, and counts the others."""
        with gc_paused():
            return self._import_sheet(sheet, programme, mapping, dry_run, progress)

    def _import_sheet(self, sheet: Sheet, programme: str, mapping: Mapping[str, str | int] | None,
                      dry_run: bool, progress: Callable[[int], None] | None) -> IntakeResult:
        cols = columns(sheet, mapping)
        live, skipped, problems = _live(sheet, cols)
        apps, more = applications(live, cols)
        problems += more
        ignored = tuple(h for i, h in enumerate(sheet.header) if h and i not in cols.values())
        store = self.ctx.store
        with store.read() if dry_run else store.write() as s:
            self.ctx.require(s, "manage")
            prog = find(s, "programme", programme)
            self.ctx.require(s, "manage", programme=prog)  # into their programmes only: refused, naming the grant
            seen = self.ctx.visible_programmes(s)
            plan = _Plan(s, prog, apps, problems, _headers(sheet, cols),
                         None if seen is None else reads.programme_names(s, seen), official="state" in cols)
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
                                tuple(NewPerson(n, e, tuple(sorted(r))) for e, (n, r) in plan.people.items()), ignored,
                                skipped)

    def _apply(self, s: Any, prog: Programme, plan: _Plan, progress: Callable[[int], None] | None,
               insee: Mapping[str, str] | None = None) -> None:
        """Partners through the directory's ``new_partner`` (a département's with its INSEE code); people
        and teams through the batch paths of the directory and the teams (``insert_people``,
        ``insert_teams``): the same rows and events."""
        partners = {k: p.id for k, p in plan.partner_rows.items()}
        codes = {**plan.insee, **(insee or {})}
        made = [(key_partner(name), self.directory.new_partner(s, prog, name, kind, codes.get(name)))
                for name, kind in plan.partners.items()]
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


    # ---- a page of Démarches Simplifiées dossiers (workflow.services.ds decides, these read and write) ----

    def ds_client(self) -> Any:
        """A client of DS's API from the settings (``PREINCUB_DS_URL``, ``PREINCUB_DS_TOKEN``): Invalid, one
        line, when no token is set. Made here, above the services, which take it as given."""
        ds = self.ctx.settings.ds
        token = ds.token
        if not token:
            raise Invalid(N_("no Démarches Simplifiées token: set PREINCUB_DS_TOKEN"), code="ds_no_token")
        from workflow.formats.ds import DsClient  # httpx, loaded only to sync

        return DsClient(ds.url, token)

    def ds_read(self, dossiers: Sequence[Any], mapping: Mapping[str, str] | None,
                partners: Sequence[tuple[str, str | None]], name: str) -> DsRows:
        """:func:`ds_rows`, for the services below this layer."""
        return ds_rows(dossiers, mapping, partners, name)

    def ds_plan(self, s: Any, prog: Programme, apps: list[Application]) -> _Plan:
        """The plan of the new teams of a page of dossiers, checked against the store as a file's rows are;
        its problems are each dossier's (the line is the dossier's number), they stop none of the others. A
        team of the programme with a dossier's name is not this dossier's: a problem, never taken over."""
        seen = self.ctx.visible_programmes(s)
        plan = _Plan(s, prog, apps, [], {}, None if seen is None else reads.programme_names(s, seen))
        plan.problems += [RowProblem(e.line, None, "team_exists", N_("a team named {name!q} already exists"),
                                     {"name": e.name}) for e in plan.existing]
        plan.existing = []
        return plan

    @staticmethod
    def ds_people(plan: _Plan) -> list[NewPerson]:
        """The people a plan creates."""
        return [NewPerson(n, e, tuple(sorted(r))) for e, (n, r) in plan.people.items()]

    def ds_apply(self, s: Any, prog: Programme, plan: _Plan, insee: Mapping[str, str]) -> None:
        """Write a page's plan as an import does; the partners it created get the INSEE code of the
        département that named them."""
        self._apply(s, prog, plan, None, insee)


def _live(sheet: Sheet, cols: dict[str, int]) -> tuple[Sheet, dict[str, int], list[RowProblem]]:
    """The rows that may become teams: with a state column (a DS export's "État du dossier"), those in
    instruction or accepted; the others counted by state. A state that is none of DS's is the row's problem."""
    i = cols.get("state")
    if i is None:
        return sheet, {}, []
    kept: list[tuple[int, tuple[Cell, ...]]] = []
    skipped: Counter[str] = Counter()
    problems: list[RowProblem] = []
    for line, cells in sheet.rows:
        value = cells[i] if i < len(cells) else None
        state = DS_STATES.get(key(str(value))) if value is not None else None
        if state is None:
            problems.append(RowProblem(line, sheet.header[i], "bad_state", N_(
                "{value!q} is not the state of a Démarches Simplifiées dossier; expected one of: {allowed}"),
                {"value": "" if value is None else str(value),
                 "allowed": "En construction, En instruction, Accepté, Refusé, Classé sans suite"}))
        elif state in DS_LIVE:
            kept.append((line, cells))
        else:
            skipped[state] += 1
    return replace(sheet, rows=tuple(kept)), dict(sorted(skipped.items())), problems


def _partner_of(value: str, known: Sequence[tuple[str, str | None]], *, official: bool = True
                ) -> tuple[str, str | None]:
    """The partner a cell names, and the INSEE code of a new one. A département ("80 - Somme", "Somme (80)",
    "somme", "80") matches a known partner by INSEE code or name (:func:`match_partner`), else names a new
    one with its code (named as written, or as the INSEE spells it when the cell gives the code); anything else ("Ville de Lille", "13 Habitat": a code
    beside a name that is not its département's) matches by name only, else is a new partner as written."""
    code, name = split_departement(value)
    if code is not None and name is not None and DEPARTEMENTS.get(code) == name:
        found = match_partner(value, known)
        if found is not None:
            return found, None
        # A new partner: as the INSEE spells it where the cell is a form's (DS) or carries the code ("80 -
        # Somme"); else as written (a file exported by preincub keeps its partners' names: "Val d'Oise")
        written = value.strip()
        return (name if official or any(ch.isdigit() for ch in written) else written), code
    wanted = name_key(value)
    return next((n for n, _c in known if name_key(n) == wanted), value.strip()), None


@dataclass(frozen=True, slots=True)
class DsRows:
    """A page of dossiers read as applications: by dossier number, each application or its problems, and
    the INSEE code of each partner name a département gave that no partner matched."""

    applications: dict[int, Application]
    problems: dict[int, list[RowProblem]]
    insee: dict[str, str]


_DS_HEADER = tuple(COLUMNS)


def ds_rows(dossiers: Sequence[Any], mapping: Mapping[str, str] | None,
            partners: Sequence[tuple[str, str | None]], name: str) -> DsRows:
    """Dossiers (``workflow.formats.ds.Dossier``) as a sheet whose header is preincub's columns, read by the
    rows' own code (:func:`applications`). A field is given by the map (DS id or ``champDescriptorId``
    first, then its label), else by a label preincub knows; a label that repeats is read only by id.
    The demandeur (or the usager's e-mail) is the intrapreneur unless the map names a field for it; a
    département matches a partner by INSEE code or name (:func:`match_partner`), else names a new one."""
    by_id: dict[str, str] = {}
    by_label: dict[str, str] = {}
    for field_name, column in (mapping or {}).items():
        col = target(column)
        by_id[field_name.strip()] = col
        by_label[key(field_name)] = col
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    known = list(partners)
    insee: dict[str, str] = {}
    headers: dict[int, dict[str, str]] = {}
    for d in dossiers:
        labels = Counter(key(c.label) for c in d.champs)
        cells: dict[str, tuple[int, str | None, str]] = {}  # column → (rank, value, label): the lowest rank wins
        give = _giver(cells)
        for c in d.champs:
            col = by_id.get(c.id) or (by_id.get(c.descriptor_id) if c.descriptor_id else None)
            if col is not None:
                give(col, 0, c.value, c.label)
            elif labels[key(c.label)] == 1:  # a repeated label is ambiguous: only its id names it
                col = by_label.get(key(c.label))
                if col is not None:
                    give(col, 1, c.value, c.label)
                elif (col := known_column(c.label)) is not None:
                    give(col, 3, c.value, c.label)
        person = d.demandeur
        email = (person.email if person is not None and person.email else None) or d.usager_email
        if email:
            give("intrapreneur_email", 2, email, "demandeur")
            if person is not None:
                give("intrapreneur_first_name", 2, person.prenom, "demandeur")
                give("intrapreneur_name", 2, person.nom, "demandeur")
        if "intrapreneur" in cells and cells["intrapreneur"][0] < 2:  # a field names the intrapreneurs: not the demandeur
            for col in ("intrapreneur_email", "intrapreneur_first_name", "intrapreneur_name"):
                if col in cells and cells[col][2] == "demandeur":
                    del cells[col]
        if "team" not in cells:
            give("team", 9, f"Dossier {d.number}", "number")
        if "partner" in cells and cells["partner"][1]:
            _rank, value, label = cells["partner"]
            found, code = _partner_of(value, known)
            if all(n != found for n, _c in known):  # a new partner: later dossiers match it
                known.append((found, code))
                if code is not None:
                    insee.setdefault(found, code)
            cells["partner"] = (_rank, found, label)
        rows.append((d.number, tuple(cells[c][1] if c in cells else None for c in _DS_HEADER)))
        headers[d.number] = {c: v[2] for c, v in cells.items()}
    sheet = Sheet(name, 0, _DS_HEADER, tuple(rows))
    apps, problems = applications(sheet, {c: i for i, c in enumerate(_DS_HEADER)})
    out: dict[int, list[RowProblem]] = {}
    for p in problems:
        out.setdefault(p.line, []).append(_ds_problem(p, headers))
    good: dict[int, Application] = {}
    for a in apps:
        if a.problem is None:  # a team is submitted with its problem: a dossier without one is not a team yet
            out.setdefault(a.line, []).append(RowProblem(a.line, None, "needs_problem", N_(
                "no problem statement: map the form's field to problem")))
        else:
            good[a.line] = a
    return DsRows(good, out, insee)


def _giver(cells: dict[str, tuple[int, str | None, str]]) -> Callable[[str, int, str | None, str], None]:
    """What gives a column its value from a source of ``rank`` (0: the map by id, 1: by label, 2: the
    demandeur, 3: a label preincub knows): the lowest rank wins."""
    def give(col: str, rank: int, value: str | None, label: str) -> None:
        if col not in cells or rank < cells[col][0]:
            cells[col] = (rank, value, label)
    return give


def _ds_problem(p: RowProblem, headers: dict[int, dict[str, str]]) -> RowProblem:
    """A problem of the sheet named by the DS field it came from (the sheet's header is preincub's)."""
    col = p.column if p.column in COLUMNS else None
    label = headers.get(p.line, {}).get(col) if col else None
    return RowProblem(p.line, label, p.code, p.message, p.params)


@lru_cache(maxsize=4096)
def key_partner(name: str) -> str:
    """A partner's name as matched: case and spacing aside ("Pas-de-Calais" = "pas-de-calais")."""
    return " ".join(validate.lookup(name).casefold().split())


class _Plan:
    """What an import does, checked against the store: teams new and existing, partners and people to create."""

    def __init__(self, s: Any, prog: Programme, apps: list[Application], problems: list[RowProblem],
                 headers: dict[str, str], readable: set[str] | None = None, *, official: bool = True) -> None:
        """``readable``: the names of the programmes the importer reads (None: all); a team of another
        programme with a name of the file is reported without naming its programme. ``official``: a new
        partner a département names is spelt as the INSEE spells it (a DS form's, a DS export's), else as
        the file writes it."""
        self.official = official
        self.problems = list(problems)
        self.headers = headers
        self.new: list[Application] = []
        self.existing: list[ExistingTeam] = []
        self.partners: dict[str, str] = {}  # name → kind, to create
        self.people: dict[str, tuple[str, set[str]]] = {}  # e-mail → (name, roles), to create
        self.partner_rows = {key_partner(p.name): p for p in reads.partners(s, prog.id)}
        self.insee: dict[str, str] = {}  # a new partner's INSEE code, when a département named it
        named = [(p.name, p.insee) for p in self.partner_rows.values()]
        names_known = {n for n, _c in named}
        resolved: dict[str, tuple[str, str | None]] = {}  # a cell → its partner: once per distinct cell
        creating: set[str] = set()  # key_partner of the partners to create
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
            # "80 - Somme" is Somme. A cell resolves the same way on every row: once a new partner is
            # known, the cells that named it match it (by name or code), so the first answer stands.
            if (found := resolved.get(a.partner)) is None:
                found = resolved[a.partner] = _partner_of(a.partner, named, official=self.official)
            partner, code = found
            if partner != a.partner:
                a = replace(a, partner=partner)
            if partner not in names_known:  # a new partner: later rows match it
                names_known.add(partner)
                named.append((partner, code))
                if code is not None:
                    self.insee[partner] = code
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
            pending: list[tuple[str, str]] = []  # (e-mail, role) to create: only if the whole row is good
            for role, people in (("intrapreneur", a.intrapreneurs), ("coach", (a.coach,)), ("sponsor", (a.sponsor,))):
                for p in people:
                    if p is not None:
                        ok &= self._person(a, role, p, known, roles, names, pending)
            if ok:
                for email, role in pending:
                    self.people.setdefault(email, (names[email], set()))[1].add(role)
                self.new.append(a)
                k = key_partner(a.partner)
                if k not in self.partner_rows and k not in creating:
                    creating.add(k)
                    self.partners[a.partner] = a.partner_kind or "departement"

    def _person(self, a: Application, role: str, p: Applicant, known: dict[str, int], roles: dict[int, set[str]],
                names: dict[str, str], pending: list[tuple[str, str]]) -> bool:
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
        pending.append((p.email, role))
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


__all__ = [
    "COLUMNS",
    "DS_LIVE",
    "Applicant",
    "Application",
    "BadRows",
    "DsRows",
    "ExistingTeam",
    "Intake",
    "IntakeResult",
    "NewPerson",
    "RowProblem",
    "applications",
    "columns",
    "ds_rows",
]
