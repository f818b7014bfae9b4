"""Benchmark the workflow engine: advance one team, status over all teams, and the naive way.

Run it as a script (never a test):

    python benchmarks/engine.py [--sizes 1000 100000] [--repeat 3] [--advances 200] [--keep]

It builds SQLite stores of each size in a temporary directory (the schema comes from the real
Alembic migration, via ``Workflow.open(path, create=True)``; the rows are bulk-inserted with
SQLAlchemy core executemany, not through ``add_team``), then measures:

* advancing one team (``Workflow.advance(name, "submit" | "select")``, a real transaction on the
  store), median over many different teams, interleaved between the stores so drift hits both;
  target: median at the largest size / median at the smallest <= 1.3;
* ``Workflow.status()`` and the real CLI ``preincub --db FILE --now 2020-07-01 status --json``
  (a subprocess, wall time with start-up, stdout to /dev/null); target: CLI under 3 s at the
  largest size;
* the naive way: load every team, build one ``transitions.Machine`` per team, fire one trigger
  (time per Machine, tracemalloc memory per Machine, total); above ``--naive-limit`` teams the
  Machines are built for a sample and the total is extrapolated linearly (said in the output).

It prints one table and exits 0 (the targets are reported, not enforced).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session, select  # noqa: E402
from transitions import Machine  # noqa: E402

import states  # noqa: E402
from states.machine import TRIGGERS  # noqa: E402
from workflow import PARIS, FixedClock, Workflow  # noqa: E402
from workflow.models import (  # noqa: E402
    Agreement,
    Assessment,
    Event,
    Partner,
    Person,
    PersonRole,
    PhasePeriod,
    Programme,
    Team,
    TeamMember,
)

NOW = datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)
NOW_ARG = "2020-07-01"
SIGNED_ON = date(2020, 6, 23)
ACTOR = "benchmark@example.org"
TEAMS_PER_PROGRAMME = 100
TEAMS_PER_COACH = 10
PARTNERS = ("Nord", "Oise", "Pas-de-Calais", "Somme", "Val d'Oise")
ADVANCE_TARGET = 1.3
STATUS_TARGET_S = 3.0

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


def team_name(i: int) -> str:
    return f"Équipe {i:06d}"


# ---- building a store --------------------------------------------------------------------------

def build_store(path: Path, n: int) -> dict[str, list[str]]:
    """A store of ``n`` teams; returns the names of the teams that can be submitted and selected."""
    wf = Workflow.open(str(path), create=True, clock=FixedClock(NOW), actor=ACTOR)  # runs the migrations
    engine = wf.store.engine
    n_prog = max(1, -(-n // TEAMS_PER_PROGRAMME))
    n_coach = max(1, -(-n // TEAMS_PER_COACH))
    created = datetime(2020, 6, 23, 9, 0, tzinfo=PARIS)

    programmes = [dict(id=p + 1, name=f"Pré-incubation 2020 n°{p + 1:04d}", kind="preincubation",
                       signed_on=SIGNED_ON, months=6, capacity=TEAMS_PER_PROGRAMME, min_days_per_week=1.0,
                       created_at=created) for p in range(n_prog)]
    partners = [dict(id=p * len(PARTNERS) + k + 1, programme_id=p + 1, name=dep, kind="departement")
                for p in range(n_prog) for k, dep in enumerate(PARTNERS)]
    # persons: 1 coordinator, then the coaches, then one intrapreneur per team
    coach_id = lambda c: 2 + c  # noqa: E731
    intra_id = lambda i: 2 + n_coach + i  # noqa: E731
    persons = [dict(id=1, name="Coordination", email="coordination@example.org", created_at=created)]
    roles = [dict(person_id=1, role="coordinator")]
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
        prog, slot = divmod(i, TEAMS_PER_PROGRAMME)
        phase = PHASE_OF_SLOT[slot]
        path_ = PATH[phase]
        born = created + timedelta(hours=i % 8)
        starts = [born + timedelta(days=k) for k in range(len(path_))]
        tid = i + 1
        later = phase in SELECTED
        teams.append(dict(
            id=tid, name=team_name(i), programme_id=prog + 1, partner_id=prog * len(PARTNERS) + i % len(PARTNERS) + 1,
            problem=f"Problème public n°{i}: les usagers attendent trop longtemps une réponse.", phase=phase,
            phase_since=starts[-1], version=len(path_) + (3 if phase != "call_for_projects" else 0),
            poc_summary=("Un prototype testé avec dix agents." if phase in SELECTED and phase != "investigation" else None),
            poc_link=None, committee_on=(date(2020, 11, 15) if later and phase != "investigation" else None),
            committee_opinion=("Favorable." if phase in ("incubation_decision", "incubated", "not_incubated") else None),
            created_at=born))
        members.append(dict(team_id=tid, person_id=intra_id(i), role="intrapreneur", days_per_week=1.0))
        members.append(dict(team_id=tid, person_id=coach_id(i // TEAMS_PER_COACH), role="coach", days_per_week=None))
        for k, ph in enumerate(path_):
            periods.append(dict(team_id=tid, phase=ph, start=starts[k],
                                end=starts[k + 1] if k + 1 < len(path_) else None))
        events.append(dict(at=born, actor=ACTOR, team_id=tid, action="team.add", trigger=None, from_phase=None,
                           to_phase="call_for_projects", reason=None, forced=False, data=None))
        for k in range(1, len(path_)):
            trig = next(t.name for t in TRIGGERS.values() if path_[k - 1] in t.sources and t.dest == path_[k])
            events.append(dict(at=starts[k], actor=ACTOR, team_id=tid, action="advance", trigger=trig,
                               from_phase=path_[k - 1], to_phase=path_[k],
                               reason="Décision du comité." if TRIGGERS[trig].needs_reason else None,
                               forced=False, data=None))
        if phase == "selection" or later:
            assessments.append(dict(team_id=tid, real=True, major=True, actionable=True, note=None,
                                    at=starts[1], actor=ACTOR))
            agreements.append(dict(team_id=tid, party="partner", at=starts[1], actor=ACTOR))
            agreements.append(dict(team_id=tid, party="operator", at=starts[1], actor=ACTOR))
        elif phase == "not_selected":
            assessments.append(dict(team_id=tid, real=True, major=False, actionable=True, note="Trop local.",
                                    at=starts[1], actor=ACTOR))
        if phase == "call_for_projects":
            submittable.append(team_name(i))
        elif phase == "selection":
            selectable.append(team_name(i))

    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection  # PRAGMAs outside SQLAlchemy's transaction
        raw.execute("PRAGMA synchronous = OFF")  # while building only; the product's settings otherwise
        with conn.begin():
            for model, rows in ((Programme, programmes), (Partner, partners), (Person, persons),
                                (PersonRole, roles), (Team, teams), (TeamMember, members),
                                (PhasePeriod, periods), (Assessment, assessments), (Agreement, agreements),
                                (Event, events)):
                if rows:
                    conn.execute(insert(model.__table__), rows)
        raw.execute("PRAGMA synchronous = FULL")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with wf.store.read() as s:
        got = s.execute(select(sa.func.count()).select_from(Team)).scalar_one()
    assert got == n, (got, n)
    wf.close()
    return {"submit": submittable, "select": selectable}


# ---- measurements ----------------------------------------------------------------------------

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


def measure_advances(stores: dict[int, Path], eligible: dict[int, dict[str, list[str]]], count: int,
                     seed: int = 20200701) -> dict[int, dict]:
    """Median time of ``Workflow.advance`` on ``count`` different teams per store, interleaved."""
    rng = random.Random(seed)
    warmup = 5
    plans: dict[int, list[tuple[str, str]]] = {}
    for n, elig in eligible.items():
        half = count // 2
        need_submit, need_select = count - half + warmup + 1, half + 1
        if len(elig["submit"]) < need_submit or len(elig["select"]) < need_select:
            raise SystemExit(f"store of {n} teams has too few teams to advance {count} of them; lower --advances")
        subs = rng.sample(elig["submit"], need_submit)
        sels = rng.sample(elig["select"], need_select)
        timed = [(t, "submit") for t in subs[warmup + 1:]] + [(t, "select") for t in sels[1:]]
        rng.shuffle(timed)  # submits and selects mixed, teams from every programme
        # warm-up submits, one traced submit, the timed moves, one traced select
        plan = [(t, "submit") for t in subs[:warmup + 1]] + timed + [(sels[0], "select")]
        plans[n] = plan
    wfs = {n: Workflow.open(str(p), clock=FixedClock(NOW), actor=ACTOR) for n, p in stores.items()}
    results: dict[int, dict] = {}
    try:
        # Warm-up (Machine built, statements compiled, caches filled), then one traced advance of each kind.
        traces: dict[int, dict[str, SqlTrace]] = {n: {} for n in wfs}
        for n, wf in wfs.items():
            for name, trig in plans[n][:warmup]:
                wf.advance(name, trig)
            for name, trig in (plans[n][warmup], plans[n][-1]):
                with SqlTrace(wf.store.engine) as tr:
                    wf.advance(name, trig)
                traces[n][trig] = tr
        times: dict[int, list[float]] = {n: [] for n in wfs}
        by_trigger: dict[int, dict[str, list[float]]] = {n: {"submit": [], "select": []} for n in wfs}
        gc.collect()
        timed = {n: plans[n][warmup + 1:-1] for n in wfs}
        for k in range(count):
            for n, wf in wfs.items():  # interleaved: any drift of the machine hits every size alike
                name, trig = timed[n][k]
                t0 = time.perf_counter()
                wf.advance(name, trig)
                dt = time.perf_counter() - t0
                times[n].append(dt)
                by_trigger[n][trig].append(dt)
        for n, wf in wfs.items():
            ts = sorted(times[n])
            scans = []
            for tr in traces[n].values():
                scans += tr.scans()
            results[n] = {
                "median": statistics.median(ts), "p90": ts[int(0.9 * (len(ts) - 1))], "count": len(ts),
                "submit": statistics.median(by_trigger[n]["submit"]),
                "select": statistics.median(by_trigger[n]["select"]),
                "statements": {t: len(tr.statements) for t, tr in traces[n].items()},
                "scans": scans,
            }
        # the moves really happened
        for n, wf in wfs.items():
            with wf.store.read() as s:
                moved = s.execute(select(sa.func.count()).select_from(Event)
                                  .where(Event.action == "advance", Event.actor == ACTOR,
                                         Event.at == NOW)).scalar_one()
            assert moved == len(plans[n]), (n, moved, len(plans[n]))
    finally:
        for wf in wfs.values():
            wf.close()
    return results


def measure_status_library(path: Path, n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        wf = Workflow.open(str(path), clock=FixedClock(NOW), actor=ACTOR)
        rows = wf.status()
        times.append(time.perf_counter() - t0)
        wf.close()
        assert len(rows) == n, (len(rows), n)
    return statistics.median(times)


def cli_command() -> list[str]:
    exe = shutil.which("preincub", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "cli"]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env["PREINCUB_USER"] = ACTOR
    return env


def measure_status_cli(path: Path, n: int, repeat: int) -> float:
    cmd = cli_command() + ["--db", str(path), "--now", NOW_ARG, "status", "--json"]
    # once through a pipe, to check the output really is every team
    out = subprocess.run(cmd, env=cli_env(), capture_output=True, check=True)
    rows = json.loads(out.stdout)
    assert len(rows) == n and {"name", "programme", "partner", "phase", "phase_since", "deadline", "days_left"} <= set(rows[0])
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_cli_startup(repeat: int) -> float:
    cmd = cli_command() + ["--help"]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=cli_env(), stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---- the naive way: one Machine per team -----------------------------------------------------

NAIVE_STATES = [{"name": p.id, "final": p.terminal} for p in states.PHASES.values()]
NAIVE_TRANSITIONS = [{"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in TRIGGERS.values()]


class NaiveTeam:
    def __init__(self, team_id: int, name: str, phase: str) -> None:
        self.id, self.name, self.state = team_id, name, phase


def naive_machine(model: NaiveTeam) -> Machine:
    return Machine(model=model, states=NAIVE_STATES, transitions=NAIVE_TRANSITIONS, initial=model.state,
                   auto_transitions=False)


def measure_naive(path: Path, n: int, limit: int, repeat: int) -> dict:
    """Load all teams, build one Machine per team, fire one trigger; per-Machine time and memory."""
    wf = Workflow.open(str(path), clock=FixedClock(NOW), actor=ACTOR)
    try:
        loads, builds, fires = [], [], []
        built_count = min(n, limit)
        for _ in range(repeat):
            gc.collect()
            t0 = time.perf_counter()
            with wf.store.read() as s:
                teams = s.exec(select(Team)).all()
            loads.append(time.perf_counter() - t0)
            assert len(teams) == n
            sample = teams[:built_count] if built_count == n else random.Random(1).sample(teams, built_count)
            models = [NaiveTeam(t.id, t.name, t.phase) for t in sample]
            gc.collect()
            t0 = time.perf_counter()
            machines = [naive_machine(m) for m in models]
            builds.append((time.perf_counter() - t0) / built_count)
            target = next(m for m in models if m.state == "call_for_projects")
            t0 = time.perf_counter()
            target.submit()
            fires.append(time.perf_counter() - t0)
            assert target.state == "selection"
            del machines, models, teams, sample
        # memory per Machine (model included), measured apart: tracemalloc slows everything down
        k = min(built_count, 1000)
        models = [NaiveTeam(i, team_name(i), PHASE_OF_SLOT[i % TEAMS_PER_PROGRAMME]) for i in range(k)]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        machines = [naive_machine(m) for m in models]
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        mem = sum(st.size_diff for st in after.compare_to(before, "filename")) / k
        del machines
    finally:
        wf.close()
    load, per_machine, fire = statistics.median(loads), statistics.median(builds), statistics.median(fires)
    return {"load": load, "per_machine": per_machine, "mem": mem, "fire": fire, "built": built_count,
            "extrapolated": built_count < n, "total": load + per_machine * n + fire, "total_mem": mem * n}


# ---- the table -----------------------------------------------------------------------------

def print_table(sizes: list[int], r: dict, total_runtime: float) -> None:
    small, big = sizes[0], sizes[-1]
    ratio = r["advance"][big]["median"] / r["advance"][small]["median"]
    cli_big = r["status_cli"][big]
    head = ["measure"] + [f"{n:,} teams" for n in sizes] + ["target", "met"]
    rows: list[list[str]] = []

    def row(label, values, target="", met=""):
        rows.append([label] + values + [target, met])

    row("build store (bulk insert + migrations)", [fmt_s(r["build"][n]) for n in sizes])
    row(f"advance one team, median of {r['advance'][small]['count']}",
        [fmt_s(r["advance"][n]["median"]) for n in sizes])
    row("  p90", [fmt_s(r["advance"][n]["p90"]) for n in sizes])
    row("  submit / select medians",
        [f"{fmt_s(r['advance'][n]['submit'])} / {fmt_s(r['advance'][n]['select'])}" for n in sizes])
    row("  SQL statements (submit / select)",
        [f"{r['advance'][n]['statements']['submit']} / {r['advance'][n]['statements']['select']}" for n in sizes])
    row("  full-table scans in their plans", [str(len(r["advance"][n]["scans"])) for n in sizes], "0",
        "yes" if not any(r["advance"][n]["scans"] for n in sizes) else "NO")
    row(f"advance ratio {big:,} / {small:,}", [""] * (len(sizes) - 1) + [f"{ratio:.2f}"], f"<= {ADVANCE_TARGET}",
        "yes" if ratio <= ADVANCE_TARGET else "NO")
    row("status, library Workflow.status()", [fmt_s(r["status_lib"][n]) for n in sizes])
    row("status --json, CLI subprocess (wall)", [fmt_s(r["status_cli"][n]) for n in sizes],
        f"< {STATUS_TARGET_S:g} s at {big:,}", "yes" if cli_big < STATUS_TARGET_S else "NO")
    row("  CLI start-up alone (preincub --help)", [fmt_s(r["startup"])] * len(sizes))
    row("naive: load all teams (ORM)", [fmt_s(r["naive"][n]["load"]) for n in sizes])
    row("naive: build one Machine", [fmt_s(r["naive"][n]["per_machine"]) for n in sizes])
    row("naive: memory per Machine (tracemalloc)", [f"{r['naive'][n]['mem'] / 1024:.1f} KiB" for n in sizes])
    row("naive: memory, all Machines", [f"{r['naive'][n]['total_mem'] / 2**20:.0f} MiB"
                                        + (" *" if r["naive"][n]["extrapolated"] else "") for n in sizes])
    row("naive: advance one team (load+build all+fire)",
        [fmt_s(r["naive"][n]["total"]) + (" *" if r["naive"][n]["extrapolated"] else "") for n in sizes])
    row("naive / engine, advance one team",
        [f"x{r['naive'][n]['total'] / r['advance'][n]['median']:,.0f}" for n in sizes])

    widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print(line)
    for x in rows:
        print("  ".join([x[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(x[1:-2], widths[1:-2])]
                        + [x[-2].ljust(widths[-2]), x[-1].ljust(widths[-1])]))
    print(line)
    for n in sizes:
        nv = r["naive"][n]
        if nv["extrapolated"]:
            print(f"* {n:,} teams: Machines built for a random sample of {nv['built']:,} teams; "
                  f"build time and memory extrapolated linearly to {n:,}.")
    for n in sizes:
        for s in r["advance"][n]["scans"]:
            print(f"scan at {n:,} teams: {s}")
    print(f"clock fixed at {NOW.isoformat()}; {TEAMS_PER_PROGRAMME} teams per programme, "
          f"one coach per {TEAMS_PER_COACH} teams; python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"total run time {total_runtime:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000], help="store sizes in teams")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each status and naive measurement (median)")
    ap.add_argument("--advances", type=int, default=200, help="different teams advanced per store (median)")
    ap.add_argument("--naive-limit", type=int, default=5000,
                    help="above this many teams, build naive Machines for a sample this size and extrapolate")
    ap.add_argument("--keep", action="store_true", help="keep the stores (prints where)")
    args = ap.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if len(sizes) < 2:
        ap.error("give at least two --sizes (the ratio compares the smallest and the largest)")
    if min(sizes) < 2 * args.advances:
        ap.error(f"the smallest store needs at least {2 * args.advances} teams for --advances {args.advances}")

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="preincub-bench-"))
    r: dict = {"build": {}, "status_lib": {}, "status_cli": {}, "naive": {}}
    try:
        stores, eligible = {}, {}
        for n in sizes:
            stores[n] = workdir / f"store-{n}.db"
            t0 = time.perf_counter()
            eligible[n] = build_store(stores[n], n)
            r["build"][n] = time.perf_counter() - t0
            print(f"built {n:,} teams in {r['build'][n]:.1f} s ({stores[n].stat().st_size / 2**20:.0f} MiB)",
                  file=sys.stderr)
        r["advance"] = measure_advances(stores, eligible, args.advances)
        print("advance measured", file=sys.stderr)
        r["startup"] = measure_cli_startup(args.repeat)
        for n in sizes:
            r["status_lib"][n] = measure_status_library(stores[n], n, args.repeat)
            r["status_cli"][n] = measure_status_cli(stores[n], n, args.repeat)
            print(f"status measured at {n:,}", file=sys.stderr)
        for n in sizes:
            r["naive"][n] = measure_naive(stores[n], n, args.naive_limit, args.repeat)
            print(f"naive measured at {n:,}", file=sys.stderr)
        print_table(sizes, r, time.perf_counter() - started)
        sys.stdout.flush()
    finally:
        if args.keep:
            print(f"stores kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
