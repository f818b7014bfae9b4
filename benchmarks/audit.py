"""Benchmark ``audit verify``: walking a hash chain of 100,000 events (target: under 2 s).

Run it as a script (never a test):

    python benchmarks/audit.py [--events 100000] [--repeat 5] [--db URL] [--keep]

It builds a store (a new SQLite file, or ``--db``: an EMPTY PostgreSQL database or schema) through
the real migrations, adds ten teams through the library, then ``--events`` events in batches of
10,000 through ``workflow.store.events.append`` (the chain's own write path: salt, digest and hash computed
in Python, one executemany a batch): a realistic mix of moves with and without a reason, edits and
check-ins carrying JSON data, every tenth by the system user. It then measures:

* ``Workflow.audit.verify()``, acting as the coordinator: the median of ``--repeat`` runs (target:
  under 2 s at 100,000 events), and the events per second;
* the real CLI ``preincub --db FILE audit verify --json`` as a subprocess (wall time, start-up
  included; its answer is checked to be the library's).

It prints one table and exits 0 (the target is reported, not enforced).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

from common import ROOT, fmt_s, print_table, scratch  # benchmarks/common.py: it puts the checkout on sys.path

import sqlalchemy as sa  # noqa: E402

from workflow.api import Workflow  # noqa: E402

from workflow.clock import FixedClock, PARIS
from workflow.store import events as event_rows  # noqa: E402
from workflow.store.people import SYSTEM  # noqa: E402

COORD = "coord@example.org"
START = datetime(2020, 6, 23, 9, 0, tzinfo=PARIS)
TARGET_S = 2.0
BATCH = 10_000


def build(url: str, n: int) -> Workflow:
    """A store with ``n`` chained events (and the few the library wrote while setting it up)."""
    wf = Workflow.open(url, create=True, clock=FixedClock(START), actor=COORD)
    wf.directory.add_programme("Pré-incubation 2020", date(2020, 6, 23))
    wf.directory.add_partner("Pas-de-Calais", "Pré-incubation 2020")
    wf.directory.add_person("Coach Un", "coach@example.org", ["coach"])
    for i in range(10):
        wf.directory.add_person(f"Agent {i}", f"agent{i}@example.org", ["intrapreneur"])
        wf.teams.add(f"Équipe {i}", "Pré-incubation 2020", "Pas-de-Calais", problem="Un problème réel.",
                    intrapreneurs=[f"agent{i}@example.org"], coach="coach@example.org")
    with wf.store.read() as s:
        me = wf.ctx.me(s).id
        teams, phases = zip(*s.execute(sa.text("SELECT id, phase FROM team ORDER BY id")).all())
    system = f"{os.environ.get('USER', 'bench')}{SYSTEM}"
    done = 0
    while done < n:
        rows = []
        for i in range(done, min(n, done + BATCH)):
            kind = i % 3
            rows.append({
                "at": START + timedelta(seconds=37 * i, microseconds=i % 1_000_000),
                "actor": system if i % 10 == 0 else COORD, "actor_id": me, "team_id": teams[i % len(teams)],
                "action": ("advance", "team.edit", "checkin.log")[kind],
                "trigger": "submit" if kind == 0 else None,
                # A team's last move must have taken it to its phase (``audit verify`` checks it): a move
                # within its phase stands in for the real ones.
                "from_phase": phases[i % len(teams)] if kind == 0 else None,
                "to_phase": phases[i % len(teams)] if kind == 0 else None,
                "reason": "Décision du comité du 12 novembre, après audition de l'équipe." if i % 6 == 0 else None,
                "forced": i % 50 == 0,
                "data": None if kind == 0 else json.dumps({"checkin": i, "changes": {"hours": [7, 8]},
                                                            "notes": "Entretiens usagers, deux ateliers."},
                                                           ensure_ascii=False, sort_keys=True)})
        with wf.store.write() as s:
            event_rows.append(s.connection(), rows)
        done += len(rows)
    return wf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="events to chain (default 100,000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of verify (median)")
    ap.add_argument("--db", help="an EMPTY PostgreSQL database or schema (default: a new SQLite file)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite store (prints where)")
    args = ap.parse_args()
    began = time.perf_counter()
    with scratch(args.keep) as workdir:
        url = args.db or str(workdir / "audit.db")
        t0 = time.perf_counter()
        wf = build(url, args.events)
        built = time.perf_counter() - t0
        try:
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                record = wf.audit.verify()
                runs.append(time.perf_counter() - t0)
        finally:
            wf.close()
        median = statistics.median(runs)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", url, "--as", COORD,
                              "audit", "verify", "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
        cli_s = time.perf_counter() - t0
        got = json.loads(out.stdout)
        assert got["valid"] and got["events"] == record.events and got["head"] == record.head, got
    store = "PostgreSQL" if args.db else "SQLite"
    print_table(["measure", f"{record.events:,} events ({store})", "target", "met"], [
        ["build (append, batches of 10,000)", fmt_s(built), "", ""],
        [f"verify (library, median of {args.repeat})", fmt_s(median), f"< {TARGET_S:.0f} s",
         "yes" if median < TARGET_S else "NO"],
        ["verify: events per second", f"{record.events / median:,.0f}", "", ""],
        ["preincub audit verify --json (process)", fmt_s(cli_s), "", ""],
    ])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; total run time "
          f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
