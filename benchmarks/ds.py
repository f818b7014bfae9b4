"""Benchmark ``intake ds sync``: 1,000 dossiers (10 pages of 100) from the local Démarches Simplifiées.

Run it as a script (never a test):

    python benchmarks/ds.py [--dossiers 1000] [--rounds 5] [--keep] [--json FILE]

It starts the test's local DS (``tests/ds_server.py``: a real HTTP server executing GraphQL with
graphql-core, over its realistic fixture of every state) and builds a SQLite store with a programme and
one partner. Then, ``--rounds`` times, alternating so a slow moment of the machine weighs on both alike,
each on a fresh copy of the store:

* the sync: ``wf.ds.sync`` from scratch (every page fetched, read, checked against the store and written
  in its own transaction: teams, people, partners, their events, the dossiers' rows);
* the raw baseline: the same HTTP fetches (the same client, every page and the deleted dossiers), then a
  raw ``sqlite3`` insert of the same rows (a team, its phase period and its dossier row for each
  dossier the sync made a team of), one transaction.

It prints the median, min and max of each and of the per-round ratio; the target is a sync under 10 s.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path

from common import ROOT, Comparison, add_json_option, emit, scratch  # noqa: F401 - ROOT: the checkout on sys.path

from tests.ds_server import DEMARCHE, DsServer, dossiers_fixture
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.formats.ds import DsClient

PROG = "Appel à projets DS"
COORD = "coord@example.org"
CLOCK = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=PARIS))
MAP = {"Q2hhbXAtMTAx": "team", "Problème public": "problem", "Département": "partner",
       "Q2hhbXAtMTA0": "intrapreneur_name", "Q2hhbXAtMTA1": "intrapreneur_first_name",
       "Q2hhbXAtMTA2": "intrapreneur_email", "Q2hhbXAtMTA3": "days_per_week"}


def base_store(path: Path) -> None:
    wf = Workflow.open(f"sqlite:///{path}", clock=CLOCK, actor=COORD, create=True)
    try:
        wf.directory.add_programme(PROG, date(2026, 1, 5), capacity=1000)
        wf.directory.add_partner("Somme", PROG)
    finally:
        wf.close()


def sync(db: Path, server: DsServer) -> tuple[float, int]:
    """(seconds, teams made) of one sync from scratch."""
    wf = Workflow.open(f"sqlite:///{db}", clock=CLOCK, actor=COORD)
    try:
        t0 = time.perf_counter()
        with DsClient(server.url, server.token) as client:
            r = wf.ds.sync(DEMARCHE, PROG, mapping=MAP, client=client)
        elapsed = time.perf_counter() - t0
    finally:
        wf.close()
    return elapsed, sum(1 for t in r.teams if t.action == "created")


def raw(db: Path, server: DsServer, teams: int) -> float:
    """Seconds of the same fetches and a raw insert of as many teams, their periods and dossier rows."""
    t0 = time.perf_counter()
    with DsClient(server.url, server.token) as client:
        dossiers = [d for page in client.dossiers(DEMARCHE) for d in page.dossiers]
        client.deleted(DEMARCHE)
    now = CLOCK.now().astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = sqlite3.connect(db)
    try:
        with con:
            (prog,) = con.execute("SELECT id FROM programme WHERE name = ?", (PROG,)).fetchone()
            (partner,) = con.execute("SELECT id FROM partner WHERE programme_id = ?", (prog,)).fetchone()
            con.execute("INSERT INTO ds_sync (demarche, programme_id) VALUES (?, ?)", (DEMARCHE, prog))
            made = dossiers[:teams]
            con.executemany("INSERT INTO team (name, programme_id, partner_id, problem, phase, phase_since, version, "
                            "created_at) VALUES (?, ?, ?, ?, 'call_for_projects', ?, 1, ?)",
                            [(f"raw {d.number}", prog, partner, d.champs[1].value, now, now) for d in made])
            ids = dict(con.execute("SELECT name, id FROM team"))
            con.executemany("INSERT INTO phase_period (team_id, phase, start) VALUES (?, 'call_for_projects', ?)",
                            [(ids[f"raw {d.number}"], now) for d in made])
            con.executemany("INSERT INTO ds_dossier (ds_id, demarche, number, team_id, state, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            [(d.id, DEMARCHE, d.number, ids.get(f"raw {d.number}"), d.state,
                              d.updated_at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
                             for d in dossiers])
    finally:
        con.close()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dossiers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if args.dossiers < 1 or args.rounds < 1:
        ap.error("--dossiers and --rounds must be at least 1")
    syncs: list[float] = []
    raws: list[float] = []
    made = 0
    with scratch(args.keep) as tmp, DsServer(dossiers_fixture(args.dossiers)) as server:
        base = tmp / "base.db"
        base_store(base)
        for i in range(args.rounds):
            db = tmp / f"sync{i}.db"
            shutil.copy(base, db)
            elapsed, made = sync(db, server)
            syncs.append(elapsed)
            db = tmp / f"raw{i}.db"
            shutil.copy(base, db)
            raws.append(raw(db, server, made))
    pages = -(-args.dossiers // 100)
    emit("ds", [Comparison(tuple(syncs), tuple(raws)).named(
        f"intake ds sync, {args.dossiers:,} dossiers ({pages} pages), {made:,} teams",
        baseline="the same HTTP fetches + raw sqlite3 insert of the same rows",
        note="target: sync < 10 s")], args.json)


if __name__ == "__main__":
    main()
