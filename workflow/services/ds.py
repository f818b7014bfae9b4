"""Applications from Démarches Simplifiées (DS): a démarche's dossiers kept in step with a programme's teams.

A sync reads the dossiers changed since the last one (``updatedSince``), page by page, and writes each page
in ONE transaction: a page is all or nothing, and the cursor after it is stored with it, so a sync cut
short (a GraphQL error at the root, DS unreachable) keeps the pages before and the next one resumes there;
a stored cursor DS no longer accepts is dropped and the sync starts again, once, from ``updatedSince``.
Dossiers are keyed by their DS id (``ds_dossier``): one seen again unchanged changes nothing, one with a
newer ``dateDerniereModification`` updates every imported field of its team that changed (problem,
partner, intrapreneurs, days per week, coach, sponsor; never the name, the team's identity), through the
store's team functions as ``team edit`` writes them, with one ``ds.update`` event of [old, new] values.
The states:

- ``en_construction`` (a draft) is never imported;
- ``en_instruction`` and ``accepte`` become teams in the call for projects, through the team import's own
  code (:class:`workflow.formats.intake.Intake`: the same rows, partners, people and events);
- ``refuse`` and ``sans_suite`` never become teams; a team that exists and is not yet in investigation is
  closed by the state machine's own moves, DS's motivation the reason: ``reject`` a refused one in
  selection, ``abandon`` a refused one in the call for projects and any ``sans_suite``.

A dossier that cannot be a valid team is a ``problem`` (its number and why) and stops none of the others.
Deleted dossiers (``deletedDossiers``, matched by number) are flagged (``deleted_at``), never deleted.
A dry run writes nothing at all. The client (``workflow.formats.ds.DsClient``) and the reading of a page
as applications (``Intake.ds_rows``) are the file formats' layer, above this one: they come in as given.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications.i18n import colon, text
from workflow.context import Context, find
from workflow.errors import N_, Invalid, PreincubError
from workflow.rules import validate
from workflow.services.teams import iso
from workflow.services.transitions import Transitions
from workflow.store import ds as ds_rows
from workflow.store import people as people_rows
from workflow.store import teams as team_rows
from workflow.store.engine import Session

log = logging.getLogger(__name__)
LIVE = ("en_instruction", "accepte")
CLOSED = ("refuse", "sans_suite")
CLOSABLE = ("call_for_projects", "selection")  # a team further on (investigation...) is the programme's to decide


@dataclass(frozen=True, slots=True)
class DsTeam:
    """What became of one dossier. ``action``: created, updated, unchanged, closed, skipped (a draft, or a
    refused dossier never imported), flagged (deleted in DS), problem (``reason`` says why)."""

    number: int
    state: str
    team: str | None
    partner: str | None
    action: str
    reason: str | None
    problems: tuple[Any, ...] = ()  # a problem's RowProblem (workflow.formats.applications): its message to translate


@dataclass(frozen=True, slots=True)
class DsSyncResult:
    """A sync's outcome: the pages read, whether it resumed a sync cut short (or ``restarted``, its cursor
    refused), each DS state's count, each dossier's fate, and the partners and people created (or,
    ``dry_run``, that would be)."""

    demarche: int
    programme: str
    dry_run: bool
    pages: int
    resumed: bool
    states: dict[str, int]
    teams: tuple[DsTeam, ...]
    partners: tuple[str, ...]
    people: tuple[Any, ...]  # workflow.formats.intake.NewPerson, or DsPerson
    restarted: bool = False  # the stored cursor was refused: read again from the last sync's updatedSince


@dataclass(frozen=True, slots=True)
class DsSyncState:
    """Where one démarche's sync stands, for ``daemon status``."""

    demarche: int
    programme: str
    synced_at: str | None
    failed_at: str | None
    error: str | None
    wanted_at: str | None = None


@dataclass(frozen=True, slots=True)
class DsPerson:
    """A person a sync created to update a team, as an import reports its own
    (``workflow.formats.intake.NewPerson``, a layer above this one)."""

    name: str
    email: str
    roles: tuple[str, ...]


@dataclass
class _Tally:
    """What a sync did so far, page after page."""

    teams: list[DsTeam] = field(default_factory=list)
    partners: dict[str, None] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)
    states: Counter = field(default_factory=Counter)
    retry: list[datetime] = field(default_factory=list)  # when the dossiers that were problems last changed


