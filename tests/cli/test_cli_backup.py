"""`preincub backup FILE` and `preincub restore FILE` on real SQLite files: one line saying what was
done, --json, errors as one line with the store unchanged, and one run as real processes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import data, dump_hash, fails, foreign_sqlite, invoke, ok

from tests.conftest import PG_URL, pg_schema

PREINCUB = str(Path(sys.executable).with_name("preincub"))


def sha(path: Path) -> str:
    """The file's bytes, read without SQLite (a read-only SQLite reader leaves a -wal and -shm)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def programmes(db: Path) -> list[str]:
    return [p["name"] for p in data(invoke("programme", "list", "--json", db=db))]


def test_backup_prints_what_it_wrote_and_the_copy_is_private(demo_db, tmp_path):
    r = ok(invoke("backup", str(tmp_path / "copy.db"), db=demo_db, lang="en"))
    copy = tmp_path / "copy.db"
    assert r.stdout == f"store copied to '{copy}' ({copy.stat().st_size:,} bytes, schema 0008)\n"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and dump_hash(copy) == dump_hash(demo_db)
    got = data(invoke("backup", "--json", "--force", str(copy), db=demo_db))
    assert got == {"file": str(copy), "bytes": copy.stat().st_size, "schema": "0008"}


def test_backup_refuses_an_existing_file_without_force_the_store_itself_and_a_missing_directory(demo_db, tmp_path):
    (tmp_path / "there.db").write_text("keep")
    line = fails(invoke("backup", str(tmp_path / "there.db"), db=demo_db, lang="en"), 1, "already exists")
    assert line.endswith("(add --force to replace it)")
    assert (tmp_path / "there.db").read_text() == "keep"
    fails(invoke("backup", str(demo_db), db=demo_db, lang="en"), 1, "is the store itself")
    fails(invoke("backup", f"{demo_db}-wal", db=demo_db, lang="en"), 1, "is the store itself")
    fails(invoke("backup", str(tmp_path / "no" / "copy.db"), db=demo_db, lang="en"), 1, str(tmp_path / "no"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db", "there.db"]


def test_backup_is_for_coordinators(demo_db, tmp_path):
    fails(invoke("backup", str(tmp_path / "c.db"), db=demo_db, lang="en", actor="julien.moreau@beta.example"), 1,
          "coordinator")
    assert not (tmp_path / "c.db").exists()


def test_restore_round_trips_and_keeps_the_replaced_store(demo_db, tmp_path):
    copy = tmp_path / "copy.db"
    ok(invoke("backup", str(copy), db=demo_db))
    ok(invoke("programme", "add", "Après la sauvegarde", "--signed-on", "2020-11-01", db=demo_db))
    before = dump_hash(demo_db)
    r = ok(invoke("restore", str(copy), db=demo_db, lang="en"))
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"'{copy}' restored into {demo_db} (schema 0008, ")
    assert "audit events verified" in lines[0]
    kept = Path(lines[1].split("kept in ", 1)[1])
    assert kept.name.startswith("demo.db.before-restore-") and dump_hash(kept) == before
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "Après la sauvegarde" not in programmes(demo_db) and dump_hash(demo_db) == dump_hash(copy)
    ok(invoke("audit", "verify", db=demo_db))
    got = data(invoke("restore", "--json", "--no-keep", str(copy), db=demo_db))
    assert got["kept"] is None and got["schema"] == "0008" and got["source"] == str(copy) and got["events"] > 0
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
    line = fails(invoke("restore", str(copy), db=demo_db, lang="en"), 1, "cannot be restored, nothing was changed",
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
