"""Benchmark ``team import``: a call for projects of 10,000 rows, against parsing them plus a raw insert.

Run it as a script (never a test):

    python benchmarks/intake.py [--rows 10000] [--repeat 5] [--keep] [--json FILE]

It makes a store (through the library: a programme, 10 partners and a coach), then writes a CP1252
``;`` CSV file (French Excel's) and an XLSX workbook of ``--rows`` applications: each row a new team,
a new intrapreneur ``Prénom Nom <email>``, a partner (20, of which 10 are new), a problem, the days per
week and the coach. One import tells what it writes (every new row of every table, and the audit
chain's head after it). Then, alternating (A B A B), each on a fresh copy of the store, whole
processes both:

* ``preincub team import FILE.csv --programme P`` against a Python process parsing the CSV with the
  ``csv`` module and inserting the SAME rows with ``executemany`` in one transaction, with the store's
  PRAGMAs and its foreign keys checked (target ≤ 3 ×);
* and the XLSX import (no baseline; target under 10 s).

Targets are reported, not enforced; it exits 0.
"""


from __future__ import annotations

import argparse
import pickle
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, add_json_option, alternate, emit, run_process  # noqa: E402  (benchmarks/common.py)

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
    from datetime import date, datetime

    from workflow.api import Workflow
    from workflow.clock import PARIS, FixedClock

    db = tmp / "base.db"  # through the library, in this process (the CLI's way, without 13 start-ups)
    wf = Workflow.open(str(db), create=True, clock=FixedClock(datetime(2021, 1, 15, 9, 0, tzinfo=PARIS)), actor=COORD)
    try:
        wf.directory.add_programme(PROG, date(2021, 1, 4), capacity=1000)
        wf.directory.add_person("Coach Un", "coach@beta.example", ["coach"])
        for i in range(10):
            wf.directory.add_partner(f"Département {i}", PROG)
    finally:
        wf.close()
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


def new_rows(base: Path, after: Path) -> dict:
    """What an import wrote: the rows of every table beyond the base store's (by rowid), and the audit
    chain's head after it."""
    con = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    con.execute(f"ATTACH DATABASE 'file:{base}?mode=ro' AS base")
    try:
        out: dict = {"tables": {}}
        names = [r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'")]
        for t in names:
            cols = [r[1] for r in con.execute(f'PRAGMA main.table_info("{t}")')]
            top = con.execute(f'SELECT coalesce(max(rowid), 0) FROM base."{t}"').fetchone()[0]
            rows = con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM main."{t}" '
                               f"WHERE rowid > ? ORDER BY rowid", (top,)).fetchall()
            if rows:
                out["tables"][t] = (cols, rows)
        out["head"] = con.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
        return out
    finally:
        con.close()


# The baseline, a whole process: parse the CSV with the csv module, then insert the same rows the import
# wrote (every column, text included) in one transaction with the store's PRAGMAs, foreign keys checked
# at commit, and move the audit chain's head as the import did.
RAW_IMPORT = """import csv, pickle, sqlite3, sys
db, src, rows_file = sys.argv[1:4]
with open(src, encoding="cp1252", newline="") as f:
    parsed = list(csv.DictReader(f, delimiter=";"))
with open(rows_file, "rb") as f:
    done = pickle.load(f)
assert len(parsed) == int(sys.argv[4])
con = sqlite3.connect(db, isolation_level=None)
for pragma in ("busy_timeout = 5000", "foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
    con.execute("PRAGMA " + pragma)
con.execute("BEGIN IMMEDIATE")
con.execute("PRAGMA defer_foreign_keys = ON")
for table, (cols, rows) in done["tables"].items():
    names = ", ".join('"' + c + '"' for c in cols)
    con.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in cols)})', rows)
con.execute("UPDATE audit_head SET count = ?, hash = ? WHERE id = 1", done["head"])
con.execute("COMMIT")
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="alternated rounds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        ap.error("give --rows >= 1 and --repeat >= 1")
    tmp = Path(tempfile.mkdtemp(prefix="preincub-intake-"))
    try:
        base, csv_path, xlsx_path = build(tmp, args.rows)
        first = tmp / "first.db"
        shutil.copy(base, first)
        run(first, "team", "import", str(csv_path), "--programme", PROG)
        teams, people = count(first, "team"), count(first, "person")
        assert teams == args.rows and people == args.rows + 2, (teams, people)
        rows_file, script = tmp / "rows.pickle", tmp / "raw_import.py"
        with rows_file.open("wb") as f:
            pickle.dump(new_rows(base, first), f)
        script.write_text(RAW_IMPORT, encoding="utf-8")
        a, b = tmp / "a.db", tmp / "b.db"

        def fresh(db: Path) -> None:
            for q in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                q.unlink(missing_ok=True)
            shutil.copy(base, db)

        def library() -> float:
            fresh(a)
            took = run(a, "team", "import", str(csv_path), "--programme", PROG)[0]
            assert count(a, "team") == teams
            return took

        def raw() -> float:
            fresh(b)
            took = run_process([sys.executable, str(script), str(b), str(csv_path), str(rows_file), str(args.rows)])[0]
            assert count(b, "team") == teams and count(b, "person") == people
            return took

        def xlsx() -> float:
            fresh(a)
            return run(a, "team", "import", str(xlsx_path), "--programme", PROG)[0]

        csv_cmp = alternate(library, raw, args.repeat, warmup=1)
        xlsx_cmp = alternate(xlsx, None, args.repeat)
        emit("intake", [
            csv_cmp.named(f"team import, {args.rows:,} CSV rows, whole process", target=("<=", 3.0),
                          baseline="a Python process: csv module parsing them + raw sqlite3 executemany of the same "
                                   "rows (store's PRAGMAs, foreign keys on)"),
            xlsx_cmp.named(f"team import, {args.rows:,} XLSX rows, whole process", target=("<=", 10.0),
                           note="no baseline"),
        ], args.json)
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
