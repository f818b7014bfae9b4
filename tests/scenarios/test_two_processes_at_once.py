"""Two real processes firing at once: exactly one wins; the other is told to retry or refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ready_team, seed

# Each racer runs the real CLI, but pauses once it has read the team (advance's Transitions.read: on SQLite
# before its write transaction, on PostgreSQL inside it, before any lock or write) until the test says go,
# so both have read the same version before either writes.
RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from workflow.services.transitions import Transitions
    sync = Path(sys.argv[1]); me = sys.argv[2]
    def paused(real):
        def read(self, *args, **kwargs):
            got = real(self, *args, **kwargs)
            (sync / ("ready-" + me)).touch()
            t0 = time.monotonic()
            while not (sync / "go").exists():
                if time.monotonic() - t0 > 30:
                    sys.exit("no go")
                time.sleep(0.005)
            return got
        return read
    Transitions.read = paused(Transitions.read)
    import cli
    sys.argv = ["preincub", *sys.argv[3:]]
    cli.main()
""")


def race(tmp_path: Path, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    sync = tmp_path / "sync"
    sync.mkdir()
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    procs = [subprocess.Popen([sys.executable, str(script), str(sync), str(i), *cmd], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i, cmd in enumerate(commands)]
    deadline = time.monotonic() + 60
    while len(list(sync.glob("ready-*"))) < len(commands):
        assert time.monotonic() < deadline, "racers never got ready"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    (sync / "go").touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=60)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


@pytest.mark.slow
def test_same_team_same_time_exactly_one_wins(wf, db_url, tmp_path):
    seed(wf)
    ready_team(wf, "Insertion RSA")
    base = ["--db", db_url, "--now", "2020-07-06T09:00", "--as", "coord@example.org", "--lang", "en"]
    results = race(tmp_path, [*base, "advance", "Insertion RSA", "select"],
                   [*base, "advance", "Insertion RSA", "reject", "--reason", "Hors champ."])
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 3], [(r.returncode, r.stderr) for r in results]
    loser = next(r for r in results if r.returncode == 3)
    assert loser.stderr == "preincub: team 'Insertion RSA' changed meanwhile, retry\n"
    winner = results[0] if results[0].returncode == 0 else results[1]
    moves = [h for h in wf.transitions.history("Insertion RSA") if h.action == "advance"]
    assert [m.trigger for m in moves] == ["submit", "select" if winner is results[0] else "reject"]
    assert moves[-1].to == wf.teams.show("Insertion RSA").phase
    assert [p.end is None for p in wf.teams.show("Insertion RSA").phases].count(True) == 1


@pytest.mark.slow
def test_last_place_taken_once(wf, db_url, tmp_path):
    seed(wf, capacity=1)
    ready_team(wf, "A", 0)
    ready_team(wf, "B", 1)
    base = ["--db", db_url, "--now", "2020-07-06T09:00", "--lang", "en", "--as", "coord@example.org"]
    results = race(tmp_path, [*base, "advance", "A", "select"], [*base, "advance", "B", "select"])
    assert sorted(r.returncode for r in results) == [0, 1], [(r.returncode, r.stderr) for r in results]
    loser = next(r for r in results if r.returncode == 1)
    assert "programme full: 1 of 1 places taken" in loser.stderr
    assert wf.directory.programme("Pré-incubation 2020").places_taken == 1
