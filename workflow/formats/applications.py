"""Reading the rows of an application file (:mod:`workflow.formats.sheets`) as preincub's columns: each row
becomes a frozen :class:`Application`, or the problems of its cells (:class:`RowProblem`: line,
column, what is wrong). No store here: :mod:`workflow.formats.intake` checks the applications against it.

A teams CSV that ``export csv`` wrote reads back as it was: the apostrophe it put before a formula-like
cell is taken off (:func:`workflow.formats.exports.unguarded`), its partner kind and its agreements
(party ids, or their labels in French or English) are read.

A map names a column by the file's header, or by its position (``problem = 7``, ``problem = "G"``): a
Démarches Simplifiées export repeats headers ("Nom": the demandeur's and a form field's)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from notifications.i18n import Message, text
from notifications.visible import shown
from states.terms import PARTIES, PARTY_LABELS
from workflow.rules import validate
from workflow.errors import N_, Invalid, Np_, PreincubError
from workflow.formats.exports import unguarded
from workflow.formats.sheets import Cell, Sheet, key
from workflow.services.ds import LIVE

COLUMNS: dict[str, tuple[str, ...]] = {
    "team": ("team", "équipe", "nom de l'équipe", "team name"),
    "partner": ("partner", "collectivité", "partenaire", "collectivité partenaire"),
    "partner_kind": ("partner kind", "type de collectivité", "type de partenaire"),
    "problem": ("problem", "problème", "problème public", "public problem"),
    "intrapreneur": ("intrapreneur", "intrapreneurs", "intrapreneur·e", "intrapreneur·es"),
    "intrapreneur_name": ("intrapreneur name", "nom de l'intrapreneur", "intrapreneur nom", "name", "nom",
                          "full name", "nom prénom", "nom et prénom", "prénom nom"),
    "intrapreneur_first_name": ("intrapreneur first name", "prénom de l'intrapreneur", "intrapreneur prénom",
                                "first name", "prénom"),
    "intrapreneur_email": ("intrapreneur e-mail", "e-mail de l'intrapreneur", "intrapreneur email", "e-mail",
                           "email", "courriel", "mail", "adresse e-mail", "email address"),
    "days_per_week": ("days per week", "jours par semaine", "jours/semaine"),
    "coach": ("coach",),
    "sponsor": ("sponsor",),
    "agreements": ("agreements", "accords"),
    "state": ("state", "état du dossier", "statut", "statut du dossier", "ds state"),  # a DS export's
}
_BY_KEY = {key(h): col for col, headers in COLUMNS.items() for h in (col, *headers)}
REQUIRED = ("team", "partner")
PARTNER_KIND_WORDS = {"departement": "departement", "département": "departement", "department": "departement",
                      "region": "region", "région": "region", "other": "other", "autre": "other"}
# A dossier's state as a Démarches Simplifiées export writes it (its id, or its label), by ``key``: the
# states a file's rows are filtered on (only DS_LIVE ones become teams).
DS_STATES = {key(w): state for state, words in {
    "en_construction": ("en_construction", "En construction"), "en_instruction": ("en_instruction", "En instruction"),
    "accepte": ("accepte", "Accepté"), "refuse": ("refuse", "Refusé"),
    "sans_suite": ("sans_suite", "Sans suite", "Classé sans suite")}.items() for w in words}
DS_LIVE = LIVE  # the dossiers that are teams (the sync's rule); drafts and closed ones never become one
# A party as a file may give it (``key``: case, accents and punctuation aside): its id, or its label in
# either language, as ``export csv`` writes it ("la collectivité, l'opérateur").
PARTY_WORDS = {key(w): p for p in PARTIES for w in (p, *(text(lang, PARTY_LABELS[p]) for lang in ("fr", "en")))}
_NUMBER = re.compile(r"^\s*(\d{1,6}(?:[.,]\d{1,6})?)\s*(?:j|jours?|d|days?)?\s*$", re.IGNORECASE)
_NAMED = re.compile(r"\s*([^<>]*?)\s*<([^<>]*)>\s*")
_BETWEEN = re.compile(r"[,;\n](?![^<]*>)")  # a separator, not inside <...>

@dataclass(frozen=True, slots=True)
class Applicant:
    """A person a row names: by e-mail, with their name when the row gives it."""

    name: str | None
    email: str


@dataclass(frozen=True, slots=True)
class Application:
    """One row, read and checked: what a team needs (partner, problem, people, time)."""

    line: int
    team: str
    partner: str
    partner_kind: str | None
    problem: str | None
    intrapreneurs: tuple[Applicant, ...]
    days_per_week: float | None
    coach: Applicant | None
    sponsor: Applicant | None
    agreements: tuple[str, ...] = ()  # the parties that agreed to select the team (party ids)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong in one cell (``column``: the header as in the file) or one row (None)."""

    line: int
    column: str | None
    code: str
    message: Message
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "fr") -> str:
        what = text(lang, self.message, self.params)
        if self.column is None:
            return text(lang, N_("line {line}: {problem}"), {"line": self.line, "problem": what})
        return text(lang, N_("line {line}, column {column!q}: {problem}"),
                    {"line": self.line, "column": self.column, "problem": what})

