"""Benchmark the workflow engine: advance one team, and ``status`` over every team, each against its raw baseline.

Run it as a script (never a test):

    python benchmarks/engine.py [--sizes 1000 100000] [--repeat 5] [--advances 200] [--naive]
                                [--pg URL] [--pg-teams 10000] [--keep] [--json FILE]

It builds SQLite stores of each size in a temporary directory (the schema from the real Alembic
migrations, the rows bulk-inserted by ``benchmarks/common.py``), then compares, alternating each
measure with its baseline (A B A B) and printing median, min and max of each and of the ratio:

* advancing one team (``submit`` or ``select``, a real transaction) on ``--advances`` different teams
  per store, each followed by a raw ``sqlite3`` transaction doing the same writes (the event chained as
  ``workflow.store.events`` chains it) with the store's PRAGMAs: ≤ 4 ×; and the largest store against
  the smallest, interleaved: ≤ 1.3 ×;
* at the largest size, ``Workflow.teams.status()`` against a raw ``sqlite3`` read of the same joined
  rows (programme, partner, coach, last check-in): ≤ 1.3 ×;
* ``preincub status --json`` as a whole process against a whole-process Python ``sqlite3`` script
  reading the same joined rows plus ``json.dumps`` (compact, as ``status --json`` writes to a pipe):
  ≤ 1.5 × in wall time, ≤ 2 × in peak memory (``/usr/bin/time``'s maximum resident set).

``--pg URL``: the same advance against raw ``psycopg`` doing the same writes (≤ 2.5 ×) and ``status()``
against ``psycopg`` reading the same joins (≤ 2 ×), on a store of ``--pg-teams`` teams in a database
made and dropped on that server. ``--naive``: also the naive way (load every team, one
``transitions.Machine`` each, fire one trigger), extrapolated above ``--naive-limit``. Targets are
reported, not enforced; it exits 0.
"""


from __future__ import annotations

import argparse
import gc
import json
import subprocess
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select
from transitions import Machine

