"""Run every benchmark script, each in its own process, and gather their comparisons.

    python -m benchmarks [--quick] [--only NAME ...] [--big] [--pg URL] [--json FILE]

``--quick``: small sizes (a minute or two in all: a check that everything runs, not figures to
quote). ``--only``: these scripts (by name: startup, engine, reminders, checkins, backup, intake,
web, audit, ds). ``--big``: the 10 × sizes too (reminders: 100,000 teams, minutes). ``--pg``: the
PostgreSQL server engine, reminders and web also run on, in databases or schemas they make and drop
(default: PREINCUB_TEST_DATABASE_URL; ``--pg ''``: none).
``--json``: every row, with the date, the commit and the load average before and after, as
``python -m benchmarks.readme`` reads them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (arguments of a full run, of a quick run, added by --big)
SCRIPTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "startup": ([], ["--runs", "2", "--short"], []),
    "engine": ([], ["--sizes", "100", "400", "--advances", "10", "--repeat", "2"], []),
    "reminders": ([], ["--teams", "200", "--repeat", "2"], ["--big"]),
    "checkins": ([], ["--teams", "200", "--repeat", "2"], []),
    "backup": ([], ["--teams", "200", "--repeat", "2"], []),
    "intake": ([], ["--rows", "200", "--repeat", "2"], []),
    "web": ([], ["--clients", "4", "--seconds", "2", "--rounds", "2", "--teams", "4"], []),
    "audit": ([], ["--events", "2000", "--repeat", "2"], []),
    "ds": ([], ["--dossiers", "100", "--rounds", "2"], []),
}


def commit() -> str | None:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True, text=True)
    return out.stdout.strip() or None


def run_all(names: list[str], quick: bool, big: bool, pg: str | None) -> dict:
    """Run the scripts one after the other; their rows, and which failed."""
    doc: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="minutes"), "commit": commit(),
                 "quick": quick, "big": big, "load_before": [round(x, 2) for x in os.getloadavg()],
                 "cpus": os.cpu_count(), "python": sys.version.split()[0], "scripts": [], "failed": [], "broken": [],
                 "rows": []}
    with tempfile.TemporaryDirectory(prefix="preincub-bench-all-") as tmp:
        for name in names:
            full, small, more = SCRIPTS[name]
            out = Path(tmp) / f"{name}.json"
            args = [*(small if quick else full), *(more if big else []), "--json", str(out)]
            if name == "web":
                args += ["--pg", pg or ""]  # web.py would otherwise take PREINCUB_TEST_DATABASE_URL itself
            elif name in ("engine", "reminders") and pg:
                args += ["--pg", pg]
            print(f"== {name}: python benchmarks/{name}.py {' '.join(args[:-2])}", flush=True)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], cwd=HERE.parent)
            took = time.perf_counter() - t0
            if r.returncode != 0 or not out.exists():
                print(f"== {name}: FAILED (exit {r.returncode})", file=sys.stderr, flush=True)
                doc["failed"].append(f"benchmarks/{name}.py (exit {r.returncode}: no rows)")
                doc["broken"].append(name)
                continue
            part = json.loads(out.read_text(encoding="utf-8"))
            doc["scripts"].append({"script": name, "seconds": round(took, 1), "load": part.get("load")})
            doc["rows"] += part["rows"]
            doc["failed"] += part.get("failures") or []
    doc["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return doc


def write_json(doc: dict, path: str) -> None:
    """The results, file mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: everything runs, figures not to quote")
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=list(SCRIPTS), help="only these scripts")
    ap.add_argument("--big", action="store_true", help="also the 10 × sizes (minutes)")
    ap.add_argument("--pg", default=os.environ.get("PREINCUB_TEST_DATABASE_URL"),
                    help="a PostgreSQL server URL: engine, reminders and web also run there (their own databases)")
    ap.add_argument("--json", metavar="FILE", help="write every row as JSON (for python -m benchmarks.readme)")
    args = ap.parse_args(argv)
    doc = run_all(args.only or list(SCRIPTS), args.quick, args.big, args.pg)
    print(f"\n{len(doc['rows'])} comparisons from {len(doc['scripts'])} scripts"
          + (f"; FAILED: {'; '.join(doc['failed'])}" if doc["failed"] else ""))
    met = [r for r in doc["rows"] if r.get("met") is not None]
    print(f"targets met: {sum(1 for r in met if r['met'])} of {len(met)}")
    if args.json:
        write_json(doc, args.json)
    return 1 if doc["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