# ---- the columns of a file ----------------------------------------------------------------------

def target(column: str) -> str:
    """The preincub column a map names (``"Collectivité"`` → ``partner``), or Invalid naming the choices."""
    col = _BY_KEY.get(key(column))
    if col is None:
        raise Invalid(N_("the map names {column!q}, which is not a column preincub reads; choose one of: "
                         "{allowed}"), code="unknown_column", column=column, allowed=", ".join(COLUMNS))
    return col


def known_column(header: str) -> str | None:
    """The preincub column a header names by itself ("E-mail" → ``intrapreneur_email``), or None."""
    return _BY_KEY.get(key(header))


_LETTERS = re.compile(r"[A-Z]{1,3}")


def position(value: str | int) -> int | None:
    """The 0-based index a map gives by position: a 1-based column number (``7``, ``"7"``) or a spreadsheet
    letter in capitals (``"G"``, ``"AA"``); None for a header label. Invalid for a number below 1."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int):
        if value < 1:
            raise Invalid(N_("the map gives the column number {value}; columns are numbered from 1"),
                          code="bad_map", value=value)
        return value - 1
    if _LETTERS.fullmatch(value.strip()):
        n = 0
        for ch in value.strip():
            n = n * 26 + ord(ch) - ord("A") + 1
        return n - 1
    return None


def columns(sheet: Sheet, mapping: Mapping[str, str | int] | None = None) -> dict[str, int]:
    """preincub's column → its index in the file. The map gives ``"Header" = "column"``, or ``column = 7``,
    ``column = "G"`` (by position) or ``column = "Header"``; then the headers preincub knows. A header
    that repeats ("Nom" twice, as a DS export's demandeur and a form field) is ignored unless it is
    needed; needed, it must be picked by position."""
    by_header: dict[str, str] = {}  # key(header) → column: "Header" = "column"
    chosen: dict[str, int] = {}  # column → index: column = position or header
    for left, right in (mapping or {}).items():
        col = None if isinstance(right, int) else _BY_KEY.get(key(right))
        if col is not None:
            by_header[key(left)] = col
            continue
        index = position(right)
        if index is None and left.strip() not in COLUMNS:
            target(str(right))  # neither "Header" = "column" nor column = "Header": the error names the value
        col = target(left)
        if index is None:
            index = _one_header(sheet, col, str(right))
        elif index >= len(sheet.header):
            raise Invalid(N_("the map gives {column} the column {n}, but {file!q} has {count} columns"),
                          code="no_such_column", column=col, n=index + 1, file=sheet.name, count=len(sheet.header))
        chosen[col] = index
    candidates: dict[str, list[int]] = {}
    for i, header in enumerate(sheet.header):
        if i in chosen.values():
            continue
        k = key(header)
        col = by_header.get(k) or (None if k in by_header else _BY_KEY.get(k))
        if col is not None and col not in chosen:  # a column the map picked: its other headers are ignored
            candidates.setdefault(col, []).append(i)
    found = dict(chosen)
    for col, indexes in candidates.items():
        if len(indexes) > 1 and len({key(sheet.header[i]) for i in indexes}) == 1:
            raise _repeated(sheet, col, indexes)
        if len(indexes) > 1:
            raise Invalid(N_("the columns {first!q} and {second!q} of {file!q} both give {column}; keep one"),
                          code="duplicate_column", first=sheet.header[indexes[0]], second=sheet.header[indexes[1]],
                          file=sheet.name, column=col)
        found[col] = indexes[0]
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise Invalid(Np_("{file!q} has no column {missing} (its headers: {headers}); name it so, or map a header "
                          "to it in a map file",
                          "{file!q} has no columns {missing} (its headers: {headers}); name them so, or map "
                          "headers to them in a map file"),
                      code="missing_columns", file=sheet.name, n=len(missing), missing=", ".join(missing),
                      headers=", ".join(shown(h)[:40] for h in sheet.header if h)[:160] or "—")
    return found


def _one_header(sheet: Sheet, col: str, header: str) -> int:
    """The index of the one header a map names for ``col``."""
    indexes = [i for i, h in enumerate(sheet.header) if key(h) == key(header)]
    if not indexes:
        raise Invalid(N_("the map gives {column} the header {header!q}, which {file!q} does not have"),
                      code="no_such_column", column=col, header=header, file=sheet.name)
    if len(indexes) > 1:
        raise _repeated(sheet, col, indexes)
    return indexes[0]


def _repeated(sheet: Sheet, col: str, indexes: list[int]) -> Invalid:
    """A header that repeats and gives a column preincub needs: which one is for the map to say."""
    letters = ", ".join(_letter(i) for i in indexes)
    return Invalid(N_("{file!q} has several columns {header!q} ({letters}); pick the one that gives {column} by "
                      "its position in the map: {column} = {n} or {column} = \"{letter}\""), code="ambiguous_column",
                   file=sheet.name, header=sheet.header[indexes[0]], letters=letters, column=col, n=indexes[0] + 1,
                   letter=_letter(indexes[0]))


def _letter(index: int) -> str:
    """A 0-based index as a spreadsheet's column letter (0 → A, 26 → AA)."""
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("A") + r) + out
    return out