from common import (  # benchmarks/common.py, shared with checkins.py; it puts the checkout on sys.path
    PHASE_OF_SLOT,
    TEAMS_PER_PROGRAMME,
    Comparison,
    SqlTrace,
    add_json_option,
    alternate,
    build_store,
    cli_command,
    cli_env,
    emit,
    fmt_s,
    run_process,
    pg_database,
    pg_raw,
    scratch,
    sqlite_raw,
    team_name,
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
RAW_TARGET = 4.0  # advance <= 4 x the raw sqlite3 transaction doing the same writes


# ---- measurements ----------------------------------------------------------------------------

def measure_advances(stores: dict[int, Path | str], eligible: dict[int, dict[str, list[str]]], count: int,
                     seed: int = 20200701, raw_class: type | None = None) -> dict[int, dict]:
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
    raws = {n: (raw_class or RawAdvance)(p) for n, p in stores.items()}
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
                "times": times[n], "raw_times": raw_times[n],
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


class RawAdvancePg:
    """:class:`RawAdvance` on PostgreSQL: a raw ``psycopg`` transaction doing the same writes, the team and
    the chain's head locked ``FOR UPDATE`` as the store locks them."""

    def __init__(self, url: str) -> None:
        self.con = con = pg_raw(url)
        self.actor = ACTOR + " (raw)"
        self.actor_id = con.execute("SELECT id FROM person WHERE email = %s", (ACTOR,)).fetchone()[0]

    def run(self, name: str) -> float:
        from workflow.store import events as event_rows

        con, actor = self.con, self.actor
        t0 = time.perf_counter()
        with con.transaction():
            tid, phase, version = con.execute("SELECT id, phase, version FROM team WHERE name = %s FOR UPDATE",
                                              (name,)).fetchone()
            dest = "selection" if phase == "call_for_projects" else phase
            cur = con.execute("UPDATE team SET phase = %s, phase_since = %s, version = %s WHERE id = %s AND version = %s",
                              (dest, NOW, version + 1, tid, version))
            assert cur.rowcount == 1
            con.execute('UPDATE phase_period SET "end" = %s WHERE team_id = %s AND "end" IS NULL', (NOW, tid))
            con.execute("INSERT INTO phase_period (team_id, phase, start) VALUES (%s, %s, %s)", (tid, dest, NOW))
            count, prev = con.execute("SELECT count, hash FROM audit_head WHERE id = 1 FOR UPDATE").fetchone()
            row = {"at": NOW, "actor": actor, "actor_id": self.actor_id, "team_id": tid, "action": "advance",
                   "trigger": "submit", "from_phase": phase, "to_phase": dest, "reason": None, "forced": False,
                   "data": None, "salt": event_rows.new_salt()}
            row["digest"] = event_rows.digest(row["salt"], actor, None, None)
            row["hash"] = event_rows.link(prev, row)
            con.execute("INSERT INTO event (at, actor, actor_id, team_id, action, \"trigger\", from_phase, to_phase, "
                        "reason, forced, data, salt, digest, hash) VALUES (%(at)s, %(actor)s, %(actor_id)s, "
                        "%(team_id)s, %(action)s, %(trigger)s, %(from_phase)s, %(to_phase)s, %(reason)s, %(forced)s, "
                        "%(data)s, %(salt)s, %(digest)s, %(hash)s)", row)
            con.execute("UPDATE audit_head SET count = %s, hash = %s WHERE id = 1", (count + 1, row["hash"]))
        return time.perf_counter() - t0

    def close(self) -> None:
        self.con.close()


def compare_pg(url: str, n: int, advances: int, rounds: int) -> list[Comparison]:
    """PostgreSQL parity at ``n`` teams, in a database of its own: an advance against raw psycopg doing
    the same writes, ``status()`` against psycopg reading the same joins."""
    with pg_database(url) as db:
        _, eligible = timed_build(db, n, lambda: build_store(db, n, now=NOW, actor=ACTOR))
        adv = measure_advances({n: db}, {n: eligible}, advances, raw_class=RawAdvancePg)[n]
        wf = Workflow.open(db, clock=FixedClock(NOW), actor=ACTOR)
        con = pg_raw(db)
        try:
            def library() -> float:
                t0 = time.perf_counter()
                rows = wf.teams.status()
                took = time.perf_counter() - t0
                assert len(rows) == n
                return took

            def raw() -> float:
                t0 = time.perf_counter()
                with con.transaction():
                    rows = con.execute(STATUS_SQL).fetchall()
                took = time.perf_counter() - t0
                assert len(rows) == n
                return took

            status = alternate(library, raw, rounds, warmup=1)
        finally:
            con.close()
            wf.close()
    return [Comparison(tuple(adv["times"]), tuple(adv["raw_times"])).named(
                f"PostgreSQL: advance one team, {n:,} teams", target=("<=", 2.5),
                baseline="raw psycopg transaction doing the same writes, right after each"),
            status.named(f"PostgreSQL: Workflow.teams.status(), {n:,} teams", target=("<=", 2.0),
                         baseline="psycopg reading the same joins")]


STATUS_KEYS = ("name", "programme", "partner", "phase", "phase_since", "coach", "signed_on", "months", "last_checkin")
# The same joined rows as ``status``: each team with its programme, partner, coach (the first by e-mail) and
# last check-in, in programme then team name order.
STATUS_SQL = """SELECT t.name, p.name, pa.name, t.phase, t.phase_since, c.email, p.signed_on, p.months, k.last
FROM team t JOIN programme p ON p.id = t.programme_id LEFT JOIN partner pa ON pa.id = t.partner_id
LEFT JOIN (SELECT m.team_id, min(pe.email) AS email FROM team_member m JOIN person pe ON pe.id = m.person_id
           WHERE m.role = 'coach' GROUP BY m.team_id) c ON c.team_id = t.id
LEFT JOIN (SELECT team_id, max("on") AS last FROM checkin GROUP BY team_id) k ON k.team_id = t.id
ORDER BY p.name, t.name"""
RAW_STATUS_SCRIPT = f"""import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
for pragma in ("busy_timeout = 5000", "foreign_keys = ON", "synchronous = NORMAL"):
    con.execute("PRAGMA " + pragma)
keys = {STATUS_KEYS!r}
rows = [dict(zip(keys, r)) for r in con.execute({STATUS_SQL!r})]
sys.stdout.write(json.dumps(rows, ensure_ascii=False))  # compact, as status --json to a pipe
"""


def compare_status(path: Path, n: int, rounds: int, workdir: Path) -> list[Comparison]:
    """At ``n`` teams: ``Workflow.teams.status()`` against the raw read (in this process), then ``status
    --json`` against a Python ``sqlite3`` script reading the same joined rows plus ``json.dumps`` (whole
    processes both, wall time and peak memory), each pair alternated."""
    wf = Workflow.open(str(path), clock=FixedClock(NOW), actor=ACTOR)
    con = sqlite_raw(path)
    try:
        def library() -> float:
            t0 = time.perf_counter()
            rows = wf.teams.status()
            took = time.perf_counter() - t0
            assert len(rows) == n, (len(rows), n)
            return took

        def raw() -> float:
            t0 = time.perf_counter()
            con.execute("BEGIN")
            rows = con.execute(STATUS_SQL).fetchall()
            con.execute("COMMIT")
            took = time.perf_counter() - t0
            assert len(rows) == n, (len(rows), n)
            return took

        lib = alternate(library, raw, rounds, warmup=1)
    finally:
        con.close()
        wf.close()
    script = workdir / "raw_status.py"
    script.write_text(RAW_STATUS_SCRIPT, encoding="utf-8")
    check = subprocess.run([*cli_command(), "--db", str(path), "--now", NOW_ARG, "status", "--json"],
                           env=cli_env(ACTOR), capture_output=True, check=True)
    assert len(json.loads(check.stdout)) == n
    check = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, check=True)
    assert len(json.loads(check.stdout)) == n
    mem: tuple[list[float], list[float]] = ([], [])

    def process(cmd: list[str], env: dict[str, str] | None, side: int) -> Callable[[], float]:
        def run() -> float:
            took, rss = run_process(cmd, env)
            mem[side].append(rss)
            return took
        return run

    whole = alternate(process([*cli_command(), "--db", str(path), "--now", NOW_ARG, "status", "--json"],
                              cli_env(ACTOR), 0),
                      process([sys.executable, str(script), str(path)], None, 1), rounds, warmup=1)
    raw_name = "Python sqlite3 script: the same joined rows + json.dumps, a whole process"
    return [
        lib.named(f"Workflow.teams.status(), {n:,} teams", target=("<=", 1.3),
                  baseline="raw sqlite3 read of the same joined rows (store's PRAGMAs)"),
        whole.named(f"status --json, {n:,} teams, whole process", target=("<=", 1.5), baseline=raw_name),
        Comparison(tuple(mem[0][-rounds:]), tuple(mem[1][-rounds:]), unit="MiB").named(
            f"status --json, {n:,} teams, peak memory", target=("<=", 2.0), baseline=raw_name + " (peak RSS)"),
    ]


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000], help="store sizes in teams")
    ap.add_argument("--repeat", type=int, default=5, help="alternated rounds of each status measurement")
    ap.add_argument("--advances", type=int, default=200, help="different teams advanced per store (median)")
    ap.add_argument("--naive", action="store_true", help="also measure the naive way (one Machine per team)")
    ap.add_argument("--naive-limit", type=int, default=5000,
                    help="above this many teams, build naive Machines for a sample this size and extrapolate")
    ap.add_argument("--keep", action="store_true", help="keep the stores (prints where)")
    ap.add_argument("--pg", metavar="URL", help="also on PostgreSQL (a database of its own made and dropped there)")
    ap.add_argument("--pg-teams", type=int, default=10_000, help="teams of the PostgreSQL store")
    add_json_option(ap)
    args = ap.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if len(sizes) < 2:
        ap.error("give at least two --sizes (the ratio compares the smallest and the largest)")
    if min(sizes) < 2 * args.advances:
        ap.error(f"the smallest store needs at least {2 * args.advances} teams for --advances {args.advances}")

    small, big = sizes[0], sizes[-1]
    with scratch(args.keep) as workdir:
        stores, eligible = {}, {}
        for n in sizes:
            stores[n] = workdir / f"store-{n}.db"
            _, eligible[n] = timed_build(stores[n], n, lambda: build_store(stores[n], n, now=NOW, actor=ACTOR))
        adv = measure_advances(stores, eligible, args.advances)
        print("advance and raw sqlite3 transaction measured", file=sys.stderr)
        out = [
            Comparison(tuple(adv[big]["times"]), tuple(adv[big]["raw_times"])).named(
                f"advance one team, {big:,} teams", target=("<=", RAW_TARGET),
                baseline="raw sqlite3 transaction doing the same writes (store's PRAGMAs), right after each"),
            Comparison(tuple(adv[big]["times"]), tuple(adv[small]["times"])).named(
                f"advance one team, {big:,} vs {small:,} teams", target=("<=", ADVANCE_TARGET),
                baseline=f"advance at {small:,} teams, interleaved"),
        ]
        out += compare_status(stores[big], big, args.repeat, workdir)
        if args.pg:
            out += compare_pg(args.pg, args.pg_teams, args.advances, args.repeat)
        if args.naive:
            for n in sizes:
                nv = measure_naive(stores[n], n, args.naive_limit, 3)
                print(f"naive at {n:,} teams: load {fmt_s(nv['load'])}, {fmt_s(nv['per_machine'])} and "
                      f"{nv['mem'] / 1024:.1f} KiB per Machine, advance one team {fmt_s(nv['total'])}"
                      + (" (extrapolated)" if nv["extrapolated"] else ""))
        emit("engine", out, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
