"""What the benchmark scripts share: building big stores by bulk insert, timing, SQL tracing, the table.

Imported by ``benchmarks/engine.py``, ``benchmarks/checkins.py`` and ``benchmarks/reminders.py`` (run
as scripts from anywhere: Python puts ``benchmarks/`` first on ``sys.path``, and this module puts the
checkout's root after it, so ``workflow`` and ``states`` import without installing). Not a test, not
part of the product.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

import states  # noqa: E402
from states.machine import TRIGGERS  # noqa: E402
from workflow.api import Workflow  # noqa: E402
from workflow.clock import FixedClock, PARIS
from workflow.store import events as event_rows  # noqa: E402
from workflow.store.models import (Agreement, Assessment, AuditHead, Event, Partner, Person, PersonGrant, PersonRole,  # noqa: E402
                             PhasePeriod, Programme, Signature, Team, TeamMember)

SIGNED_ON = date(2020, 6, 23)
CREATED = datetime(2020, 6, 23, 9, 0, tzinfo=PARIS)
TEAMS_PER_PROGRAMME = 100
TEAMS_PER_COACH = 10
PARTNERS = ("Nord", "Oise", "Pas-de-Calais", "Somme", "Val d'Oise")

# Where each team of a programme stands (out of 100): a plausible spread over every phase.
SPREAD: tuple[tuple[str, int], ...] = (
    ("call_for_projects", 40),
    ("selection", 30),
    ("investigation", 15),
    ("poc_committee", 5),
    ("incubation_decision", 3),
    ("incubated", 2),
    ("not_incubated", 2),
    ("not_selected", 2),
    ("abandoned", 1),
)
assert sum(n for _, n in SPREAD) == TEAMS_PER_PROGRAMME
PHASE_OF_SLOT: list[str] = [ph for ph, n in SPREAD for _ in range(n)]
# The phases a team went through to get where it is (its phase_period rows).
PATH = {
    "call_for_projects": ["call_for_projects"],
    "selection": ["call_for_projects", "selection"],
    "investigation": ["call_for_projects", "selection", "investigation"],
    "poc_committee": ["call_for_projects", "selection", "investigation", "poc_committee"],
    "incubation_decision": ["call_for_projects", "selection", "investigation", "poc_committee", "incubation_decision"],
    "incubated": ["call_for_projects", "selection", "investigation", "poc_committee", "incubation_decision", "incubated"],
    "not_incubated": ["call_for_projects", "selection", "investigation", "poc_committee", "incubation_decision",
                      "not_incubated"],
    "not_selected": ["call_for_projects", "selection", "not_selected"],
    "abandoned": ["call_for_projects", "selection", "abandoned"],
}
SELECTED = set(states.HOLDS_A_PLACE)  # went through `select`: assessed yes, both agreements

Rows = list[dict[str, Any]]
# More rows to insert with the store's: given the team rows and the person id of each team's coach.
Extra = Callable[[Rows, Callable[[int], int]], Iterable[tuple[type, Rows]]]


def team_name(i: int) -> str:
    return f"Équipe {i:06d}"


def spread_phase(i: int) -> str:
    """The phase of team ``i`` under SPREAD (every programme alike)."""
    return PHASE_OF_SLOT[i % TEAMS_PER_PROGRAMME]


def daily_timeline(i: int, path: Sequence[str]) -> list[datetime]:
    """When team ``i`` entered each phase of ``path``: created on 23 June 2020, one phase a day."""
    born = CREATED + timedelta(hours=i % 8)
    return [born + timedelta(days=k) for k in range(len(path))]


def investigation_timeline(selected: datetime) -> Callable[[int, Sequence[str]], list[datetime]]:
    """For stores of teams all in investigation: created two weeks before ``selected``, submitted a
    week before, selected at ``selected`` (a ``timeline`` for build_store)."""

    def timeline(i: int, path: Sequence[str]) -> list[datetime]:
        assert list(path) == PATH["investigation"], path
        return [selected - timedelta(days=14, hours=i % 8), selected - timedelta(days=7), selected]

    return timeline


# ---- building a store --------------------------------------------------------------------------

@contextmanager
def scratch(keep: bool) -> Iterator[Path]:
    """A temporary directory for the stores; removed at the end unless ``keep`` (then says where)."""
    workdir = Path(tempfile.mkdtemp(prefix="preincub-bench-"))
    try:
        yield workdir
    finally:
        if keep:
            print(f"stores kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def timed_build(path: Path, n: int, build: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``build()`` (which fills the store at ``path``), say how long it took; (seconds, its result)."""
    t0 = time.perf_counter()
    out = build()
    took = time.perf_counter() - t0
    print(f"built {n:,} teams in {took:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)
    return took, out


def bulk_insert(wf: Workflow, tables: Iterable[tuple[type, Rows]]) -> None:
    """Insert many rows per table with SQLAlchemy core executemany, in one transaction."""
    with wf.store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection  # PRAGMAs outside SQLAlchemy's transaction
        raw.execute("PRAGMA synchronous = OFF")  # while building only; the product's settings otherwise
        with conn.begin():
            for model, rows in tables:
                if rows:
                    conn.execute(insert(model.__table__), rows)
        raw.execute("PRAGMA synchronous = FULL")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def build_store(path: Path, n: int, *, now: datetime, actor: str,
                phase_of: Callable[[int], str] = spread_phase,
                timeline: Callable[[int, Sequence[str]], list[datetime]] = daily_timeline,
                extra: Extra | None = None, teams_per_coach: int = TEAMS_PER_COACH) -> dict[str, list[str]]:
    """A store of ``n`` teams; returns the names of the teams that can be submitted and selected.

    The schema comes from the real Alembic migrations (``Workflow.open(path, create=True)``), which
    also makes ``actor`` the store's administrator (here: coordinator of every programme); everything else is bulk-inserted: 100 teams
    a programme, five partners each, one coach per ``teams_per_coach`` teams (10 unless told), one
    intrapreneur per team, each team's
    phase periods, events, assessment and agreements consistent with ``phase_of(i)`` and the times
    ``timeline(i, phases)`` it entered each phase (the last one is ``phase_since``).
    """
    wf = Workflow.open(str(path), create=True, clock=FixedClock(now), actor=actor)  # runs the migrations
    try:
        with wf.store.read() as s:
            first_id = s.execute(select(sa.func.max(Person.id))).scalar_one() + 1  # after the bootstrap coordinator
        n_prog = max(1, -(-n // TEAMS_PER_PROGRAMME))
        n_coach = max(1, -(-n // teams_per_coach))
        created = CREATED

        programmes = [dict(id=p + 1, name=f"Pré-incubation 2020 n°{p + 1:04d}", kind="preincubation",
                           signed_on=SIGNED_ON, months=6, capacity=TEAMS_PER_PROGRAMME, min_days_per_week=1.0,
                           created_at=created) for p in range(n_prog)]
        partners = [dict(id=p * len(PARTNERS) + k + 1, programme_id=p + 1, name=dep, kind="departement")
                    for p in range(n_prog) for k, dep in enumerate(PARTNERS)]
        # persons after the coordinator: the coaches, then one intrapreneur per team
        coach_id = lambda c: first_id + c  # noqa: E731
        intra_id = lambda i: first_id + n_coach + i  # noqa: E731
        persons, roles = [], []
        for c in range(n_coach):
            persons.append(dict(id=coach_id(c), name=f"Coach {c:05d}", email=f"coach{c:05d}@example.org",
                                created_at=created))
            roles.append(dict(person_id=coach_id(c), role="coach"))
        for i in range(n):
            persons.append(dict(id=intra_id(i), name=f"Intrapreneur {i:06d}", email=f"intra{i:06d}@example.org",
                                created_at=created))
            roles.append(dict(person_id=intra_id(i), role="intrapreneur"))

        teams, members, periods, assessments, agreements, events = [], [], [], [], [], []
        submittable, selectable = [], []
        for i in range(n):
            prog = i // TEAMS_PER_PROGRAMME
            phase = phase_of(i)
            path_ = PATH[phase]
            starts = timeline(i, path_)
            born = starts[0]
            tid = i + 1
            later = phase in SELECTED
            teams.append(dict(
                id=tid, name=team_name(i), programme_id=prog + 1,
                partner_id=prog * len(PARTNERS) + i % len(PARTNERS) + 1,
                problem=f"Problème public n°{i}: les usagers attendent trop longtemps une réponse.", phase=phase,
                phase_since=starts[-1], version=len(path_) + (3 if phase != "call_for_projects" else 0),
                poc_summary=("Un prototype testé avec dix agents." if later and phase != "investigation" else None),
                poc_link=None, committee_on=(date(2020, 11, 15) if later and phase != "investigation" else None),
                committee_opinion=("Favorable." if phase in ("incubation_decision", "incubated", "not_incubated")
                                   else None),
                created_at=born))
            members.append(dict(team_id=tid, person_id=intra_id(i), role="intrapreneur", days_per_week=1.0))
            members.append(dict(team_id=tid, person_id=coach_id(i // teams_per_coach), role="coach",
                                days_per_week=None))
            for k, ph in enumerate(path_):
                periods.append(dict(team_id=tid, phase=ph, start=starts[k],
                                    end=starts[k + 1] if k + 1 < len(path_) else None))
            events.append(dict(at=born, actor=actor, team_id=tid, action="team.add", trigger=None, from_phase=None,
                               to_phase="call_for_projects", reason=None, forced=False, data=None))
            for k in range(1, len(path_)):
                trig = next(t.name for t in TRIGGERS.values() if path_[k - 1] in t.sources and t.dest == path_[k])
                events.append(dict(at=starts[k], actor=actor, team_id=tid, action="advance", trigger=trig,
                                   from_phase=path_[k - 1], to_phase=path_[k],
                                   reason="Décision du comité." if TRIGGERS[trig].needs_reason else None,
                                   forced=False, data=None))
            if phase == "selection" or later:
                assessments.append(dict(team_id=tid, real=True, major=True, actionable=True, note=None,
                                        at=starts[1], actor=actor))
                agreements.append(dict(team_id=tid, party="partner", at=starts[1], actor=actor))
                agreements.append(dict(team_id=tid, party="operator", at=starts[1], actor=actor))
            elif phase == "not_selected":
                assessments.append(dict(team_id=tid, real=True, major=False, actionable=True, note="Trop local.",
                                        at=starts[1], actor=actor))
            if phase == "call_for_projects":
                submittable.append(team_name(i))
            elif phase == "selection":
                selectable.append(team_name(i))

        more = list(extra(teams, lambda tid: coach_id((tid - 1) // teams_per_coach))) if extra else []
        signatures = [dict(programme_id=p["id"], signed_on=p["signed_on"]) for p in programmes]
        # The store's administrator (the bootstrap person) coordinates every programme: reads every team.
        grants = [dict(person_id=first_id - 1, role="coordinator", programme_id=p["id"], partner_id=None)
                  for p in programmes]
        # The events chained after the store's own (its first coordinator's), as the product writes them.
        with wf.store.read() as s:
            count, last = s.execute(select(AuditHead.count, AuditHead.hash)).one()
            people = [dict(r) for r in s.execute(select(Person.id, Person.email, Person.login)).mappings()]
        count, last = count + len(events), event_rows.chain(events, people + persons, last)[1]
        bulk_insert(wf, [(Programme, programmes), (Signature, signatures), (Partner, partners), (Person, persons),
                         (PersonRole, roles), (PersonGrant, grants), (Team, teams), (TeamMember, members), (PhasePeriod, periods),
                         (Assessment, assessments), (Agreement, agreements), (Event, events), *more])
        with wf.store.engine.begin() as conn:
            conn.execute(sa.update(AuditHead).values(count=count, hash=last))
            event_rows.seal_existing(conn, "benchmark")  # the rows written in bulk, recorded: `audit verify` passes
        with wf.store.read() as s:
            got = s.execute(select(sa.func.count()).select_from(Team)).scalar_one()
        assert got == n, (got, n)
    finally:
        wf.close()
    return {"submit": submittable, "select": selectable}


# ---- measuring -----------------------------------------------------------------------------

def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    if x < 1e-3:
        return f"{x * 1e6:.0f} µs"
    if x < 1:
        return f"{x * 1e3:.2f} ms"
    return f"{x:.2f} s"


class SqlTrace:
    """Counts the statements one operation issues and finds full-table scans in their plans."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, object]] = []

    def _hook(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._hook)

    def scans(self) -> list[str]:
        """'SCAN table' lines of the plans (a SEARCH uses an index; a SCAN reads the whole table)."""
        out = []
        with self.engine.connect() as conn:
            for stmt, params in self.statements:
                head = stmt.lstrip().split(None, 1)[0].upper()
                if head not in ("SELECT", "UPDATE", "DELETE"):
                    continue
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params).all()
                for r in rows:
                    detail = r[-1]
                    if detail.startswith("SCAN") and "CONSTANT ROW" not in detail:
                        out.append(f"{detail}  <- {' '.join(stmt.split())[:120]}")
            conn.rollback()
        return out


def cli_command() -> list[str]:
    exe = shutil.which("preincub", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "cli"]


def cli_env(actor: str) -> dict[str, str]:
    """The environment of a timed ``preincub``: no PREINCUB_* setting of this shell, and bytecode
    cached as an installed package has it (PYTHONDONTWRITEBYTECODE would recompile every module of
    the project at each run: ~20 ms that no user pays)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PREINCUB_USER"] = actor
    return env


def time_cli(args: Sequence[str], actor: str, repeat: int, check: Callable[[Any], None] | None = None) -> float:
    """Median wall time of ``preincub ARGS`` as a subprocess (start-up included, stdout to /dev/null).

    With ``check``, it first runs once through a pipe and hands ``check`` the parsed JSON output.
    """
    cmd = cli_command() + list(args)
    if check is not None:
        out = subprocess.run(cmd, env=cli_env(actor), capture_output=True, check=True)
        check(json.loads(out.stdout))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=cli_env(actor), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def arg_parser(doc: str, *, teams_help: str, repeat: int, seed: int, seed_help: str) -> argparse.ArgumentParser:
    """The options the store-building benchmarks share: --teams, --repeat, --seed, --keep (add your own)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--teams", type=int, default=10000, help=teams_help)
    ap.add_argument("--repeat", type=int, default=repeat, help="runs of each measurement (median)")
    ap.add_argument("--seed", type=int, default=seed, help=seed_help)
    ap.add_argument("--keep", action="store_true", help="keep the stores (prints where)")
    return ap


def print_table(head: list[str], rows: list[list[str]]) -> None:
    """Rows of ``[label, *values, target, met]``: label and target left-aligned, values right-aligned."""
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print(line)
    for x in rows:
        print("  ".join([x[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(x[1:-2], widths[1:-2])]
                        + [x[-2].ljust(widths[-2]), x[-1].ljust(widths[-1])]))
    print(line)


def print_footer(scans: dict[int, list[str]], clock: datetime, total_runtime: float, setting: str = "",
                 teams_per_coach: int = TEAMS_PER_COACH) -> None:
    """After the table: the full-table scans found at each size, then the clock and the machine."""
    for n, found in scans.items():
        for s in found:
            print(f"scan at {n:,} teams: {s}")
    print(f"clock fixed at {clock.isoformat()}; {setting}{TEAMS_PER_PROGRAMME} teams per programme, "
          f"one coach per {teams_per_coach} team{'s' if teams_per_coach > 1 else ''}; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"total run time {total_runtime:.0f} s")
