"""Benchmark ``audit verify``: walking a hash chain of 100,000 events (target: under 2 s).

Run it as a script (never a test):

    python benchmarks/audit.py [--events 100000] [--repeat 5] [--db URL] [--keep] [--json FILE]

It builds a store (a new SQLite file, or ``--db``: an EMPTY PostgreSQL database or schema) through
the real migrations, adds ten teams through the library, then ``--events`` events in batches of
10,000 through ``workflow.store.events.append`` (the chain's own write path: salt, digest and hash computed
in Python, one executemany a batch): a realistic mix of moves with and without a reason, edits and
check-ins carrying JSON data, every tenth by the system user. It then compares, alternating (A B A B):

* ``Workflow.audit.verify()``, acting as the coordinator (target: under 2 s at 100,000 events), against
  reading every event row through the driver with no processing (what any verification must read);
* the real CLI ``preincub --db FILE audit verify --json`` as a whole process (no baseline; its answer
  is checked to be the library's).

It prints its rows and exits 0 (the target is reported, not enforced).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

from common import ROOT, add_json_option, alternate, emit, run_process, scratch  # benchmarks/common.py: the checkout on sys.path

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="events to chain (default 100,000)")
    ap.add_argument("--repeat", type=int, default=5, help="alternated rounds of verify and the raw read")
    ap.add_argument("--db", help="an EMPTY PostgreSQL database or schema (default: a new SQLite file)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite store (prints where)")
    add_json_option(ap)
    args = ap.parse_args(argv)
    with scratch(args.keep) as workdir:
        url = args.db or str(workdir / "audit.db")
        wf = build(url, args.events)
        records = []
        try:
            def verify() -> float:
                t0 = time.perf_counter()
                records.append(wf.audit.verify())
                return time.perf_counter() - t0

            def raw() -> float:  # every event row, read by the driver with no processing
                with wf.store.engine.connect() as conn:
                    t0 = time.perf_counter()
                    rows = conn.exec_driver_sql("SELECT * FROM event ORDER BY id").fetchall()
                    took = time.perf_counter() - t0
                assert len(rows) == records[-1].events
                return took

            lib = alternate(verify, raw, args.repeat, warmup=1)
        finally:
            wf.close()
        record = records[-1]
        cmd = [sys.executable, "-c", "import cli; cli.main()", "--db", url, "--as", COORD, "audit", "verify", "--json"]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        got = json.loads(out.stdout)
        assert got["valid"] and got["events"] == record.events and got["head"] == record.head, got
        cli = alternate(lambda: run_process(cmd, cwd=ROOT)[0], None, args.repeat)
    store = "PostgreSQL" if args.db else "SQLite"
    emit("audit", [
        lib.named(f"audit verify, {record.events:,} events ({store})", baseline="reading every event row (driver)",
                  note="target: verify < 2 s"),
        cli.named(f"audit verify --json, {record.events:,} events ({store}), whole process", note="no baseline"),
    ], args.json)


if __name__ == "__main__":
    main()
