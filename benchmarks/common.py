"""What the benchmark scripts share: building big stores by bulk insert, alternating a measure with its
baseline (:func:`alternate`, :class:`Comparison` and its one row format, ``--json``), raw connections
with the store's own PRAGMAs, whole processes with their peak memory, SQL tracing.

Imported by every script of ``benchmarks/`` (run as scripts from anywhere: Python puts ``benchmarks/``
first on ``sys.path``, and this module puts the checkout's root after it, so ``workflow`` and
``states`` import without installing). Not a test, not part of the product.
"""

from __future__ import annotations

import argparse
import gc
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
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
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


def timed_build(path: Path | str, n: int, build: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``build()`` (which fills the store at ``path``), say how long it took; (seconds, its result)."""
    t0 = time.perf_counter()
    out = build()
    took = time.perf_counter() - t0
    size = f" ({path.stat().st_size / 2**20:.0f} MiB)" if isinstance(path, Path) else ""
    print(f"built {n:,} teams in {took:.1f} s{size}", file=sys.stderr)
    return took, out


def bulk_insert(wf: Workflow, tables: Iterable[tuple[type, Rows]]) -> None:
    """Insert many rows per table with SQLAlchemy core executemany, in one transaction."""
    sqlite = wf.store.dialect == "sqlite"
    with wf.store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection  # PRAGMAs outside SQLAlchemy's transaction
        if sqlite:
            raw.execute("PRAGMA synchronous = OFF")  # while building only; the product's settings otherwise
        with conn.begin():
            for model, rows in tables:
                for i in range(0, len(rows), 50_000):
                    conn.execute(insert(model.__table__), rows[i:i + 50_000])
        if sqlite:
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            for table in sa.inspect(conn).get_table_names():  # the planner's statistics, as after a day's use
                conn.exec_driver_sql(f'ANALYZE "{table}"')
            conn.commit()
        if not sqlite:  # ids were given explicitly: move each sequence past them, as a restore does
            from workflow.store import dump

            with wf.store.write() as s:
                dump.reset_sequences(s)


def build_store(path: Path | str, n: int, *, now: datetime, actor: str,
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
        out: list[str] = []
        if self.engine.dialect.name != "sqlite":  # EXPLAIN QUERY PLAN is SQLite's
            return out
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


# ---- alternating a measure with its baseline, one row format, JSON ---------------------------

UNITS = {"s": "s", "ms": "ms", "MiB": "MiB", "msg/s": "msg/s", "x": "×"}


def fmt_value(x: float, unit: str) -> str:
    """One value in its unit, as every row prints it."""
    if unit == "s":
        return fmt_s(x)
    if unit in ("ms", "MiB"):
        return f"{x:,.1f} {unit}"
    if unit == "msg/s":
        return f"{x:,.0f} msg/s"
    return f"{x:,.3g} {unit}"


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of samples."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, xs: Sequence[float]) -> Spread:
        return cls(statistics.median(xs), min(xs), max(xs))

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Comparison:
    """A measure (A) against its baseline (B), sampled in alternation A B A B: each side's median, min and
    max, and those of the per-round ratio A_i / B_i (drift of the machine hits both sides of a round
    alike). ``target`` is a bound on the median ratio, such as ``("<=", 5.0)``; a comparison with no
    baseline (``b`` empty) bounds the median of A itself, or nothing."""

    a: tuple[float, ...]
    b: tuple[float, ...] = ()
    name: str = ""
    unit: str = "s"
    baseline: str = ""
    target: tuple[str, float] | None = None
    note: str = ""

    def named(self, name: str, *, baseline: str | None = None, target: tuple[str, float] | None = None,
              unit: str | None = None, note: str | None = None) -> Comparison:
        """The same samples under a name, a baseline's description, a target."""
        return replace(self, name=name, baseline=self.baseline if baseline is None else baseline,
                       target=self.target if target is None else target, unit=self.unit if unit is None else unit,
                       note=self.note if note is None else note)

    @property
    def measured(self) -> Spread:
        return Spread.of(self.a)

    @property
    def base(self) -> Spread | None:
        return Spread.of(self.b) if self.b else None

    @property
    def ratio(self) -> Spread | None:
        if not self.b:
            return None
        return Spread.of([x / y for x, y in zip(self.a, self.b) if y])

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        op, bound = self.target
        value = self.ratio.median if self.ratio is not None else self.measured.median
        return value <= bound if op == "<=" else value >= bound

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op, bound = self.target
        sign = "≤" if op == "<=" else "≥"
        return f"{sign} {bound:g} ×" if self.b else f"{sign} {fmt_value(bound, self.unit)}"

    def row(self) -> str:
        """``name: A (min-max) vs B (min-max): ratio R × (min-max), target ≤ T ×: met``."""
        m = self.measured
        out = f"{self.name}: {fmt_value(m.median, self.unit)} ({fmt_value(m.min, self.unit)}-" \
              f"{fmt_value(m.max, self.unit)})"
        if self.b:
            b, r = self.base, self.ratio
            out += (f" vs {fmt_value(b.median, self.unit)} ({fmt_value(b.min, self.unit)}-"
                    f"{fmt_value(b.max, self.unit)}): ratio {r.median:.2f} × ({r.min:.2f}-{r.max:.2f})")
        if self.target is not None:
            out += f", target {self.target_text()}: {'met' if self.met else 'NOT MET'}"
        if self.baseline:
            out += f"  [baseline: {self.baseline}]"
        if self.note:
            out += f"  [{self.note}]"
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "rounds": len(self.a), "measured": self.measured.as_dict(),
                "baseline_name": self.baseline, "baseline": self.base.as_dict() if self.b else None,
                "ratio": self.ratio.as_dict() if self.b else None, "target": self.target_text() or None,
                "met": self.met, "note": self.note}


