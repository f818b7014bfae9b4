"""Start-up cost of the CLI, as ratios to bare imports measured in the same run.

    python benchmarks/startup.py [--runs 9] [--short] [--json FILE]

Short commands are dominated by imports: `--help`, `--version` and an unknown command import no
command module and no library module, and should cost about `python -c "import click"` (goal: at
most 2x). `status` on the demo store should cost at most 1.3x the floor: what any command reading
the store imports before its own code (the SQLModel tables and the pydantic-settings sections). Each
command is timed alternately with its base (A B A B...), so a machine that gets busier slows both
alike; the median of the per-round ratios is the figure, min and max show the spread. ``--short``:
only the three commands that open no store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Comparison, add_json_option, alternate, emit  # benchmarks/common.py

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


def alternated(a: list[str], b: list[str], runs: int, env: dict[str, str]) -> Comparison:
    """Wall times of ``a`` and ``b``, in seconds, run in turn (A B A B...) after one warm-up run of
    each (file cache, .pyc)."""
    return alternate(lambda: _once(a, env), lambda: _once(b, env), runs, warmup=1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--short", action="store_true", help="only the commands that open no store (no demo store)")
    add_json_option(ap)
    args = ap.parse_args(argv)
    runs = args.runs
    # Bytecode cached as an installed package has it: with PYTHONDONTWRITEBYTECODE (set on some
    # machines) the warm-up writes no .pyc and every run recompiles the project's modules.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_") and k != "PYTHONDONTWRITEBYTECODE"}
    work = Path(tempfile.mkdtemp(prefix="preincub-startup-"))
    env["XDG_DATA_HOME"] = str(work)
    db = work / "demo.db"
    pre = _preincub()
    if not args.short:
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
    out = []
    for name, cmd, base, base_name, goal in rows[:3] if args.short else rows:
        c = alternated(cmd, base, runs, env)
        out.append(c.named(name, baseline=base_name, target=None if goal is None else ("<=", goal)))
    shutil.rmtree(work)
    emit("startup", out, args.json)


if __name__ == "__main__":
    main()
