"""Start-up cost of the CLI, as ratios to bare imports measured in the same run.

    python benchmarks/startup.py [--runs 9]

Short commands are dominated by imports: `--help`, `--version` and an unknown command import no
command module and no library module, and should cost about `python -c "import click"` (goal: at
most 2x). `status` on the demo store should cost at most 1.3x the floor: what any command reading
the store imports before its own code (the SQLModel tables and the pydantic-settings sections). Each
command is timed alternately with its base (A B A B...), so a machine that gets busier slows both
alike; the medians' ratio is the figure, min and max show the spread.
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
FLOOR = "import workflow.store.models, workflow.settings"
# The same modules without the package's __init__, which imports the whole facade (workflow.api): what
# the store's tables and the settings cost by themselves (measurement only: a stand-in package).
BARE_FLOOR = ("import sys, types; p = types.ModuleType('workflow'); p.__path__ = [%r]; sys.modules['workflow'] = p; "
              % str(HERE / "workflow") + FLOOR)


def _preincub() -> list[str]:
    beside = Path(sys.executable).parent / "preincub"
    exe = str(beside) if beside.exists() else shutil.which("preincub")
    return [exe] if exe else [sys.executable, "-c", "import cli; cli.main()"]


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, cwd=HERE)
    return time.perf_counter() - t0


def alternated(a: list[str], b: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall times of ``a`` and ``b``, in seconds, run in turn (A B A B...) after one warm-up run of
    each (file cache, .pyc)."""
    _once(a, env), _once(b, env)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        times[0].append(_once(a, env))
        times[1].append(_once(b, env))
    return times


def _spread(samples: list[float]) -> str:
    return (f"{statistics.median(samples) * 1000:6.0f} ms  (min {min(samples) * 1000:4.0f}, "
            f"max {max(samples) * 1000:4.0f})")


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

    click = [sys.executable, "-c", "import click"]
    floor = [sys.executable, "-c", FLOOR]
    store = [*pre, "--db", str(db), "--now", "2020-11-16"]
    rows = [  # (command, its base, the base's name, the goal for the ratio of the medians)
        ("preincub --help", [*pre, "--help"], click, "import click", 2.0),
        ("preincub --version", [*pre, "--version"], click, "import click", 2.0),
        ("preincub frobnicate (unknown command)", [*pre, "frobnicate"], click, "import click", 2.0),
        ("preincub status (demo store)", [*store, "status"], floor, "floor", 1.3),
        ("preincub status --json (demo store)", [*store, "status", "--json"], floor, "floor", None),
        # What every command that reads the store imports before any code of its own: the tables
        # (SQLModel) and the settings (pydantic-settings). No command can start faster than this.
        ("floor: " + FLOOR, floor, [sys.executable, "-c", "import sqlmodel"], "import sqlmodel", None),
        ("preincub status, to the floor without the facade", [*store, "status"], [sys.executable, "-c", BARE_FLOOR],
         "bare floor", None),
    ]
    print(f"{'command':44} {'median (min, max)':>28}   {'base':>28}  ratio  goal")
    for name, cmd, base, base_name, goal in rows:
        a, b = alternated(cmd, base, runs, env)
        ratio = statistics.median(a) / statistics.median(b)
        mark = "" if goal is None else "ok" if ratio <= goal else "OVER"
        target = f"<= {goal}x {base_name}" if goal is not None else f"   x {base_name}"
        print(f"{name:44} {_spread(a)}   {_spread(b)}  {ratio:4.2f}x  {target}  {mark}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
