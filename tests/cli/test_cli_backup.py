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
    assert r.stdout == f"store copied to '{copy}' ({copy.stat().st_size:,} bytes, schema 0008)\n"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and content_hash(copy) == dump_hash(demo_db)
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
    assert lines[1] in ("the copy is signed by this instance", "the copy is not signed")  # a key file, or none yet
    kept = Path(lines[2].split("kept in ", 1)[1])
    assert kept.name.startswith("demo.db.before-restore-") and dump_hash(kept) == before
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "Après la sauvegarde" not in programmes(demo_db) and dump_hash(demo_db) == content_hash(copy)
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
