"""Benchmark ``team import``: a call for projects of 10,000 rows, from CSV and from XLSX.

Run it as a script (never a test):

    python benchmarks/intake.py [--rows 10000] [--keep]

It makes a store (``init``, as the CLI does), a programme, 20 partners of which 10 already exist and
a coach, then writes a CP1252 ``;`` CSV file (French Excel's) and an XLSX workbook of ``--rows``
applications: each row a new team, a new intrapreneur ``Prénom Nom <email>``, a partner, a problem,
the days per week and the coach. It measures, each on a fresh copy of the store:

* the real CLI, ``preincub team import FILE --programme P`` (whole process: start-up, reading,
  checking every row, one write transaction), for the CSV and the XLSX file (target: under 10 s);
* the same import again (every team already there: nothing written);
* ``--dry-run`` (every row checked against the store, nothing written).

It checks the store holds the teams and people afterwards, prints one table and exits 0 (the target
is reported, not enforced).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREINCUB = [sys.executable, "-c", "import sys; sys.path.insert(0, %r); import cli; cli.main()" % str(ROOT)]
PROG = "Appel à projets 2021"
COORD = "coord@example.org"


def run(db: Path, *args: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process): on a loaded machine the CPU time is the steadier."""
    env = {"PATH": "/usr/bin:/bin", "PREINCUB_USER": COORD, "PREINCUB_NOW": "2021-01-15", "PREINCUB_LANG": "fr",
           "HOME": str(db.parent), "XDG_DATA_HOME": str(db.parent), "XDG_CONFIG_HOME": str(db.parent)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([*PREINCUB, "--db", str(db), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(args)}\n{p.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def build(tmp: Path, rows: int) -> tuple[Path, Path, Path]:
    db = tmp / "base.db"
    run(db, "init")
    run(db, "programme", "add", PROG, "--signed-on", "2021-01-04", "--capacity", "1000")
    run(db, "person", "add", "Coach Un", "--email", "coach@beta.example", "--role", "coach")
    for i in range(10):
        run(db, "partner", "add", f"Département {i}", "--programme", PROG)
    header = ["équipe", "collectivité", "problème", "intrapreneur", "jours par semaine", "coach"]
    data = [[f"Équipe {i:05d}", f"Département {i % 20}", f"Le problème public n° {i}, décrit en quelques mots.",
             f"Agnès Dupré {i} <agent{i}@collectivite.example>", "1,5" if i % 2 else "1", "coach@beta.example"]
            for i in range(rows)]
    csv_path = tmp / "candidatures.csv"
    csv_path.write_bytes(("\r\n".join(";".join(r) for r in [header, *data]) + "\r\n").encode("cp1252"))
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Candidatures")
    ws.append(header)
    for r in data:
        ws.append([*r[:4], float(r[4].replace(",", ".")), r[5]])
    xlsx_path = tmp / "candidatures.xlsx"
    wb.save(xlsx_path)
    return db, csv_path, xlsx_path


def count(db: Path, table: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="preincub-intake-"))
    try:
        base, csv_path, xlsx_path = build(tmp, args.rows)
        out = []
        for label, src in (("CSV (CP1252, ;)", csv_path), ("XLSX", xlsx_path)):
            db = tmp / f"{src.suffix[1:]}.db"
            shutil.copy(base, db)
            dry = run(db, "team", "import", str(src), "--programme", PROG, "--dry-run")
            first = run(db, "team", "import", str(src), "--programme", PROG)
            teams, people = count(db, "team"), count(db, "person")
            assert teams == args.rows and people == args.rows + 2, (teams, people)
            again = run(db, "team", "import", str(src), "--programme", PROG)
            assert count(db, "team") == teams and count(db, "person") == people
            out.append((label, dry, first, again))
        width = max(len(r[0]) for r in out)
        print(f"team import, {args.rows:,} rows: whole process, wall seconds (CPU seconds); target: import < 10 s")
        print(f"{'file':<{width}}  {'--dry-run':>13}  {'import':>13}  {'again':>13}")
        for label, *runs in out:
            print(f"{label:<{width}}  " + "  ".join(f"{w:6.2f} ({c:5.2f})" for w, c in runs))
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
