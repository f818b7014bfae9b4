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

import cli
from workflow.store import files as storefile
from workflow.store.engine import HEAD_REVISION
from tests.conftest import PG_URL, pg_schema
from tests.cli_helpers import DEMO_TEAMS, PROG, data, dump_hash, fails, foreign_sqlite, invoke, ok

T = "Insertion RSA"  # in investigation, coached by julien.moreau@beta.example
COACH = "julien.moreau@beta.example"
COORDINATOR = "camille.lefebvre@beta.example"
READS = [["status"], ["status", "--json"], ["check", T], ["history", T], ["team", "list"], ["team", "show", T],
         ["programme", "list"], ["programme", "show", PROG], ["person", "list"], ["checkin", "list"],
         ["checkin", "gaps"], ["outbox", "list"], ["remind", "preview"]]
WRITES = [(["programme", "add", "X", "--signed-on", "2021-01-04"], COORDINATOR),
          (["advance", "Ouvrages d'art", "reject", "--reason", "hors champ"], COORDINATOR),
          (["checkin", "log", T, "--notes", "Entretiens"], COACH),
          (["remind", "run"], COORDINATOR), (["daemon", "--once"], None), (["daemon"], None),
          (["init"], None), (["demo"], None)]


def sha(path: Path) -> str:
    """The file's bytes, read without SQLite (a read-only SQLite reader leaves a -wal and -shm)."""
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
        r = invoke("daemon", db=demo_db, lang="en", env={"PREINCUB_TICK_CRON": "0 0 1 1 *"})
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


# `preincub backup FILE` and `preincub restore FILE` on real SQLite files: one line saying what was
# done, --json, errors as one line with the store unchanged, and one run as real processes.

PREINCUB = str(Path(sys.executable).with_name("preincub"))


