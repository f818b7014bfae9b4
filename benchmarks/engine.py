"""Benchmark the workflow engine: advance one team, status over all teams, and the naive way.

Run it as a script (never a test):

    python benchmarks/engine.py [--sizes 1000 100000] [--repeat 3] [--advances 200] [--keep]

It builds SQLite stores of each size in a temporary directory (the schema comes from the real
Alembic migration, via ``Workflow.open(path, create=True)``; the rows are bulk-inserted with
SQLAlchemy core executemany, not through ``Teams.add``; the building code is in
``benchmarks/common.py``, shared with ``benchmarks/checkins.py``), then measures:

* advancing one team (``Workflow.transitions.advance(name, "submit" | "select")``, a real transaction on the
  store), median over many different teams, interleaved between the stores so drift hits both;
  target: median at the largest size / median at the smallest <= 1.3;
* ``Workflow.teams.status()`` and the real CLI ``preincub --db FILE --now 2020-07-01 status --json``
  (a subprocess, wall time with start-up, stdout to /dev/null); targets at the largest size: the
  library under 0.5 s, the CLI under 1 s;
* a raw ``sqlite3`` transaction doing the writes of one advance (the event chained as
  ``workflow.store.events`` chains it), with the store's PRAGMAs; target: advance <= 4 x it;
* the naive way: load every team, build one ``transitions.Machine`` per team, fire one trigger
  (time per Machine, tracemalloc memory per Machine, total); above ``--naive-limit`` teams the
  Machines are built for a sample and the total is extrapolated linearly (said in the output).

It prints one table and exits 0 (the targets are reported, not enforced).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select
from transitions import Machine

from common import (  # benchmarks/common.py, shared with checkins.py; it puts the checkout on sys.path
    PHASE_OF_SLOT,
    TEAMS_PER_PROGRAMME,
    SqlTrace,
    build_store,
    fmt_s,
    print_footer,
    print_table as render_table,
    scratch,
    team_name,
    time_cli,
    timed_build,
)

import states  # noqa: E402  (after common: it makes the checkout importable)
from states.machine import TRIGGERS  # noqa: E402
from workflow.api import Workflow  # noqa: E402
from workflow.clock import FixedClock, PARIS
from workflow.store.models import Event, Team  # noqa: E402

NOW = datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)
NOW_ARG = "2020-07-01"
ACTOR = "benchmark@example.org"  # the stores' first coordinator (Workflow.open(create=True) makes it so)
ADVANCE_TARGET = 1.3
STATUS_TARGET_S = 1.0
STATUS_LIB_TARGET_S = 0.5
RAW_TARGET = 4.0  # advance <= 4 x the raw sqlite3 transaction doing the same writes


# ---- measurements ----------------------------------------------------------------------------

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
    raws = {n: RawAdvance(p) for n, p in stores.items()}
    # The raw transactions work on teams the advances leave alone (the eligible teams not planned).
    raw_names = {}
    for n in stores:
        planned = {name for name, _ in plans[n]}
        raw_names[n] = [t for t in eligible[n]["submit"] if t not in planned][:count + 5]
        if len(raw_names[n]) < count + 5:
            raise SystemExit(f"store of {n} teams has too few teams for {count} raw transactions; lower --advances")
    results: dict[int, dict] = {}
    try:
        # Warm-up (Machine built, statements compiled, caches filled), then one traced advance of each kind.
        traces: dict[int, dict[str, SqlTrace]] = {n: {} for n in wfs}
        for n, wf in wfs.items():
            for name, trig in plans[n][:warmup]:
                wf.transitions.advance(name, trig)
            for name, trig in (plans[n][warmup], plans[n][-1]):
                with SqlTrace(wf.store.engine) as tr:
                    wf.transitions.advance(name, trig)
                traces[n][trig] = tr
        times: dict[int, list[float]] = {n: [] for n in wfs}
        for n in wfs:  # the raw side's warm-up
            for name in raw_names[n][:5]:
                raws[n].run(name)
        raw_times: dict[int, list[float]] = {n: [] for n in wfs}
        by_trigger: dict[int, dict[str, list[float]]] = {n: {"submit": [], "select": []} for n in wfs}
        gc.collect()
        timed = {n: plans[n][warmup + 1:-1] for n in wfs}
        for k in range(count):
            for n, wf in wfs.items():  # interleaved: any drift of the machine hits every size alike
                name, trig = timed[n][k]
                t0 = time.perf_counter()
                wf.transitions.advance(name, trig)
                dt = time.perf_counter() - t0
                times[n].append(dt)
                by_trigger[n][trig].append(dt)
                raw_times[n].append(raws[n].run(raw_names[n][5 + k]))  # right after: the same machine state
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
                "raw": statistics.median(raw_times[n]),
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
        for raw in raws.values():
            raw.close()
    return results


class RawAdvance:
    """A raw ``sqlite3`` transaction doing the writes of one advance on the same store: read the team,
    compare-and-swap its phase, close one phase period and open the next, and append the event to the
    audit chain as the store does (read the chain's head, insert the event with its salt, digest and hash
    computed by ``workflow.store.events``' own functions, move the head on). What
    ``advance`` adds on top (permissions, guards, SQLAlchemy) is the ratio printed. The connection
    gets the store's own PRAGMAs (``workflow/store/engine.py``): WAL, ``synchronous = NORMAL`` (no fsync per
    commit; SQLite's default ``FULL`` would put one in the raw side only and flatter the ratio),
    foreign keys on, the same busy timeout."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        from workflow.store.engine import SQLITE_BUSY_TIMEOUT_S

        self.stamp = NOW.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        self.con = con = sqlite3.connect(str(path), isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        con.execute("PRAGMA foreign_keys = ON")
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # as the store left it
        con.execute("PRAGMA synchronous = NORMAL")
        self.actor = ACTOR + " (raw)"
        self.actor_id = con.execute("SELECT id FROM person WHERE email = ?", (ACTOR,)).fetchone()[0]

    def run(self, name: str) -> float:
        """One transaction on the team ``name`` (submitted when it can be); its wall time."""
        from workflow.store import events as event_rows

        con, stamp, actor = self.con, self.stamp, self.actor
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        tid, phase, version = con.execute("SELECT id, phase, version FROM team WHERE name = ?", (name,)).fetchone()
        dest = "selection" if phase == "call_for_projects" else phase
        cur = con.execute("UPDATE team SET phase = ?, phase_since = ?, version = ? WHERE id = ? AND version = ?",
                          (dest, stamp, version + 1, tid, version))
        assert cur.rowcount == 1
        con.execute('UPDATE phase_period SET "end" = ? WHERE team_id = ? AND "end" IS NULL', (stamp, tid))
        con.execute("INSERT INTO phase_period (team_id, phase, start) VALUES (?, ?, ?)", (tid, dest, stamp))
        count, prev = con.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
        row = {"at": stamp, "actor": actor, "actor_id": self.actor_id, "team_id": tid, "action": "advance",
               "trigger": "submit", "from_phase": phase, "to_phase": dest, "reason": None, "forced": False,
               "data": None, "salt": event_rows.new_salt()}
        row["digest"] = event_rows.digest(row["salt"], actor, None, None)
        row["hash"] = event_rows.link(prev, row)
        con.execute("INSERT INTO event (at, actor, actor_id, team_id, action, \"trigger\", from_phase, to_phase, "
                    "reason, forced, data, salt, digest, hash) VALUES (:at, :actor, :actor_id, :team_id, :action, "
                    ":trigger, :from_phase, :to_phase, :reason, :forced, :data, :salt, :digest, :hash)", row)
        con.execute("UPDATE audit_head SET count = ?, hash = ? WHERE id = 1", (count + 1, row["hash"]))
        con.execute("COMMIT")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.con.close()


def measure_status_library(path: Path, n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        wf = Workflow.open(str(path), clock=FixedClock(NOW), actor=ACTOR)
        rows = wf.teams.status()
        times.append(time.perf_counter() - t0)
        wf.close()
        assert len(rows) == n, (len(rows), n)
    return statistics.median(times)


def measure_status_cli(path: Path, n: int, repeat: int) -> float:
    def check(rows):  # the output really is every team
        assert len(rows) == n and {"name", "programme", "partner", "phase", "phase_since", "deadline",
                                   "days_left"} <= set(rows[0])

    return time_cli(["--db", str(path), "--now", NOW_ARG, "status", "--json"], ACTOR, repeat, check)


def measure_cli_startup(repeat: int) -> float:
    return time_cli(["--help"], ACTOR, repeat)


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
    row("raw sqlite3 transaction, same writes (store's PRAGMAs)", [fmt_s(r["raw"][n]) for n in sizes])
    raw_ratio = {n: r["advance"][n]["median"] / r["raw"][n] for n in sizes}
    row("advance / raw transaction", [f"{raw_ratio[n]:.1f} x" for n in sizes], f"<= {RAW_TARGET:g} x",
        "yes" if raw_ratio[big] <= RAW_TARGET else "NO")
    row("status, library Workflow.teams.status()", [fmt_s(r["status_lib"][n]) for n in sizes],
        f"< {STATUS_LIB_TARGET_S:g} s at {big:,}", "yes" if r["status_lib"][big] < STATUS_LIB_TARGET_S else "NO")
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

    render_table(head, rows)
    for n in sizes:
        nv = r["naive"][n]
        if nv["extrapolated"]:
            print(f"* {n:,} teams: Machines built for a random sample of {nv['built']:,} teams; "
                  f"build time and memory extrapolated linearly to {n:,}.")
    print_footer({n: r["advance"][n]["scans"] for n in sizes}, NOW, total_runtime)


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
    r: dict = {"build": {}, "status_lib": {}, "status_cli": {}, "naive": {}}
    with scratch(args.keep) as workdir:
        stores, eligible = {}, {}
        for n in sizes:
            stores[n] = workdir / f"store-{n}.db"
            r["build"][n], eligible[n] = timed_build(
                stores[n], n, lambda: build_store(stores[n], n, now=NOW, actor=ACTOR))
        r["advance"] = measure_advances(stores, eligible, args.advances)
        print("advance and raw sqlite3 transaction measured", file=sys.stderr)
        r["raw"] = {n: r["advance"][n]["raw"] for n in sizes}
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