@dataclass(frozen=True)
class DsSync:
    """Syncing DS démarches into programmes; ``intake`` (``workflow.formats.intake.Intake``) reads and writes
    the applications as the team import does."""

    ctx: Context
    intake: Any
    transitions: Transitions

    def sync(self, demarche: int, programme: str, *, mapping: Mapping[str, str] | None = None,
             dry_run: bool = False, client: Any = None) -> DsSyncResult:
        """Bring ``programme``'s teams in step with démarche ``demarche``'s dossiers (see the module
        docstring); ``client``: a ``DsClient`` (None: one from the settings, Invalid when no token is set)."""
        self.intake.ds_read([], mapping, [], "")  # a bad map is refused before anything is read
        store = self.ctx.store
        with store.read() as s:
            prog = self._programme(s, programme)
            row = ds_rows.sync_row(s, demarche)
            if row is not None and row.programme_id != prog.id:
                raise Invalid(N_("the démarche {demarche} feeds the programme {other!q}, not {programme!q}"),
                              code="ds_other_programme", demarche=demarche, programme=prog.name,
                              other=ds_rows.programme_name(s, row.programme_id))
            since = row.updated_since if row is not None else None
            cursor = row.cursor if row is not None else None
            prog_name = prog.name
        own = client is None
        client = self.intake.ds_client() if own else client
        tally = _Tally()
        pages = 0
        restart: list[bool] = []
        try:
            for page in self._pages(client, demarche, since, cursor, restart, dry_run):
                pages += 1
                with store.read() if dry_run else store.write() as s:
                    self._page(s, demarche, programme, page, mapping, dry_run, tally)
            deleted = client.deleted(demarche, since=since)
        finally:
            if own:
                client.close()
        with store.read() if dry_run else store.write() as s:
            self._deleted(s, demarche, deleted, dry_run, tally)
            if not dry_run:
                prog = self._programme(s, programme)
                now = self.ctx.clock.now()
                row = ds_rows.sync_row(s, demarche)
                # The next sync asks from the last change seen, or from the oldest dossier that was a problem,
                # so that it is read again (its map fixed, its partner added) rather than forgotten.
                since_next = min(filter(None, (ds_rows.last_update(s, demarche), *tally.retry)), default=None)
                ds_rows.save_sync(s, demarche, prog.id, cursor=None, updated_since=since_next,
                                  synced_at=now, failed_at=None, error=None,
                                  wanted_at=None if row is None or row.wanted_at is None or row.wanted_at <= now
                                  else row.wanted_at)
        return DsSyncResult(demarche, prog_name, dry_run, pages, cursor is not None and not restart,
                            dict(tally.states), tuple(tally.teams), tuple(tally.partners),
                            tuple(tally.people.values()), restarted=bool(restart))

    def _pages(self, client: Any, demarche: int, since: datetime | None, cursor: str | None, restart: list[bool],
               dry_run: bool) -> Iterator[Any]:
        """The dossiers' pages from the stored cursor. A cursor DS no longer accepts (its format changed, it
        expired) would fail every sync: the first page asked again from the stored ``updatedSince`` instead,
        once (``restart`` says so; the cursor is forgotten). Pages seen before come again unchanged."""
        pages = client.dossiers(demarche, updated_since=since, after=cursor)
        try:
            first = next(pages, None)
        except PreincubError as e:
            if cursor is None or not _cursor_refused(e):
                raise
            log.warning("DS refused the stored cursor of démarche %s (%s): syncing again from %s", demarche,
                        e.params.get("message"), since)
            restart.append(True)
            if not dry_run:
                with self.ctx.store.write() as s:
                    ds_rows.set_sync(s, demarche, cursor=None)
            pages = client.dossiers(demarche, updated_since=since, after=None)
            first = next(pages, None)
        if first is not None:
            yield first
            yield from pages

    def _programme(self, s: Session, programme: str) -> Any:
        self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
        prog = find(s, "programme", programme)
        self.ctx.require(s, "manage", programme=prog)  # into their programmes only
        return prog

    def _page(self, s: Session, demarche: int, programme: str, page: Any, mapping: Mapping[str, str] | None,
              dry_run: bool, tally: _Tally) -> None:
        """One page, in the caller's transaction: its dossiers compared with those seen, the new teams
        planned and written as an import writes them, the others updated or closed; the cursor stored."""
        prog = self._programme(s, programme)
        if not dry_run:
            ds_rows.save_sync(s, demarche, prog.id, cursor=page.end_cursor)
        seen = ds_rows.dossiers(s, (d.id for d in page.dossiers))
        teams = ds_rows.teams(s, (r.team_id for r in seen.values() if r.team_id is not None))
        partners = ds_rows.partners(s, prog.id)
        read = self.intake.ds_read([d for d in page.dossiers if d.state in LIVE], mapping, [(n, c) for _i, n, c in partners],
                         f"démarche {demarche}")
        partner_names = {pid: n for pid, n, _c in partners}
        new: list[Any] = []
        changed = Counter()
        for d in page.dossiers:
            tally.states[d.state] += 1
            row = seen.get(d.id)
            team = teams.get(row.team_id) if row is not None and row.team_id is not None else None
            name = team.name if team is not None else None
            partner = partner_names.get(team.partner_id) if team is not None else None
            if row is not None and row.updated_at >= _utc(d.updated_at) and row.state == d.state:
                tally.teams.append(DsTeam(d.number, d.state, name, partner, "unchanged", None))
                continue
            values = {"ds_id": d.id, "demarche": demarche, "number": d.number, "state": d.state,
                      "updated_at": _utc(d.updated_at)}
            if d.state in LIVE and team is None:
                new.append((d, row, values))
                continue
            if d.state in LIVE:
                outcome = self._update(s, prog, demarche, team, d, read, partner_names, dry_run, tally)
            elif team is not None and d.state in CLOSED:
                outcome = self._close(s, team, d, dry_run)
            else:
                outcome = DsTeam(d.number, d.state, name, partner, "skipped", None)
            outcome = DsTeam(d.number, d.state, outcome.team, outcome.partner or partner, outcome.action,
                             outcome.reason, outcome.problems)
            tally.teams.append(outcome)
            changed[outcome.action] += 1
            if outcome.action == "problem":
                tally.retry.append(_utc(d.updated_at))
            if not dry_run and outcome.action != "problem":
                ds_rows.save_dossier(s, row, **values)
        self._create(s, prog, demarche, new, read, dry_run, tally, changed)
        if not dry_run and (changed["created"] or changed["updated"] or changed["closed"]):
            self.ctx.event(s, "ds.sync", data={"demarche": demarche, "programme": prog.name, **{
                k: changed[k] for k in ("created", "updated", "closed", "problem") if changed[k]}})

    def _create(self, s: Session, prog: Any, demarche: int, new: list[Any], read: Any, dry_run: bool,
                tally: _Tally, changed: Counter) -> None:
        """The page's new teams: planned against the store and written as the team import writes them."""
        apps = [read.applications[d.number] for d, _row, _v in new if d.number in read.applications]
        plan = self.intake.ds_plan(s, prog, apps)
        problems: dict[int, list[Any]] = {}
        for p in plan.problems:
            problems.setdefault(p.line, []).append(p)
        if not dry_run and plan.new:
            self.intake.ds_apply(s, prog, plan, read.insee)
        made = {a.line: a for a in plan.new}
        ids = ds_rows.team_ids(s, (a.team for a in plan.new)) if not dry_run else {}
        for d, row, values in new:
            trouble = read.problems.get(d.number) or problems.get(d.number)
            if trouble:
                tally.teams.append(DsTeam(d.number, d.state, None, None, "problem", _reason(trouble), tuple(trouble)))
                tally.retry.append(_utc(d.updated_at))
                changed["problem"] += 1
                continue
            a = made[d.number]
            tally.teams.append(DsTeam(d.number, d.state, a.team, a.partner, "created", None))
            changed["created"] += 1
            if not dry_run:
                ds_rows.save_dossier(s, row, **values, team_id=ids[a.team])
        tally.partners.update(dict.fromkeys(plan.partners))
        for person in self.intake.ds_people(plan):
            tally.people.setdefault(person.email, person)

    def _update(self, s: Session, prog: Any, demarche: int, team: Any, d: Any, read: Any, partner_names: dict[int, str],
                dry_run: bool, tally: _Tally) -> DsTeam:
        """A dossier seen before and changed in DS: every imported field that differs made DS's (problem,
        partner, intrapreneurs, days per week, coach and sponsor when the map gives them), with one audit
        event listing each change as [old, new]; all or nothing for the dossier. Not the team's name, its
        identity: a name changed in DS is said in the outcome's reason."""
        trouble = read.problems.get(d.number)
        if trouble:
            return DsTeam(d.number, d.state, team.name, None, "problem", _reason(trouble), tuple(trouble))
        a = read.applications[d.number]
        note = None if a.team == team.name else text("en", N_(
            "the project is named {name!q} in Démarches Simplifiées; the team keeps its name"), {"name": a.team})
        changes: dict[str, list[Any]] = {}
        values: dict[str, Any] = {}
        problems: list[Invalid] = []
        if a.problem != team.problem:
            try:
                values["problem"] = validate.text(a.problem, "problem")
                changes["problem"] = [team.problem, values["problem"]]
            except Invalid as e:
                problems.append(e)
        if partner_names.get(team.partner_id) != a.partner:
            changes["partner"] = [partner_names.get(team.partner_id), a.partner]
        people = _People(s, team.id)
        plan = people.plan(a, self._imported(s, team.id, people), problems)
        changes.update(plan.changes)
        if problems:
            return DsTeam(d.number, d.state, team.name, None, "problem", _reason(problems), tuple(problems))
        if not changes:
            return DsTeam(d.number, d.state, team.name, a.partner, "unchanged", note)
        for email, (name, roles) in people.new.items():
            tally.people.setdefault(email, DsPerson(name, email, tuple(sorted(roles))))
        by_name = {n: i for i, n in partner_names.items()}
        if "partner" in changes and a.partner not in by_name:
            tally.partners[a.partner] = None
        if not dry_run:
            if "partner" in changes:
                if a.partner not in by_name:
                    made = self.intake.directory.new_partner(s, prog, a.partner, a.partner_kind or "departement",
                                                             read.insee.get(a.partner))
                    partner_names[made.id], by_name[a.partner] = a.partner, made.id
                values["partner_id"] = by_name[a.partner]
            people.write(self.intake.directory, plan)
            team_rows.flush(s)
            team_rows.bump(s, team, **values)
            self.ctx.event(s, "ds.update", team, data={"demarche": demarche, "number": d.number, **changes})
        return DsTeam(d.number, d.state, team.name, a.partner, "updated", note)

    @staticmethod
    def _imported(s: Session, team_id: int, people: _People) -> list[str]:
        """The intrapreneurs DS gave the team last (its ``team.add``, or the last ``ds.update`` that changed
        them): those an update replaces. The team's own when the audit says nothing (erased)."""
        for action, data in ds_rows.team_events(s, team_id, ("team.add", "ds.update")):
            if action == "ds.update" and "intrapreneurs" in data:
                return list(data["intrapreneurs"][1])
            if action == "team.add":
                return list(data.get("intrapreneurs", []))
        return list(people.held["intrapreneur"])

    def _close(self, s: Session, team: Any, d: Any, dry_run: bool) -> DsTeam:
        """A refused or dropped dossier whose team is not yet in investigation: the team rejected (refused
        in selection) or abandoned, through the state machine, DS's motivation the reason."""
        if team.phase not in CLOSABLE:
            return DsTeam(d.number, d.state, team.name, None, "unchanged", None)
        trigger = "reject" if d.state == "refuse" and team.phase == "selection" else "abandon"
        try:
            reason = validate.text(d.motivation, "reason") if d.motivation and d.motivation.strip() else None
        except Invalid:  # control characters, or too long: DS's text is not ours to refuse, the move goes on
            reason = None
        reason = reason or text("en", N_("{state} in Démarches Simplifiées (dossier {number})"),
                                {"state": d.state, "number": d.number})
        if not dry_run:
            team_rows.flush(s)
            t, view = self.transitions.read(s, team.name, "decide")
            self.transitions.move(s.connection(), t, view, trigger, reason=reason,
                                  data={"ds_number": d.number, "ds_state": d.state})
            s.expire(team)
        return DsTeam(d.number, d.state, team.name, None, "closed", reason)

    def _deleted(self, s: Session, demarche: int, deleted: Sequence[Any], dry_run: bool, tally: _Tally) -> None:
        """Dossiers DS deleted: their rows flagged (never deleted), each with an event, once."""
        if not deleted:
            return
        by_number = {r.number: r for r in ds_rows.by_numbers(s, demarche, (x.number for x in deleted))}
        teams = ds_rows.teams(s, (r.team_id for r in by_number.values() if r.team_id is not None))
        for x in deleted:
            row = by_number.get(x.number)
            if row is None or row.deleted_at is not None:
                continue
            team = teams.get(row.team_id) if row.team_id is not None else None
            tally.teams.append(DsTeam(x.number, row.state, team.name if team else None, None, "flagged", x.reason))
            if not dry_run:
                ds_rows.save_dossier(s, row, deleted_at=_utc(x.deleted_at))
                team_rows.flush(s)
                self.ctx.event(s, "ds.delete", team, data={"demarche": demarche, "number": x.number,
                                                           "reason": x.reason})

    # ---- hints, schedule and failures (the web hook and the daemon) -------------------------------------

    def want(self, demarche: int) -> bool:
        """DS said something changed in the démarche (a web hook: trusted for nothing more): sync it soon.
        False when it was never synced here (the hook answers the same either way)."""
        with self.ctx.store.write() as s:
            return ds_rows.set_sync(s, demarche, wanted_at=self.ctx.clock.now())

    def due(self, every: timedelta, among: Mapping[int, str] | None = None) -> list[tuple[int, str]]:
        """(démarche, programme) whose sync is due: a hint came, or the last sync is ``every`` old (or
        failed, or never finished); ``among`` (the settings' démarches) also gives those never synced."""
        now = self.ctx.clock.now()
        with self.ctx.store.read() as s:
            rows = ds_rows.syncs(s)
        out: list[tuple[int, str]] = []
        known = set()
        for r, programme in rows:
            known.add(r.demarche)
            if among is not None and r.demarche not in among:
                continue
            last = r.synced_at
            if r.wanted_at is not None or last is None or r.cursor is not None or last <= now - every:
                out.append((r.demarche, programme))
        out += [(n, p) for n, p in sorted((among or {}).items()) if n not in known]
        return out

    def failed(self, demarche: int, error: str, programme: str | None = None) -> bool:
        """Record that the démarche's sync failed, and why (one line), for ``daemon status`` and the
        daemon's next try. A démarche never synced has no row yet: it gets one for ``programme`` (the one it
        was to feed), so its failure is shown and retried an interval later like any other. False when
        nothing could be recorded (never synced, no programme given)."""
        values = {"failed_at": self.ctx.clock.now(), "error": error.splitlines()[0][:500] if error else None}
        with self.ctx.store.write() as s:
            if ds_rows.set_sync(s, demarche, **values):
                return True
            if programme is None:
                return False
            ds_rows.save_sync(s, demarche, find(s, "programme", programme).id, **values)
            return True

    def states(self) -> list[DsSyncState]:
        """Each démarche's last sync and failure (Paris time)."""
        with self.ctx.store.read() as s:
            return [DsSyncState(r.demarche, p, iso(r.synced_at), iso(r.failed_at), r.error, iso(r.wanted_at))
                    for r, p in ds_rows.syncs(s)]


