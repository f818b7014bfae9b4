"""The benchmarks' shared harness: alternation, the comparison record and its one row format, and
the README generator (only the text between its markers replaced, idempotent)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts import it as `common`, as when run from benchmarks/

import common  # noqa: E402

from benchmarks import readme  # noqa: E402


def test_alternate_runs_measure_and_baseline_in_turn():
    calls: list[str] = []
    c = common.alternate(lambda: calls.append("A") or 2.0, lambda: calls.append("B") or 1.0, 3, warmup=1)
    assert calls == ["A", "B"] * 4
    assert c.a == (2.0, 2.0, 2.0) and c.b == (1.0, 1.0, 1.0)


def test_the_ratio_is_taken_round_by_round():
    c = common.Comparison((2.0, 6.0, 3.0), (1.0, 2.0, 3.0)).named("path", target=("<=", 2.0), baseline="raw")
    assert (c.ratio.median, c.ratio.min, c.ratio.max) == (2.0, 1.0, 3.0)
    assert c.measured.median == 3.0 and c.base.median == 2.0
    assert c.met is True
    assert c.row() == ("path: 3.00 s (2.00 s-6.00 s) vs 2.00 s (1.00 s-3.00 s): ratio 2.00 × (1.00-3.00), "
                       "target ≤ 2 ×: met  [baseline: raw]")
    assert common.Comparison((1.0,), (2.0,)).named("rate", unit="msg/s", target=(">=", 0.8)).met is False


def test_a_comparison_without_baseline_bounds_its_own_median():
    c = common.Comparison((4.0, 12.0, 5.0)).named("xlsx", target=("<=", 10.0))
    assert c.ratio is None and c.met is True
    assert c.as_dict()["baseline"] is None and c.as_dict()["target"] == "≤ 10.00 s"


def results(tmp_path: Path, median: float) -> Path:
    row = common.Comparison((median, median + 1), (1.0, 1.0)).named("enqueue | 10,000 teams", target=("<=", 5.0),
                                                                   baseline="raw").as_dict()
    p = tmp_path / "results.json"
    p.write_text(json.dumps({"date": "2026-12-07T01:00+00:00", "commit": "abc1234", "cpus": 2, "python": "3.11",
                             "load_before": [0.5, 0.4, 0.3], "load_after": [0.6, 0.5, 0.4], "rows": [row]}))
    return p


README = "# Title\n\n## Performance\n\nSome prose.\n\n<!-- benchmarks:start -->\nold table\n<!-- benchmarks:end -->\n\nWhy.\n"


def test_the_readme_table_is_regenerated_between_its_markers_only(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text(README, encoding="utf-8")
    assert readme.regenerate(results(tmp_path, 3.0), doc) is True
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split("<!-- benchmarks:start -->\n")
    block, tail = rest.split("<!-- benchmarks:end -->")
    assert head == README.split("<!-- benchmarks:start -->\n")[0] and tail == "\n\nWhy.\n"
    assert "old table" not in block and "commit abc1234" in block and "load average 0.5 0.4 0.3" in block
    assert "| enqueue \\| 10,000 teams | 3.50 s (3.00 s-4.00 s), 2 rounds | 1.00 s (1.00 s-1.00 s): raw | " \
           "3.50 × (3.00-4.00) | ≤ 5 × | yes |" in block
    assert readme.regenerate(results(tmp_path, 3.0), doc) is False  # idempotent
    assert doc.read_text(encoding="utf-8") == text
    readme.regenerate(results(tmp_path, 9.0), doc)
    assert "| **no** |" in doc.read_text(encoding="utf-8")


def test_the_checkouts_readme_has_the_markers():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.replace_block(text, "x").count("<!-- benchmarks:start -->") == 1


@pytest.mark.parametrize("text", ["no markers\n", "<!-- benchmarks:end -->\n<!-- benchmarks:start -->\n"])
def test_a_readme_without_its_markers_is_refused_in_one_line(tmp_path, text):
    doc = tmp_path / "README.md"
    doc.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "benchmarks.readme", str(results(tmp_path, 3.0)), "--readme", str(doc)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "markers" not in r.stdout
    assert r.stderr.startswith("error: the README needs exactly one <!-- benchmarks:start -->")
    assert doc.read_text(encoding="utf-8") == text
