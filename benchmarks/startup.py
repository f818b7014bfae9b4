"""Start-up cost of the CLI, as ratios to bare imports measured in the same run.

    python benchmarks/startup.py [--runs 9]

Short commands are dominated by imports: `--help`, `--version` and a usage error should cost about
`python -c "import click"` (goal: at most 2x), and `status` on the demo store about
`python -c "import sqlmodel"` (goal: at most 1.3x). Medians of whole processes, so the ratios hold
on a loaded machine better than the absolute times. The last row, the floor, is what any command
reading the store imports before its own code (the SQLModel tables and the pydantic-settings
sections): no such command can start faster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FLOOR = "import workflow.models, workflow.settings"


def _preincub() -> list[str]:
    beside = Path(sys.executable).parent / "preincub"
    exe = str(beside) if beside.exists() else shutil.which("preincub")
    return [exe] if exe else [sys.executable, "-c", "import cli; cli.main()"]


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of ``cmd``, in seconds, after one warm-up run (file cache, .pyc)."""
    subprocess.run(cmd, env=env, capture_output=True, cwd=HERE)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, cwd=HERE)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    runs = ap.parse_args().runs
    # Bytecode cached as an installed package has it: with PYTHONDONTWRITEBYTECODE (set on some
    # machines) the warm-up writes no .pyc and every run recompiles the project's modules.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_") and k != "PYTHONDONTWRITEBYTECODE"}
    work = Path(tempfile.mkdtemp(prefix="preincub-startup-"))
    env["XDG_DATA_HOME"] = str(work)
    db = work / "demo.db"
    pre = _preincub()
    subprocess.run([*pre, "--db", str(db), "demo"], env=env, capture_output=True, check=True)

    click = timed([sys.executable, "-c", "import click"], runs, env)
    sqlmodel = timed([sys.executable, "-c", "import sqlmodel"], runs, env)
    rows = [
        ("preincub --help", timed([*pre, "--help"], runs, env), click, 2.0, 'import click'),
        ("preincub --version", timed([*pre, "--version"], runs, env), click, 2.0, 'import click'),
        ("preincub status --bogus (usage error)", timed([*pre, "status", "--bogus"], runs, env), click, 2.0,
         'import click'),
        ("preincub status (demo store)", timed([*pre, "--db", str(db), "--now", "2020-11-16", "status"], runs, env),
         sqlmodel, 1.3, 'import sqlmodel'),
        ("preincub status --json (demo store)",
         timed([*pre, "--db", str(db), "--now", "2020-11-16", "status", "--json"], runs, env), sqlmodel, None,
         'import sqlmodel'),
        # What every command that reads the store imports before any code of its own: the tables
        # (SQLModel) and the settings (pydantic-settings). No command can start faster than this.
        ("floor: import workflow.models, .settings", timed([sys.executable, "-c", FLOOR], runs, env), sqlmodel,
         None, 'import sqlmodel'),
    ]
    print(f"python -c 'import click'    {click * 1000:7.0f} ms")
    print(f"python -c 'import sqlmodel' {sqlmodel * 1000:7.0f} ms\n")
    print(f"{'command':40} {'median':>9} {'ratio':>7}  goal")
    for name, t, base, goal, base_name in rows:
        mark = "" if goal is None else "ok" if t / base <= goal else "OVER"
        target = f"<= {goal}x" if goal is not None else "   x"
        print(f"{name:40} {t * 1000:7.0f} ms {t / base:6.2f}x  {target} {base_name}  {mark}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
