"""The installed console script, run as a real process (entry point, exit codes, streams, colour)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import termios
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ANSI = re.compile(rb"\x1b\[")
COLOUR = re.compile(rb"\x1b\[[0-9;]*(?:3[0-9]|9[0-7])[;m]")  # a foreground colour SGR


def _exe() -> str:
    beside = Path(sys.executable).parent / "preincub"
    exe = str(beside) if beside.exists() else shutil.which("preincub")
    assert exe, "the preincub console script is not installed"
    return exe


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREINCUB_") and k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    env.update(extra)
    return env


def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([_exe(), *args], capture_output=True, text=True, env=_env(**extra), timeout=60)


def run_on_terminal(*args: str, stderr: bool = False, **extra: str) -> tuple[int, bytes]:
    """Run with stdout (and ``stderr``) on a pseudo-terminal, as a coordinator's shell would."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))  # 200 columns
    p = subprocess.Popen([_exe(), *args], stdout=slave, stderr=slave if stderr else subprocess.DEVNULL,
                         env=_env(TERM="xterm-256color", **extra))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=60), out


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("proc") / "démo store.db"
    p = run("--db", str(db), "demo")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"programme de démo 'Pré-incubation 2020' créé dans {db}")
    rows = [line for line in p.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 10
    assert any("Insertion RSA" in r and "Investigation" in r and "37" in r for r in rows)
    assert p.stderr == ""
    assert not ANSI.search(p.stdout.encode())  # not a terminal: no escapes
    return db


def test_demo_prints_the_table(demo_store):
    p = run("--db", str(demo_store), "demo", PREINCUB_LANG="en")
    assert p.returncode == 0, p.stderr
    assert "already there" in p.stdout and "Days left" in p.stdout and "Not selected" in p.stdout
    assert len([line for line in p.stdout.splitlines() if line.startswith("│")]) == 10


def test_errors_are_one_line_without_traceback(demo_store):
    p = run("--db", str(demo_store), "--now", "2020-11-16", "advance", "Insertion RSA", "incubate", "--reason", "x")
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("preincub: ") and "possibles\u00a0: present, abandon" in p.stderr
    p = run("--db", str(demo_store), "team", "show", "Nope", PREINCUB_LANG="en")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", "preincub: unknown team 'Nope' (see 'preincub team list')\n")
    p = run("--db", str(demo_store), "status", "--bogus")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--bogus" in p.stderr


def test_missing_store_via_env(tmp_path):
    db = tmp_path / "nowhere.db"
    p = run("status", PREINCUB_DB=str(db))
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "preincub init" in p.stderr
    assert not db.exists()


def test_colour_only_on_a_terminal_and_never_with_no_color(demo_store):
    args = ("--db", str(demo_store), "--now", "2020-12-20", "status")  # 3 days left: highlighted
    code, out = run_on_terminal(*args)
    assert code == 0 and b"Insertion RSA" in out
    assert COLOUR.search(out), "on a terminal the table should be coloured (sanity check of this test)"
    code, out = run_on_terminal(*args, NO_COLOR="1")
    assert code == 0 and b"Insertion RSA" in out
    assert not COLOUR.search(out)
    p = run(*args)
    assert p.returncode == 0 and not ANSI.search(p.stdout.encode())


def test_no_color_on_a_terminal_has_no_ansi_escapes(demo_store):
    code, out = run_on_terminal("--db", str(demo_store), "--now", "2020-12-20", "status", NO_COLOR="1")
    assert code == 0 and b"Insertion RSA" in out
    assert not ANSI.search(out), out[:200]


def test_demo_shows_a_progress_bar_on_a_terminal_only(tmp_path, demo_store):
    code, out = run_on_terminal("--db", str(tmp_path / "bar.db"), "demo", stderr=True)
    assert code == 0 and b"Insertion RSA" in out
    assert re.search(r"Construction de la démo.*\d+%".encode(), out), out[:300]  # rich's bar, drawn then cleared (transient)
    # Off a terminal (the demo_store fixture above): stderr stays empty, stdout has no escapes.


def test_hostile_text_from_the_store_cannot_drive_the_terminal(demo_store, tmp_path):
    import sqlite3

    db = Path(shutil.copy(demo_store, tmp_path / "hostile.db"))
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE team SET name = ? WHERE name = 'Insertion RSA'", ("RSA\x1b]0;pwned\x07\x1b[2J\u202e",))
    con.close()
    code, out = run_on_terminal("--db", str(db), "--now", "2020-11-16", "status")
    assert code == 0
    assert b"pwned" in out and b"\x1b]0;" not in out and b"\x1b[2J" not in out and "\u202e".encode() not in out
    assert b"RSA\\x1b]0;pwned\\x07\\x1b[2J\\u202e" in out


def test_help_is_french_by_default_and_english_with_lang_en():
    french = run("team", "--help")
    assert french.returncode == 0
    assert "Usage\u00a0: preincub team" in french.stdout and "Afficher ce message et quitter." in french.stdout
    assert "Commandes\u00a0:" in french.stdout and "Options\u00a0:" in french.stdout
    english = run("--lang", "en", "team", "--help")
    assert "Usage: preincub team" in english.stdout and "Show this message and exit." in english.stdout
    assert "Commands:" in english.stdout and "Options:" in english.stdout
    assert run("team", "--help", PREINCUB_LANG="en").stdout == english.stdout


def _interrupted_after(delay: float, *args: str) -> tuple[int, list[str]]:
    """Run ``preincub ARGS`` (standard input left open), send it SIGINT ``delay`` seconds after it began
    loading click, that is, once preincub's own code runs (a signal during the interpreter's own start-up,
    before any of it, is Python's: no program can print anything then). The sign is the interpreter's
    import log (PYTHONPROFILEIMPORTTIME), read as it comes and left out of the lines returned."""
    p = subprocess.Popen([_exe(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=_env(PYTHONPROFILEIMPORTTIME="1"))
    try:
        for line in p.stderr:
            if re.search(r"\|\s+click(\.|$)", line.rstrip()):
                break
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    return p.returncode, [line for line in err.splitlines() if not line.startswith("import time:")]


def test_ctrl_c_at_any_moment_of_the_start_up_is_one_line_and_exit_130(tmp_path):
    """While the modules load (before click's main runs), while a command's module loads, while the store
    opens, while the command waits for its standard input: always the one line and 130, never a traceback."""
    from workflow.api import Workflow

    db = tmp_path / "store.db"
    Workflow.open(str(db), create=True, actor="coord@example.org").close()
    for delay in (0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0):
        code, lines = _interrupted_after(delay, "--db", str(db), "checkin", "log", "Insertion RSA", "--notes", "-")
        assert (code, [line for line in lines if line]) == (130, ["preincub: interrompu"]), (delay, lines)
