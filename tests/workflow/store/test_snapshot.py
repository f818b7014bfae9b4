"""An empty SQLite store made from the schema snapshot is the store the migrations make, and the snapshot
is current (``python -m workflow.store.migrations`` writes it again)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workflow.errors import StoreError
from workflow.store import engine as store_engine
from workflow.store import snapshot
from workflow.store.migrations import __main__ as regenerate
from workflow.store.engine import HEAD_REVISION, make_engine, open_store, upgrade


def schema_of(path: Path) -> dict:
    """Everything that makes a store's schema: sqlite_master in order, each table's columns, indexes (and
    their columns), foreign keys and rows, and the file's pragmas."""
    con = sqlite3.connect(path)
    try:
        master = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        out: dict = {"master": master}
        for type_, name, _tbl, _sql in master:
            if type_ != "table":
                continue
            q = name.replace('"', '""')
            out[f"columns {name}"] = con.execute(f'PRAGMA table_xinfo("{q}")').fetchall()
            out[f"foreign keys {name}"] = con.execute(f'PRAGMA foreign_key_list("{q}")').fetchall()
            indexes = con.execute(f'PRAGMA index_list("{q}")').fetchall()
            out[f"indexes {name}"] = sorted(indexes)
            for ix in indexes:
                out[f"index {ix[1]}"] = con.execute(f'PRAGMA index_xinfo("{ix[1]}")').fetchall()
            out[f"rows {name}"] = con.execute(f'SELECT * FROM "{q}" ORDER BY rowid').fetchall()
        for pragma in ("user_version", "application_id", "journal_mode", "encoding", "auto_vacuum", "page_size",
                       "foreign_keys"):
            out[pragma] = con.execute(f"PRAGMA {pragma}").fetchall()
        return out
    finally:
        con.close()


def by_migrations(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def test_a_new_store_from_the_snapshot_is_the_one_the_migrations_make(tmp_path):
    by_migrations(tmp_path / "migrated.db")
    open_store(str(tmp_path / "snap.db"), create=True).close()
    migrated, snap = schema_of(tmp_path / "migrated.db"), schema_of(tmp_path / "snap.db")
    assert [m[:2] for m in snap["master"]] == [m[:2] for m in migrated["master"]]
    assert snap == migrated
    assert any(m[0] == "trigger" for m in snap["master"])  # the audit trail's append-only triggers too
    assert snap["rows alembic_version"] == [(HEAD_REVISION,)]


def test_the_snapshot_is_current():
    """Adding a migration without writing the snapshot again fails here: run python -m workflow.store.migrations."""
    assert snapshot.SCRIPT.read_text(encoding="utf-8") == regenerate.generate()
    assert regenerate.main(["--check"]) == 0


def test_the_snapshot_is_used_and_alembic_is_not(tmp_path, monkeypatch):
    def no_alembic(*_a, **_k):
        raise AssertionError("Alembic ran for an empty SQLite store")

    monkeypatch.setattr(store_engine, "upgrade", no_alembic)
    store = open_store(str(tmp_path / "new.db"), create=True)
    with store.read() as s:
        assert s.connection().exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
    store.close()
    open_store(str(tmp_path / "new.db")).close()  # a store like any other


def test_a_snapshot_of_another_revision_is_not_used(tmp_path, monkeypatch):
    snapshot._script.cache_clear()
    monkeypatch.setattr(snapshot, "SCRIPT", tmp_path / "old.sql")
    (tmp_path / "old.sql").write_text(snapshot._FIRST_LINE.format(revision="0011") + "\nCREATE TABLE x (y);\n",
                                      encoding="utf-8")
    try:
        open_store(str(tmp_path / "a.db"), create=True).close()
        monkeypatch.setattr(snapshot, "SCRIPT", tmp_path / "missing.sql")
        snapshot._script.cache_clear()
        open_store(str(tmp_path / "b.db"), create=True).close()
    finally:
        snapshot._script.cache_clear()
    assert schema_of(tmp_path / "a.db") == schema_of(tmp_path / "b.db")
    by_migrations(tmp_path / "migrated.db")
    assert schema_of(tmp_path / "a.db") == schema_of(tmp_path / "migrated.db")


def test_a_failing_snapshot_leaves_nothing_half_made(tmp_path, monkeypatch):
    snapshot._script.cache_clear()
    text = snapshot.SCRIPT.read_text(encoding="utf-8")
    monkeypatch.setattr(snapshot, "SCRIPT", tmp_path / "bad.sql")
    (tmp_path / "bad.sql").write_text(text + "INSERT INTO nowhere VALUES (1);\n", encoding="utf-8")
    try:
        with pytest.raises(StoreError):
            open_store(str(tmp_path / "a.db"), create=True)
    finally:
        snapshot._script.cache_clear()
    con = sqlite3.connect(tmp_path / "a.db")
    try:
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    finally:
        con.close()


def test_an_older_store_is_still_upgraded_by_the_migrations(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine, "0011")
    finally:
        engine.dispose()
    open_store(str(path), create=True).close()
    by_migrations(tmp_path / "migrated.db")
    old, migrated = schema_of(path), schema_of(tmp_path / "migrated.db")
    assert old["rows alembic_version"] == [(HEAD_REVISION,)]
    assert old == migrated  # by the last migration, as before


@pytest.mark.parametrize("value", [None, 0, -7, 2**62, 1.5, -0.0, "", "it's", "é\n\x01", b"\x00\xff"])
def test_literals_read_back_as_written(value):
    con = sqlite3.connect(":memory:")
    try:
        got = con.execute(f"SELECT {snapshot._literal(value)}").fetchone()[0]
    finally:
        con.close()
    assert got == value and type(got) is type(value)
