"""The store through the real command: unsupported URLs, read-only stores, refused files left byte for
byte, a full disk, a file deleted under the daemon, private files (and the $EDITOR file), no password in
errors, and a user who may read the store but not write it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from cli_helpers import PROG, dump_hash, fails, foreign_sqlite, invoke, ok

import cli
from workflow.store import files as storefile

T = "Insertion RSA"  # in investigation, coached by julien.moreau@beta.example
COACH = "julien.moreau@beta.example"
COORDINATOR = "camille.lefebvre@beta.example"
READS = [["status"], ["status", "--json"], ["check", T], ["history", T], ["team", "list"], ["team", "show", T],
         ["programme", "list"], ["programme", "show", PROG], ["person", "list"], ["checkin", "list"],
         ["checkin", "gaps"], ["outbox", "list"], ["remind", "preview"]]
WRITES = [(["programme", "add", "X", "--signed-on", "2021-01-04"], COORDINATOR),
          (["advance", "Ouvrages d'art", "reject", "--reason", "hors champ"], COORDINATOR),
          (["checkin", "log", T, "--notes", "Entretiens"], COACH),
          (["remind", "run"], COORDINATOR), (["daemon", "--once"], COORDINATOR), (["daemon"], COORDINATOR),
          (["init"], None), (["demo"], None)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# ---- which URLs --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["mysql://x", "http://example.org/store", "sqlite://", "sqlite:///",
                                 "postgresql://u@h:abc/x", "no scheme here://x", "sqlite:///x.db?journal=off"])
@pytest.mark.parametrize("how", ["--db", "PREINCUB_DB"])
def test_an_unsupported_store_url_is_one_line_naming_the_supported_ones(url, how):
    # today: a ModuleNotFoundError traceback, "Can't load plugin", or "preincub:  est un dossier"
    r = invoke("status", lang="en", **({"db": url} if how == "--db" else {"env": {"PREINCUB_DB": url}}))
    line = fails(r, 1, "unsupported store", "an SQLite file path", "sqlite:///PATH", "postgresql://",
                 "postgresql+psycopg://")
    assert len(line) < 300
    fails(invoke("status", db=url), 1, "base non prise en charge", "sqlite:///CHEMIN")


def test_a_plain_path_with_a_query_string_is_refused_without_a_warning(demo_db):
    # today: a SAWarning on stderr, and the query string silently dropped
    before = sha(demo_db)
    fails(invoke("status", db=f"{demo_db}?mode=ro", lang="en"), 1, "a file path takes no ?options", "sqlite:///PATH")
    fails(invoke("status", env={"PREINCUB_DB": f"{demo_db}?mode=ro"}), 1, "sqlite:///CHEMIN")
    assert sha(demo_db) == before


# ---- read-only stores ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_every_read_command_works_on_a_read_only_store(demo_ro, args):
    before = sha(demo_ro)
    ok(invoke(*args, db=f"sqlite:///{demo_ro}?mode=ro"))
    assert sha(demo_ro) == before and beside(demo_ro) == ["demo.db"]


@pytest.mark.parametrize("args,actor", WRITES, ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_a_write_on_a_read_only_store_says_read_only(demo_ro, args, actor):
    before = sha(demo_ro)
    url = f"sqlite:///{demo_ro}?mode=ro"
    fails(invoke(*args, db=url, actor=actor, lang="en"), 1, "is read-only (opened with ?mode=ro)")
    fails(invoke(*args, db=url, actor=actor), 1, "est en lecture seule")
    assert sha(demo_ro) == before and beside(demo_ro) == ["demo.db"]


def _run_as_reader(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The real CLI as a user who may read the store but not write it: this user, or, for root (whom
    chmod does not stop), nobody through setpriv."""
    cmd = [sys.executable, "-c", "import sys, cli; sys.argv[0] = 'preincub'; cli.main()", *args]
    if os.geteuid() == 0:
        cmd = [shutil.which("setpriv") or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1",
           "PREINCUB_NOW": "2020-11-16", "PREINCUB_USER": COORDINATOR, "HOME": str(cwd),
           "PYTHONPATH": str(Path(cli.__file__).parent)}  # the code under test, whatever is installed
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_store_the_user_may_only_read(demo_template, what):
    """A read-only directory (no -wal/-shm can be created) or a read-only file: reads work, a write is
    refused in one line saying so; nothing is written, not even a -shm. Today: "unable to open database file"."""
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root, where chmod does not stop writes, and setpriv (util-linux) is missing")
    top = Path(tempfile.mkdtemp(prefix="preincub-ro-"))  # not under pytest's 0700 basetemp: nobody must reach it
    try:
        top.chmod(0o755)
        db = top / "demo.db"
        shutil.copy(demo_template, db)
        probe = _run_as_reader(top, "--version")
        if probe.returncode != 0:
            pytest.skip(f"cannot run Python as an unprivileged user here: {probe.stderr.strip()[-200:]}")
        if what == "file":
            if os.geteuid() == 0:
                os.chown(top, 65534, 65534)
                os.chown(db, 65534, 65534)
            db.chmod(0o400)  # private, and read-only even for its owner
        else:
            db.chmod(0o644)  # readable, owned by root (or, not as root, the directory is made read-only)
            if os.geteuid() != 0:
                top.chmod(0o555)
        before = sha(db)
        for args in (["status"], ["team", "show", T], ["history", T], ["checkin", "list"], ["status", "--json"]):
            r = _run_as_reader(top, "--db", str(db), *args)
            assert r.returncode == 0, (args, r.stderr)
            assert r.stderr == ""
        json.loads(r.stdout)
        r = _run_as_reader(top, "--db", str(db), "--lang", "en",
                           "programme", "add", "X", "--signed-on", "2021-01-04")
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "is read-only (no write permission on" in r.stderr, r.stderr
        assert sha(db) == before and beside(db) == ["demo.db"]
    finally:
        top.chmod(0o755)
        shutil.rmtree(top)