def content_hash(db: Path) -> str:
    """dump_hash without the copy's signature (a table of the copy's own, dropped by restore)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        lines = [line for line in con.iterdump() if "preincub_copy_signature" not in line]
    finally:
        con.close()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def programmes(db: Path) -> list[str]:
    return [p["name"] for p in data(invoke("programme", "list", "--json", db=db))]


def test_backup_prints_what_it_wrote_and_the_copy_is_private(demo_db, tmp_path):
    r = ok(invoke("backup", str(tmp_path / "copy.db"), db=demo_db, lang="en"))
    copy = tmp_path / "copy.db"
    assert r.stdout == f"store copied to '{copy}' ({copy.stat().st_size:,} bytes, schema {HEAD_REVISION})\n"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and content_hash(copy) == dump_hash(demo_db)
    got = data(invoke("backup", "--json", "--force", str(copy), db=demo_db))
    assert got == {"file": str(copy), "bytes": copy.stat().st_size, "schema": HEAD_REVISION}


def test_backup_refuses_an_existing_file_without_force_the_store_itself_and_a_missing_directory(demo_db, tmp_path):
    (tmp_path / "there.db").write_text("keep")
    line = fails(invoke("backup", str(tmp_path / "there.db"), db=demo_db, lang="en"), 1, "already exists")
    assert line.endswith("(add --force to replace it)")
    assert (tmp_path / "there.db").read_text() == "keep"
    fails(invoke("backup", str(demo_db), db=demo_db, lang="en"), 1, "is the store itself")
    fails(invoke("backup", f"{demo_db}-wal", db=demo_db, lang="en"), 1, "is the store itself")
    fails(invoke("backup", str(tmp_path / "no" / "copy.db"), db=demo_db, lang="en"), 1, str(tmp_path / "no"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db", "there.db"]


def test_backup_is_for_instance_administrators(demo_db, tmp_path):
    for who in ("julien.moreau@beta.example", "camille.lefebvre@beta.example"):  # a coach; a programme's coordinator
        fails(invoke("backup", str(tmp_path / "c.db"), db=demo_db, lang="en", actor=who), 1,
              "act as an instance administrator")
    assert not (tmp_path / "c.db").exists()


def test_restore_round_trips_and_keeps_the_replaced_store(demo_db, tmp_path):
    copy = tmp_path / "copy.db"
    ok(invoke("backup", str(copy), db=demo_db))
    ok(invoke("programme", "add", "Après la sauvegarde", "--signed-on", "2020-11-01", db=demo_db))
    before = dump_hash(demo_db)
    r = ok(invoke("restore", str(copy), db=demo_db, lang="en"))
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"'{copy}' restored into {demo_db} (schema {HEAD_REVISION}, ")
    assert "audit events verified" in lines[0]
    assert lines[1] in ("the copy is signed by this instance", "the copy is not signed")  # a key file, or none yet
    kept = Path(lines[2].split("kept in ", 1)[1])
    assert kept.name.startswith("demo.db.before-restore-") and dump_hash(kept) == before
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "Après la sauvegarde" not in programmes(demo_db) and dump_hash(demo_db) == content_hash(copy)
    ok(invoke("audit", "verify", db=demo_db))
    got = data(invoke("restore", "--json", "--no-keep", str(copy), db=demo_db))
    assert got["kept"] is None and got["schema"] == HEAD_REVISION and got["source"] == str(copy) and got["events"] > 0
    assert {p.name for p in tmp_path.iterdir()} - {"demo.db-wal", "demo.db-shm", "copy.db-wal", "copy.db-shm"} == {
        "copy.db", "demo.db", kept.name}  # (the read-only readers of dump_hash leave a -wal and -shm)


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_text("a,b\n1,2\n"), "not an SQLite database"),
    (foreign_sqlite, "not preincub's"),
])
def test_restore_refuses_a_file_that_is_no_copy_in_one_line(demo_db, tmp_path, make, words):
    bad = tmp_path / "bad.db"
    make(bad)
    before = sha(demo_db)
    fails(invoke("restore", str(bad), db=demo_db, lang="en"), 1, words)
    assert sha(demo_db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "demo.db"]


def test_restore_of_a_tampered_copy_names_the_broken_link(demo_db, tmp_path):
    copy = tmp_path / "copy.db"
    ok(invoke("backup", str(copy), db=demo_db))
    con = sqlite3.connect(copy)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE event SET reason = 'réécrit' WHERE id = 5")
    con.commit()
    con.close()
    before = sha(demo_db)
    line = fails(invoke("restore", str(copy), db=demo_db, lang="en"), 1, "copy.db' cannot be restored: ",
                 "audit trail is broken at event #5")
    assert line.endswith("shows the same)")
    assert sha(demo_db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "demo.db"]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set PREINCUB_TEST_DATABASE_URL")
def test_on_postgresql_backup_and_restore_say_what_to_use_instead(tmp_path, demo_db):
    for url in pg_schema():
        ok(invoke("init", db=url))
        fails(invoke("backup", str(tmp_path / "c.db"), db=url, lang="en"), 1, "PostgreSQL", "pg_dump",
              "export json")
        fails(invoke("restore", str(demo_db), db=url, lang="en"), 1, "PostgreSQL", "import-all")
    assert not (tmp_path / "c.db").exists()


def test_backup_and_restore_as_real_processes(demo_db, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PREINCUB, "--db", str(demo_db), "--lang", "en", *args], env=env, capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)

    r = run("backup", "--json", "copy.db")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert json.loads(r.stdout)["file"] == "copy.db"
    r = run("restore", "--no-keep", "copy.db")
    assert r.returncode == 0 and "restored into" in r.stdout, r.stderr
    r = run("restore", str(demo_db))
    assert r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "demo.db"]


HERE, ELSEWHERE = {"PREINCUB_SECRET_KEY": "k" * 48}, {"PREINCUB_SECRET_KEY": "y" * 48}


def test_a_signed_copy_is_still_a_store_and_restore_says_where_it_comes_from(demo_db, tmp_path):
    copy = tmp_path / "copy.db"
    ok(invoke("backup", str(copy), db=demo_db, env=HERE))
    check = tmp_path / "check.db"
    check.write_bytes(copy.read_bytes())
    ok(invoke("status", db=check, lang="en", env=HERE))  # the signature's table is no model table
    assert "audit trail intact" in ok(invoke("audit", "verify", db=check, lang="en", env=HERE)).stdout
    r = ok(invoke("restore", "--no-keep", "--require-signature", str(copy), db=demo_db, lang="en", env=HERE))
    assert r.stdout.splitlines()[1] == "the copy is signed by this instance"
    got = data(invoke("restore", "--json", "--no-keep", str(copy), db=demo_db, env=ELSEWHERE))
    assert got["origin"] == "other"
    r = ok(invoke("restore", "--no-keep", str(copy), db=demo_db, lang="en", env=ELSEWHERE))
    assert r.stdout.splitlines()[1] == ("the copy is signed, but not by this instance: another instance's, or "
                                        "changed since")
    before = sha(demo_db)
    fails(invoke("restore", "--require-signature", str(copy), db=demo_db, lang="en", env=ELSEWHERE), 1,
          "this backup is not signed by this instance (signed, but not by this instance", "nothing was restored")
    assert sha(demo_db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["check.db", "copy.db", "demo.db"]


def test_a_read_only_store_is_not_restored_and_its_backup_writes_nothing_beside_it(demo_db, tmp_path):
    ro = f"sqlite:///{demo_db}?mode=ro"
    ok(invoke("backup", str(tmp_path / "copy.db"), db=ro))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "demo.db"]  # no demo.db-wal, -shm
    before = sha(demo_db)
    fails(invoke("restore", str(tmp_path / "copy.db"), db=ro, lang="en"), 1,
          f"the store {demo_db} is read-only (opened with ?mode=ro)")
    assert sha(demo_db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "demo.db"]


def test_backup_refuses_a_directory_name_and_restore_points_a_json_backup_to_import_all(demo_db, tmp_path):
    fails(invoke("backup", f"{tmp_path}/x.db/", db=demo_db, lang="en"), 1, "x.db/' is not a regular file; give a "
                                                                           "file name")
    backup = tmp_path / "b.json"
    ok(invoke("export", "json", "-o", str(backup), db=demo_db))
    fails(invoke("restore", str(backup), db=demo_db, lang="en"), 1, "is a JSON backup",
          f"preincub --db NEW.db import-all '{backup}'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "demo.db"]


def test_a_refused_copy_names_its_cause_whole_in_french(demo_db, tmp_path, monkeypatch):
    """The head is short: the audit trail's own sentence fits in the line with the hint (MAX_ERROR)."""
    ok(invoke("backup", str(tmp_path / "c.db"), db=demo_db))
    con = sqlite3.connect(tmp_path / "c.db")
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE event SET reason = 'réécrit' WHERE id = 5")
    con.commit()
    con.close()
    monkeypatch.chdir(tmp_path)
    line = fails(invoke("restore", "c.db", db=demo_db, lang="fr"), 1, "'c.db' ", "n°\u00a05")
    assert "(elle a été modifiée) (" in line and "…" not in line, line