class _Row:
    """One row's cells by preincub's column, and the problems found in them."""

    def __init__(self, sheet: Sheet, cols: dict[str, int], line: int, cells: tuple[Cell, ...]) -> None:
        self.sheet, self.cols, self.line, self.cells = sheet, cols, line, cells
        self.problems: list[RowProblem] = []
        self._got: dict[str, str | None] = {}  # get's answers

    def raw(self, col: str) -> Cell:
        i = self.cols.get(col)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def get(self, col: str) -> str | None:
        """The cell of ``col`` as text, stripped (None: absent or blank); read once per row and column
        (a 10,000-row import asks some columns twice)."""
        got = self._got
        if col in got:
            return got[col]
        i = self.cols.get(col)
        v = self.cells[i] if i is not None and i < len(self.cells) else None
        if v is None:
            out = None
        else:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, str):
                v = unguarded(v)  # a cell `export csv` guarded against formulas, as it was typed
            v = str(v)
            if "\r" in v:
                v = v.replace("\r\n", "\n").replace("\r", "\n")
            out = v.strip() or None
        got[col] = out
        return out

    def problem(self, col: str | None, exc: PreincubError) -> None:
        column = self.sheet.header[self.cols[col]] if col in self.cols else None
        self.problems.append(RowProblem(self.line, column, exc.code, exc.message, dict(exc.params)))

    def check(self, col: str | None, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Invalid as exc:
            self.problem(col, exc)
            return None


def _applicant(name: str | None, email: str) -> Applicant:
    return Applicant(validate.name(name, "person") if name else None, validate.email(email))


def _people(cell: str | None) -> list[Applicant]:
    """``Nom Prénom <email>`` entries, or bare e-mails, separated by commas, semicolons or new lines."""
    out = []
    for part in _BETWEEN.split(cell or ""):
        if not part.strip():
            continue
        m = _NAMED.fullmatch(part)
        if m is not None:
            out.append(_applicant(m.group(1).strip(" \t\"'"), m.group(2)))
        elif "<" in part or ">" in part:
            raise Invalid(N_("{value!q} is not read as people: write Nom Prénom <email>, several separated by "
                             "commas"), code="bad_people", value=cell)
        else:
            out.append(_applicant(None, part))
    return out


def _days(value: Cell) -> float:
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        m = _NUMBER.match(str(value))
        if m is None:
            raise Invalid(N_("{value!q} is not a number of days (write 1 or 2,5)"), code="not_a_number", value=value)
        number = float(m.group(1).replace(",", "."))
    return validate.number(number, "--days-per-week", 0.5, 5)


def _kind(value: str) -> str:
    kind = PARTNER_KIND_WORDS.get(value.strip().lower())
    if kind is None:
        raise Invalid(N_("{value!q} is not {what!t}; choose one of: {allowed}"), value=value,
                      what=validate.label("partner kind", validate.CHOICES), allowed="departement, region, other")
    return kind


def _parties(value: str) -> tuple[str, ...]:
    """The parties a cell names, as ids ("partner, operator", "la collectivité ; l'opérateur")."""
    out: list[str] = []
    for word in filter(None, (w.strip() for w in re.split(r"[,;\n]", value))):
        party = PARTY_WORDS.get(key(word))
        if party is None:
            raise Invalid(N_("{value!q} is not {what!t}; choose one of: {allowed}"), value=word,
                          what=validate.label("party", validate.CHOICES),
                          allowed=", ".join([*PARTIES, *(text(lang, PARTY_LABELS[p]) for lang in ("fr", "en")
                                                         for p in PARTIES)]))
        if party not in out:
            out.append(party)
    return tuple(out)


def applications(sheet: Sheet, cols: dict[str, int]) -> tuple[list[Application], list[RowProblem]]:
    """Every row read and checked on its own (no store): the applications, and the problems of the rest."""
    apps: list[Application] = []
    problems: list[RowProblem] = []
    for line, cells in sheet.rows:
        r = _Row(sheet, cols, line, cells)
        extra = [c for c in cells[len(sheet.header):] if c is not None and str(c).strip()]
        if extra:
            r.problem(None, Invalid(N_("this row has {cells} cells, the header {header}: a separator inside a cell "
                                       "that is not in quotes?"), code="extra_cells",
                                    cells=len(sheet.header) + len(extra), header=len(sheet.header)))
        team = r.check("team", lambda: validate.name(r.get("team") or "", "team"))
        partner = r.check("partner", lambda: validate.name(r.get("partner") or "", "partner"))
        kind = r.check("partner_kind", lambda: _kind(r.get("partner_kind"))) if r.get("partner_kind") else None
        problem = r.check("problem", lambda: validate.text(r.get("problem"), "problem"))
        people = r.check("intrapreneur", lambda: _people(r.get("intrapreneur"))) or []
        email = r.get("intrapreneur_email")
        name = " ".join(filter(None, (r.get("intrapreneur_first_name"), r.get("intrapreneur_name")))) or None
        if email:
            one = r.check("intrapreneur_email", lambda: _applicant(name, email))
            if one is not None:
                same = [p for p in people if p.email == one.email]
                people = [p for p in people if p.email != one.email] + [
                    Applicant(one.name or (same[0].name if same else None), one.email)]
        elif name and not people:
            r.problem("intrapreneur_name", Invalid(N_("the intrapreneur {name!q} has no e-mail address"),
                                                   code="needs_email", name=name))
        days = None
        if r.get("days_per_week") is not None:
            unread = len(r.problems)  # problems so far: an intrapreneur given but misspelt is not "none"
            days = r.check("days_per_week", lambda: _days(r.raw("days_per_week")))
            if days is not None and not people and not unread:
                r.problem("days_per_week", Invalid(N_("a commitment in days per week needs an intrapreneur: name one"),
                                                   code="needs_intrapreneur"))
        people = list({p.email: p for p in people}.values())  # one person named twice counts once
        coach = r.check("coach", lambda: _one(r.get("coach")))
        sponsor = r.check("sponsor", lambda: _one(r.get("sponsor")))
        parties = r.check("agreements", lambda: _parties(r.get("agreements"))) if r.get("agreements") else ()
        if r.problems:
            problems += r.problems
        else:
            apps.append(Application(line, team, partner, kind, problem, tuple(people), days, coach, sponsor, parties))
    return apps, problems


@lru_cache(maxsize=256)
def _one(cell: str | None) -> Applicant | None:
    """The one person a cell names (a coach, a sponsor), or None; a file names the same few on many rows,
    read once each (an error is not cached: raised again on each row that has it)."""
    people = _people(cell)
    if len(people) > 1:
        raise Invalid(N_("{value!q} names several people; give one"), code="several_people", value=cell)
    return people[0] if people else None