# ---- refused files are left byte for byte ----------------------------------------------------------

def test_a_foreign_sqlite_file_is_left_byte_for_byte(tmp_path):
    db = foreign_sqlite(tmp_path / "recettes.db")
    before = sha(db)
    for args in (["status"], ["init"], ["demo"], ["team", "list"]):
        fails(invoke(*args, db=db, lang="en"), 1, "tables that are not preincub's")
    assert sha(db) == before  # today: the journal switched to WAL, header bytes 19-20, 28 and 96 changed
    assert beside(db) == ["recettes.db"]


def test_an_empty_file_is_reported_empty_and_left_empty(tmp_path):
    db = tmp_path / "vide.db"
    db.touch()
    for args in (["status"], ["team", "list"], ["programme", "add", "X", "--signed-on", "2021-01-04"]):
        fails(invoke(*args, db=db), 1, "est vide", "preincub init")
        fails(invoke(*args, db=db, lang="en"), 1, "is empty", "preincub init")  # the CLI's hint, by code
    assert db.stat().st_size == 0 and beside(db) == ["vide.db"]  # today: a 4 KiB SQLite file
    ok(invoke("init", db=db))
    ok(invoke("status", db=db))


# ---- a full disk ------------------------------------------------------------------------------------

def test_a_full_disk_says_the_disk_is_full(demo_db, monkeypatch):
    """SQLITE_FULL through PRAGMA max_page_count (today the message is "disk I/O error" on a real full disk)."""
    real = storefile.sqlite_connect

    def capped(path, mode):
        con = real(path, mode)
        con.execute(f"PRAGMA max_page_count = {con.execute('PRAGMA page_count').fetchone()[0]}")
        return con

    monkeypatch.setattr(storefile, "sqlite_connect", capped)
    before = dump_hash(demo_db)
    notes = "Entretiens usagers. " * 1000
    fails(invoke("checkin", "log", T, "--notes", notes, db=demo_db, actor=COACH, lang="en"), 1,
          "the disk holding the store", "is full: free some space, then retry")
    fails(invoke("checkin", "log", T, "--notes", notes, db=demo_db, actor=COACH), 1, "est plein")
    assert dump_hash(demo_db) == before


# ---- the daemon's store deleted under it --------------------------------------------------------------

