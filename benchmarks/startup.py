"""Start-up cost of the CLI, as ratios to bare imports measured in the same run.

    python benchmarks/startup.py [--runs 9]

Short commands are dominated by imports: `--help`, `--version` and a usage error should cost about
`python -c "import click"` (goal: at most 2x), and `status` on the demo store about
`python -c "import sqlmodel"` (goal: at most 1.3x). Medians of whole processes, so the ratios hold
on a loaded machine better than the absolute times.
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
    ]
    print(f"python -c 'import click'    {click * 1000:7.0f} ms")
    print(f"python -c 'import sqlmodel' {sqlmodel * 1000:7.0f} ms\n")
    print(f"{'command':40} {'median':>9} {'ratio':>7}  goal")
    for name, t, base, goal, base_name in rows:
        mark = "ok" if t / base <= goal else "OVER"
        print(f"{name:40} {t * 1000:7.0f} ms {t / base:6.2f}x  <= {goal}x {base_name}  {mark}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