@dataclass(frozen=True, slots=True)
class _PeoplePlan:
    """What an update does to a team's members: the changes for the event, the intrapreneurs added and
    removed, the commitment of DS's intrapreneurs (None: left), the coach and sponsor named."""

    changes: dict[str, list[Any]]
    add: tuple[str, ...]
    remove: tuple[str, ...]
    named: tuple[str, ...]  # DS's intrapreneurs that are members once added: the commitment is theirs
    days: float | None
    roles: dict[str, str]


class _People:
    """A team's members as a DS update changes them: read, checked (each one named holds the role, or is
    new with a name), then written through the store's team functions as ``team edit`` writes them."""

    def __init__(self, s: Session, team_id: int) -> None:
        self.s, self.team_id = s, team_id
        self.held: dict[str, list[str]] = {"intrapreneur": [], "coach": [], "sponsor": []}
        self.days: dict[str, float | None] = {}  # each intrapreneur's commitment
        for role, _name, email, days in team_rows.people_of(s, team_id):
            self.held.setdefault(role, []).append(email)
            if role == "intrapreneur":
                self.days[email] = days
        self.ids: dict[str, int] = {}  # e-mail → person id, of those found
        self.new: dict[str, tuple[str, set[str]]] = {}  # e-mail → (name, roles), to create

    def plan(self, a: Any, before: list[str], problems: list[Invalid]) -> _PeoplePlan:
        """The changes of the application ``a`` (``before``: the intrapreneurs DS gave last); a person who
        cannot be named is added to ``problems``. Intrapreneurs change when DS names others than before
        (someone the team added by hand stays); days per week, coach and sponsor when DS gives one that
        differs from the team's."""
        changes: dict[str, list[Any]] = {}
        held = self.held["intrapreneur"]
        named = tuple(dict.fromkeys(p.email for p in a.intrapreneurs))
        add: tuple[str, ...] = ()
        remove: tuple[str, ...] = ()
        if named and set(named) != set(before):
            changes["intrapreneurs"] = [list(before), list(named)]
            add = tuple(e for e in named if e not in held)
            remove = tuple(e for e in before if e in held and e not in named)
            for p in a.intrapreneurs:
                if p.email in add:
                    self._person(p, "intrapreneur", problems)
            for email in remove:
                self._known(email)
        members = tuple(e for e in named if e in add or e in self.days)  # DS's intrapreneurs on the team after
        days = None
        if a.days_per_week is not None and members:
            try:
                days = validate.number(a.days_per_week, "--days-per-week", 0.5, 5)
            except Invalid as e:
                problems.append(e)
            if days is not None and all(self.days.get(e) == days for e in members):
                days = None  # each has it already (one added has none yet)
            if days is not None:
                for email in members:
                    if email not in add:
                        self._known(email)
                # the commitment DS gave before: its intrapreneurs' (the team's when none is left)
                before_days = {self.days[e] for e in before if e in self.days} or set(self.days.values())
                old = (next(iter(before_days)) if len(before_days) == 1 else
                       sorted(v for v in before_days if v is not None) or None)
                if old != days or not add:
                    changes["days_per_week"] = [old, days]
        roles: dict[str, str] = {}
        for role, p in (("coach", a.coach), ("sponsor", a.sponsor)):
            if p is not None and self.held[role] != [p.email]:
                changes[role] = [self.held[role][0] if self.held[role] else None, p.email]
                roles[role] = p.email
                self._person(p, role, problems)
        return _PeoplePlan(changes, add, remove, members, days, roles)

    def _known(self, email: str) -> None:
        """The id of a member already on the team."""
        if email not in self.ids:
            self.ids[email] = people_rows.person_by_email(self.s, email).id

    def _person(self, p: Any, role: str, problems: list[Invalid]) -> None:
        """``p`` (an Applicant) to be named in ``role``: found holding it, or new with a name (the import's
        checks and messages)."""
        person = people_rows.person_by_email(self.s, p.email)
        if person is not None:
            if people_rows.has_role(self.s, person.id, role):
                self.ids[p.email] = person.id
            else:
                problems.append(Invalid(N_("{email} does not have the role {role}"), code="missing_role",
                                        email=p.email, role=role))
        elif p.name:
            self.new.setdefault(p.email, (p.name, set()))[1].add(role)
        else:
            problems.append(Invalid(N_("{email} is not in the store yet: give their name too, as "
                                       "Nom Prénom <{email}>"), code="needs_name", email=p.email))

    def write(self, directory: Any, plan: _PeoplePlan) -> None:
        """The planned changes, in the caller's transaction: new people through the directory's
        ``new_person`` (their event), memberships as ``team edit`` changes them."""
        s, team_id = self.s, self.team_id
        for email, (name, roles) in self.new.items():
            self.ids[email] = directory.new_person(s, name, email, sorted(roles)).id
        for email in plan.remove:
            team_rows.remove_member(s, team_rows.membership(s, team_id, self.ids[email], "intrapreneur"))
        for email in plan.add:
            team_rows.add_member(s, team_id, self.ids[email], "intrapreneur")
        if plan.days is not None:
            team_rows.flush(s)
            team_rows.set_commitment(s, team_id, [team_rows.membership(s, team_id, self.ids[e], "intrapreneur")
                                                  for e in plan.named], plan.days)
        for role, email in plan.roles.items():
            team_rows.replace_role(s, team_id, role, self.ids[email])
        team_rows.flush(s)


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC)


# What DS (and the test's DS) say of a cursor they cannot read: "Invalid cursor", graphql-ruby's "Invalid input".
_BAD_CURSOR = re.compile(r"\bcursor\b|invalid input", re.IGNORECASE)


def _cursor_refused(e: PreincubError) -> bool:
    """Whether DS refused the query for its cursor (a root ``errors`` entry saying so)."""
    return e.code == "ds_error" and bool(_BAD_CURSOR.search(str(e.params.get("message") or "")))


def _reason(problems: Sequence[Any]) -> str:
    """The problems of a dossier in English (the audit's and --json's language)."""
    return problems_text(problems, "en")


def problems_text(problems: Sequence[Any], lang: str) -> str:
    """The problems of a dossier in ``lang``: each with the DS field it names."""
    out = []
    for p in problems:
        what = text(lang, p.message, p.params)
        column = getattr(p, "column", None)  # a RowProblem names its DS field; an Invalid does not
        out.append(f"{column}{colon(lang)}{what}" if column else what)
    return "; ".join(out)


__all__ = ["CLOSED", "LIVE", "DsPerson", "DsSync", "DsSyncResult", "DsSyncState", "DsTeam", "problems_text"]