def test_the_daemon_stops_with_a_clear_error_when_its_store_is_deleted(demo_db, monkeypatch):
    """Today it keeps ticking into the unlinked file: "enqueued 0, sent 0"."""
    from apscheduler.triggers.interval import IntervalTrigger

    from workflow.services import daemon

    monkeypatch.setattr(daemon, "trigger", lambda cron: IntervalTrigger(seconds=1))

    def delete_once_ticking() -> None:
        for _ in range(300):
            con = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
            try:
                if con.execute("SELECT count(*) FROM daemon_lease").fetchone()[0]:
                    break
            except sqlite3.Error:
                pass
            finally:
                con.close()
            threading.Event().wait(0.1)
        demo_db.unlink()

    threading.Thread(target=delete_once_ticking, daemon=True).start()
    guard = threading.Timer(60, lambda: os.kill(os.getpid(), 15))  # a daemon that does not stop is stopped
    guard.start()
    try:
        r = invoke("daemon", db=demo_db, actor=COORDINATOR, lang="en", env={"PREINCUB_TICK_CRON": "0 0 1 1 *"})
    finally:
        guard.cancel()
    assert "Traceback" not in r.stderr
    assert r.exit_code == 1, (r.stdout, r.stderr)
    last = r.stderr.splitlines()[-1]
    assert last.startswith("preincub: ") and "was deleted or replaced while preincub was running" in last
    assert not demo_db.exists()


# ---- private files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_init_makes_a_private_store_and_data_directory(tmp_path, umask):
    data = tmp_path / "data" / "preincub"
    old = os.umask(umask)
    try:
        ok(invoke("init", env={"XDG_DATA_HOME": str(tmp_path / "data")}))
    finally:
        os.umask(old)
    assert stat.S_IMODE((data / "preincub.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and stat.S_IMODE(data.parent.stat().st_mode) == 0o700


@pytest.mark.filterwarnings("always::workflow.store.engine.StoreWarning")  # one process per command in real life
def test_a_store_open_to_others_gets_a_one_line_warning_and_json_stays_json(demo_db):
    ok(invoke("status", db=demo_db))
    assert invoke("status", db=demo_db).stderr == ""  # 0600: no warning
    demo_db.chmod(0o644)
    r = ok(invoke("status", "--json", db=demo_db, lang="en"))
    assert isinstance(json.loads(r.stdout), list)
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("preincub: warning: the store ") and f"chmod 600 {demo_db}" in r.stderr
    r = ok(invoke("team", "list", db=demo_db))
    assert r.stderr.startswith("preincub: avertissement\u00a0: la base ") and "(mode 0644)" in r.stderr


def test_the_editor_file_for_check_in_notes_is_private(demo_db, tmp_path, monkeypatch):
    """click.edit writes the notes to a tempfile.mkstemp file (0600 whatever the umask): prove it."""
    record = tmp_path / "mode"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\nstat -c %a "$1" > "{record}"\nprintf "Entretiens usagers\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setattr("commands.checkins._interactive", lambda: True)
    old = os.umask(0)
    try:
        ok(invoke("checkin", "log", T, db=demo_db, actor=COACH, env={"EDITOR": str(editor), "VISUAL": None}))
    finally:
        os.umask(old)
    assert record.read_text().strip() == "600"
    listed = ok(invoke("checkin", "list", "--team", T, "--json", db=demo_db)).stdout
    assert "Entretiens usagers" in listed


# ---- no password, anywhere ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgresql://user:secret@127.0.0.1:1/x", "postgresql+psycopg://user:secret@127.0.0.1:1/x",
                                 "postgresql://user:secret@127.0.0.1:abc/x", "mysql://user:secret@127.0.0.1/x"])
def test_no_password_in_a_store_error(url):
    for lang in ("en", "fr"):
        line = fails(invoke("status", db=url, lang=lang), 1)
        assert "secret" not in line and "***" in line


@pytest.mark.slow
def test_no_password_from_the_installed_command():
    exe = Path(sys.executable).with_name("preincub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    p = subprocess.run([str(exe), "--db", "postgresql://user:secret@127.0.0.1:1/x", "team", "list"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1 and p.stdout == "" and p.stderr.count("\n") == 1
    assert "secret" not in p.stderr and "user:***@127.0.0.1:1" in p.stderr
