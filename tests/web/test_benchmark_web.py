"""benchmarks/web.py runs (tiny: two clients, two rounds of a fifth of a second) and measures /healthz
between the submissions' slices, not after them, printing each measure's median, min and max over the
rounds. Its numbers are not checked here: a benchmark is read by a person, never asserted in a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_the_web_benchmark_alternates_submissions_and_healthz(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    r = subprocess.run([sys.executable, "benchmarks/web.py", "--clients", "2", "--seconds", "0.4", "--rounds", "2",
                        "--teams", "2", "--pg", ""], capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "2 rounds of 0.2 s submitting then 0.2 s on /healthz" in r.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in r.stdout.splitlines()
            if line.startswith("SQLite ") and line.count("|") == 2}
    assert set(rows) == {"submission p50 ms", "submission p95 ms", "healthz p50 ms", "healthz p95 ms", "p95 ratio"}
    assert all(" (" in v and "–" in v for v in rows.values()), rows  # median (min–max)
    assert "| 2/2 teams | yes" in r.stdout  # each team's check-in stored once
