"""Each benchmark script runs at 100 teams (or as small), prints its comparison rows and writes them as
valid JSON. The figures themselves are never asserted: a benchmark is read by a person, not a test
(``python -m benchmarks``); only that it runs and says what it compared."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each spawns real processes (the CLI, an SMTP server, a web server)
ROOT = Path(__file__).resolve().parents[2]

# script -> (its smallest arguments, how many comparisons it reports, a name one of them starts with)
SMOKE = {
    "startup": (["--runs", "1", "--short"], 3, "preincub --help"),
    "engine": (["--sizes", "100", "200", "--advances", "5", "--repeat", "1"], 5, "Workflow.teams.status()"),
    "reminders": (["--teams", "100", "--repeat", "1"], 3, "enqueue, 100 teams"),
    "checkins": (["--teams", "100", "--repeat", "1"], 2, "check-in gaps, 100 teams"),
    "backup": (["--teams", "100", "--repeat", "1"], 2, "export json, 100 teams"),
    "intake": (["--rows", "100", "--repeat", "1"], 2, "team import, 100 CSV rows"),
    "web": (["--clients", "2", "--seconds", "0.4", "--rounds", "2", "--teams", "2", "--pg", ""], 1,
            "web check-in submission p95"),
    "audit": (["--events", "100", "--repeat", "1"], 2, "audit verify"),
    "ds": (["--dossiers", "100", "--rounds", "1"], 1, "intake ds sync"),
}


def run(script: str, args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, f"benchmarks/{script}.py", *args, "--json", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return r, json.loads(out.read_text(encoding="utf-8"))


def test_every_script_has_a_smoke_test():
    assert {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"__init__", "__main__", "common", "readme"} \
        == set(SMOKE)


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_the_script_prints_its_rows_and_writes_them_as_json(script, tmp_path):
    args, count, first = SMOKE[script]
    r, doc = run(script, args, tmp_path)
    assert doc["script"] == script and len(doc["rows"]) == count, doc
    assert any(row["name"].startswith(first) for row in doc["rows"]), [row["name"] for row in doc["rows"]]
    for row in doc["rows"]:
        # the same row in the output as in the JSON: name, median and (when there is a baseline) a ratio
        line = next(x for x in r.stdout.splitlines() if x.strip().startswith(row["name"] + ":"))
        m = row["measured"]
        assert m["min"] <= m["median"] <= m["max"] and row["rounds"] >= 1
        if row["baseline"] is not None:
            assert row["ratio"]["min"] <= row["ratio"]["median"] <= row["ratio"]["max"]
            assert " vs " in line and "ratio" in line
        if row["target"] is not None:
            assert isinstance(row["met"], bool) and line.rstrip().split("  [")[0].endswith(
                ("met", "NOT MET"))
        else:
            assert row["met"] is None