def alternate(measure: Callable[[], float], baseline: Callable[[], float] | None, rounds: int,
              warmup: int = 0) -> Comparison:
    """Run ``measure`` and ``baseline`` in turn, A B A B..., ``rounds`` times each (after ``warmup`` untimed
    pairs); each call returns seconds or another value (a p95, a rate). Alternating puts any drift
    of a loaded machine into both sides of a round, and the per-round ratio cancels it."""
    for _ in range(warmup):
        measure()
        if baseline is not None:
            baseline()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        gc.collect()
        a.append(measure())
        if baseline is not None:
            gc.collect()
            b.append(baseline())
    return Comparison(tuple(a), tuple(b))


def clocked(fn: Callable[[], Any]) -> Callable[[], float]:
    """``fn`` as a measure for :func:`alternate`: its wall time in seconds."""

    def run() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return run


TIME_BIN = shutil.which("time", path="/usr/bin:/bin")


def run_process(cmd: Sequence[str], env: dict[str, str] | None = None, stdin: Any = None,
                cwd: Path | None = None) -> tuple[float, float]:
    """Run a whole process, stdout to /dev/null: (wall seconds, its peak memory in MiB).

    The peak comes from GNU ``/usr/bin/time`` when present (its child is forked from that small
    process; a child forked from this big one would report this one's pages as its own peak), else
    from ``wait4`` (then an upper bound). Both sides of a comparison pay the same wrapper."""
    cmd = [str(c) for c in cmd]
    fd, report = tempfile.mkstemp(prefix="bench-rss-")
    os.close(fd)
    full = [TIME_BIN, "-f", "%M", "-o", report, *cmd] if TIME_BIN else cmd
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
        assert p.stderr is not None
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        took = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err.decode(errors='replace')[-500:]}")
        text = Path(report).read_text().strip().splitlines() if TIME_BIN else []
        kib = int(text[-1]) if text and text[-1].isdigit() else usage.ru_maxrss
    finally:
        os.unlink(report)
    return took, kib / 1024


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
    except OSError:
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, Any]:
    """When and where: date (UTC), commit, load average, CPUs, Python."""
    return {"date": datetime.now(timezone.utc).isoformat(timespec="minutes"), "commit": git_commit(),
            "load": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "python": sys.version.split()[0]}


def add_json_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--json", metavar="FILE", help="also write the comparisons as JSON to FILE")


def emit(script: str, comparisons: Sequence[Comparison], json_path: str | None, **extra: Any) -> None:
    """Print each comparison's row (the same format in every script) and, with ``json_path``, write them
    as JSON (file mode 0600) for ``python -m benchmarks.readme``."""
    meta = machine()
    print(f"\n{script}: {len(comparisons)} comparison{'s' if len(comparisons) != 1 else ''}, alternated "
          f"(A B A B), median (min-max); load average {' '.join(map(str, meta['load']))}, {meta['cpus']} CPUs")
    for c in comparisons:
        print("  " + c.row())
    for failure in extra.get("failures") or ():
        print(f"  FAILED: {failure}")
    sys.stdout.flush()
    if json_path:
        doc = {"script": script, **meta, **extra, "rows": [dict(c.as_dict(), script=script) for c in comparisons]}
        fd = os.open(json_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")


def sqlite_raw(path: Path | str) -> Any:
    """A raw ``sqlite3`` connection with the store's own PRAGMAs (``workflow/store/engine.py``): autocommit
    (we BEGIN ourselves), the busy timeout, foreign keys on, WAL, ``synchronous = NORMAL``."""
    import sqlite3

    from workflow.store.files import SQLITE_BUSY_TIMEOUT_S

    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    return con


STORE_PRAGMAS_SQL = ("PRAGMA foreign_keys = ON;\nPRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\n")


def sa_url(url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy takes it (the psycopg 3 driver)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@contextmanager
def pg_database(url: str, prefix: str = "preincub_bench") -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``url`` (an administrator's), dropped at the end:
    its URL. Nothing is left in the database ``url`` names."""
    import uuid

    admin = sa.create_engine(sa_url(url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def pg_raw(url: str) -> Any:
    """A raw ``psycopg`` connection to the store at ``url`` (autocommit: we BEGIN ourselves)."""
    import psycopg

    return psycopg.connect(sa.engine.make_url(sa_url(url)).set(drivername="postgresql")
                           .render_as_string(hide_password=False), autocommit=True)