def test_demo_on_a_fresh_store_prints_the_status_of_ten_teams(tmp_path):
    db = tmp_path / "fresh.db"
    r = ok(invoke("demo", db=db, now=None))
    assert r.stdout.startswith(f"programme de démo {PROG!r} créé dans {db}")
    for name in DEMO_TEAMS:
        assert name in r.stdout
    # The table's rows: one per team, French labels by default, as of the demo's own day.
    assert f"{PROG} — 2020-11-16" in r.stdout
    for label in ("Équipe", "Collectivité", "Phase", "Depuis", "Jours restants", "Non sélectionnée",
                  "Abandonnée", "Incubée", "Comité stratégique", "Décision d'incubation", "Appel à projets"):
        assert label in r.stdout
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("│")) == 10
    assert "(au 16 novembre 2020\u00a0; ajoutez --now 2020-11-16 aux commandes suivantes" in r.stdout
    assert r.stderr == ""


def test_demo_twice_says_already_there_and_does_not_duplicate(demo_db):
    before = dump_hash(demo_db)
    r = ok(invoke("demo", db=demo_db))
    assert r.stdout.startswith(f"programme de démo {PROG!r} déjà présent")
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("│")) == 10
    assert dump_hash(demo_db) == before
    assert len(data(invoke("status", "--json", db=demo_db))) == 10  # whoever ran it coordinates seed 1 only
    assert [p["name"] for p in data(invoke("programme", "list", "--json", db=demo_db))] == [
        "FAST Trait d'union 2019", PROG]  # the administrator lists both; seed 2's has its own coordinator
    assert len(data(invoke("person", "list", "--role", "intrapreneur", "--json", db=demo_db))) == 11
    fast = data(invoke("status", "--json", db=demo_db, actor="nadia.perrin@beta.example"))
    assert [(r["name"], r["phase"]) for r in fast] == [("Trait d'union", "incubated")]


def test_demo_json_is_the_status(demo_ro):
    rows = data(invoke("demo", "--json", db=demo_ro))
    assert rows == data(invoke("status", "--json", db=demo_ro))
