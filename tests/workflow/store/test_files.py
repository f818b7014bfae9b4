"""The store as a user's file: supported URLs, refused files left byte for byte, read-only stores,
a full disk, a file deleted under a running process, private permissions, no password in errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import threading
import warnings
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import COORD
from workflow.api import Workflow
from workflow.errors import StoreError
from workflow.services.reminders import Reminders
from workflow.store import engine as store_db
from workflow.store import files as storefile
from workflow.store.engine import StoreWarning, open_store, resolve_url, translate


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store_file(tmp_path) -> Path:
    """A preincub store with one programme, closed (no -wal or -shm beside it)."""
    path = tmp_path / "store.db"
    w = Workflow.open(str(path), create=True, actor=COORD)
    w.directory.add_programme("P", date(2020, 6, 23))
    w.close()
    return path


# ---- which URLs --------------------------------------------------------------------------------

@pytest.mark.parametrize("db", ["mysql://x", "mysql://user:secret@host/x", "http://example.org/x", "sqlite://",
                                "sqlite:///", "sqlite:///:memory:", "postgresql://user:secret@host:::",
                                "not a url://x", "/tmp/store.db?mode=ro", "sqlite:////tmp/store.db?cache=shared",
                                "postgresql+psycopg2://u@h/x"])
def test_an_unsupported_store_url_says_which_are_supported(db):
    with pytest.raises(StoreError) as err:
        open_store(db)
    assert err.value.code == "unsupported_store"
    for text in (err.value.text("en"), err.value.text("fr")):
        assert "sqlite:///" in text and "postgresql://" in text and "postgresql+psycopg://" in text
        assert "secret" not in text
        assert len(text) < 300


def test_a_path_with_percent_signs_names_that_very_file(tmp_path):
    path = tmp_path / "a%20b.db"
    open_store(str(path), create=True).close()
    assert siblings(path) == ["a%20b.db"]
    open_store(str(path)).close()


# ---- a refused file is left as it was ----------------------------------------------------------

@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_foreign_sqlite_file_is_judged_before_any_write(tmp_path, journal):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode = {journal}")
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    before = sha(path)
    for create in (False, True):
        with pytest.raises(StoreError, match="not preincub's"):
            open_store(str(path), create=create)
    assert sha(path) == before  # today: PRAGMA journal_mode=WAL rewrote header bytes 19-20, 28 and 96
    assert siblings(path) == ["other.db"]  # no -wal, -shm or -journal left behind


def test_another_applications_alembic_database_is_foreign(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE alembic_version (version_num TEXT); INSERT INTO alembic_version VALUES ('ae1027a6');"
                      "CREATE TABLE invoices (id INTEGER PRIMARY KEY);")
    con.close()
    with pytest.raises(StoreError, match="not preincub's"):
        open_store(str(path), create=True)


@pytest.mark.filterwarnings("ignore::workflow.store.engine.StoreWarning")  # touch made it 0644
def test_an_empty_file_is_empty_and_stays_empty_until_init(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StoreError, match="is empty; initialise it first") as err:
        open_store(str(path))
    assert err.value.code == "store_empty" and "est vide" in err.value.text("fr")
    assert path.stat().st_size == 0 and siblings(path) == ["empty.db"]  # today: a 4 KiB SQLite file
    open_store(str(path), create=True).close()
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def test_a_file_with_an_sqlite_header_but_garbage_after_it(tmp_path):
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    before = sha(path)
    for create in (False, True):
        with pytest.raises(StoreError, match="not an SQLite database"):
            open_store(str(path), create=create)
    assert sha(path) == before


# ---- read-only stores ---------------------------------------------------------------------------

def test_a_store_opened_read_only_serves_reads_and_refuses_writes(store_file):
    before = sha(store_file)
    w = Workflow.open(f"sqlite:///{store_file}?mode=ro", actor=COORD)
    assert [p.name for p in w.directory.programmes()] == ["P"]
    assert w.store.read_only
    with pytest.raises(StoreError, match=r"is read-only \(opened with \?mode=ro\)") as err:
        w.directory.add_programme("Q", date(2021, 1, 4))
    assert err.value.text("fr").endswith("est en lecture seule (ouverte avec\u00a0?mode=ro)\u00a0: on peut la lire, "
                                          "pas la modifier")
    assert err.value.code == "read_only" and err.value.params["why"] == "opened with ?mode=ro"
    w.close()
    with pytest.raises(StoreError, match="read-only"):
        Workflow.open(f"sqlite:///{store_file}?mode=ro", actor=COORD, create=True)
    assert sha(store_file) == before
    assert siblings(store_file) == ["store.db"]


def test_a_store_this_process_cannot_write_is_opened_read_only(store_file, monkeypatch):
    """What a read-only file, directory or mount looks like from here (as root, chmod would not do)."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if m == os.W_OK else real(p, m))
    w = Workflow.open(str(store_file), actor=COORD)
    assert [p.name for p in w.directory.programmes()] == ["P"]
    with pytest.raises(StoreError, match="read-only .no write permission on the file"):
        w.directory.add_programme("Q", date(2021, 1, 4))
    w.close()


def test_a_read_only_error_from_the_database_itself_says_read_only(store_file):
    """Whatever slipped past the checks above (a mount turned read-only under us): SQLITE_READONLY."""
    store = open_store(str(store_file))
    with store.engine.connect() as c:
        c.exec_driver_sql("PRAGMA query_only = ON")  # the pooled connection now refuses every write
    with pytest.raises(StoreError, match="read-only"):
        with store.write() as s:
            s.execute(sa.text("INSERT INTO programme (name) VALUES ('x')"))
    store.close()


def test_a_read_only_transaction_on_postgresql_says_read_only(db_url):
    """A hot standby or a read-only role answers SQLSTATE 25006: the same one line as SQLite's."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only (SQLite: the test above)")
    store = open_store(db_url, create=True)
    with pytest.raises(StoreError, match="read-only .the database refused to write"):
        with store.write() as s:
            s.execute(sa.text("SET TRANSACTION READ ONLY"))
            s.execute(sa.text("INSERT INTO programme (name) VALUES ('x')"))
    store.close()


# ---- a full disk ---------------------------------------------------------------------------------

@pytest.fixture
def capped(monkeypatch):
    """Every SQLite connection limited to the pages the file has: SQLite answers SQLITE_FULL, as on a full disk."""
    real = storefile.sqlite_connect

    def connect(path, mode):
        con = real(path, mode)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return con

    monkeypatch.setattr(storefile, "sqlite_connect", connect)


def test_a_full_disk_is_called_a_full_disk(store_file, capped):
    w = Workflow.open(str(store_file), actor=COORD)
    with pytest.raises(StoreError, match="disk holding the store .* is full") as err:
        with w.store.write() as s:
            s.execute(sa.text("CREATE TABLE filler (x BLOB)"))
            s.execute(sa.text("INSERT INTO filler VALUES (randomblob(200000))"))
    assert "disque" in err.value.text("fr") and "plein" in err.value.text("fr") and err.value.code == "disk_full"
    assert [p.name for p in w.directory.programmes()] == ["P"]  # nothing half-written
    w.close()


def test_an_io_error_on_a_full_filesystem_is_a_full_disk(tmp_path, monkeypatch):
    """SQLite reports some ENOSPC as a plain "disk I/O error" (growing the -shm): look at the free space."""
    orig = sqlite3.OperationalError("disk I/O error")
    orig.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    exc = sa.exc.OperationalError("INSERT", {}, orig)
    url = f"sqlite:///{tmp_path}/s.db"
    monkeypatch.setattr(store_db, "_disk_full", lambda path: True)
    assert "is full" in str(translate(exc, url))
    monkeypatch.setattr(store_db, "_disk_full", lambda path: False)
    assert "disk I/O error" in str(translate(exc, url)) and "is full" not in str(translate(exc, url))


# ---- the file under a running process --------------------------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_check_file_notices_a_deleted_or_replaced_file(store_file, tmp_path, how):
    w = Workflow.open(str(store_file), actor=COORD)
    w.store.check_file()
    if how == "deleted":
        store_file.unlink()
    else:
        copy = tmp_path / "copy.db"
        shutil.copy(store_file, copy)
        os.replace(copy, store_file)
    with pytest.raises(StoreError, match="was deleted or replaced while preincub was running; restart"):
        w.store.check_file()
    with pytest.raises(StoreError, match="deleted or replaced"):  # and nothing is written into the old inode
        w.directory.add_programme("Q", date(2021, 1, 4))
    w.close()
    if how == "deleted":
        assert not store_file.exists()  # not recreated empty by a new connection


def test_the_daemon_stops_when_its_store_file_is_deleted(store_file, monkeypatch):
    """A real scheduled tick (every second here) finds the file gone: serve() raises, the CLI exits 1."""
    from apscheduler.triggers.interval import IntervalTrigger

    from workflow.services import daemon

    monkeypatch.setattr(daemon, "trigger", lambda cron: IntervalTrigger(seconds=1))
    w = Workflow.open(str(store_file), actor=COORD)
    first = threading.Event()
    real_tick = Reminders.tick

    def tick(self, *args, **kwargs):
        first.set()
        return real_tick(self, *args, **kwargs)

    monkeypatch.setattr(Reminders, "tick", tick)
    threading.Thread(target=lambda: first.wait(30) and store_file.unlink(), daemon=True).start()
    guard = threading.Timer(30, lambda: os.kill(os.getpid(), 15))  # never hang the suite: SIGTERM stops serve
    guard.start()
    try:
        with pytest.raises(StoreError, match="deleted or replaced"):
            daemon.serve(w)
    finally:
        guard.cancel()
        w.close()


# ---- private files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_store_files_and_data_dir_are_private_whatever_the_umask(tmp_path, monkeypatch, umask):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    old = os.umask(umask)
    try:
        w = Workflow.open(None, actor=COORD, create=True)
        w.directory.add_programme("P", date(2020, 6, 23))
        path = w.store.path
        assert path == tmp_path / "xdg" / "preincub" / "preincub.db"
        files = {p.name: mode(p) for p in path.parent.iterdir()}
        w.close()
    finally:
        os.umask(old)
    # the store and the web links' secret key (workflow/services/links.py), all private
    assert files == {"preincub.db": 0o600, "preincub.db-wal": 0o600, "preincub.db-shm": 0o600, "secret_key": 0o600}
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700  # every directory it created
    assert mode(path) == 0o600


def test_an_existing_directory_keeps_its_rights(tmp_path):
    tmp_path.chmod(0o755)
    open_store(str(tmp_path / "s.db"), create=True).close()
    assert mode(tmp_path) == 0o755


def test_a_store_open_to_others_gets_a_warning_and_a_private_one_none(store_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        open_store(str(store_file)).close()  # 0600: not a word
    store_file.chmod(0o644)
    with pytest.warns(StoreWarning, match=r"open to other users \(mode 0644\).*chmod 600") as got:
        open_store(str(store_file)).close()
    assert "chmod 600" in got[0].message.text("fr")


# ---- no password in any error -------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgresql://user:secret@127.0.0.1:1/x", "postgresql+psycopg://user:secret@127.0.0.1:1/x"])
def test_a_connection_error_never_shows_the_password(url):
    with pytest.raises(StoreError) as err:
        open_store(url)
    assert "secret" not in err.value.text("en") + err.value.text("fr")
    assert "user:***@127.0.0.1:1" in err.value.text("en")


def test_a_driver_message_quoting_the_password_is_scrubbed():
    err = store_db._guard_errors("postgresql+psycopg://u:hunter2@h/x", Exception('bad dsn "password=hunter2"'))
    assert "hunter2" not in err.text("en") + err.text("fr")
    assert resolve_url("postgresql://u:p@h/x") == "postgresql+psycopg://u:p@h/x"


def test_a_private_file_written_to_a_fifo_or_device_writes_through_it_never_replaces_it(tmp_path):
    """`-o /dev/null` or a named pipe: the data goes through it, and the device or pipe stays (a rename
    over it would have replaced /dev/null with a regular file, for every program on the machine)."""
    import stat
    import threading

    from workflow.store.files import write_private

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_private(fifo, b"rapport")
    reader.join(timeout=10)
    assert got == [b"rapport"] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert list(tmp_path.iterdir()) == [fifo]  # no temporary file left beside it
    regular = write_private(tmp_path / "r.md", b"x")
    assert stat.S_IMODE(regular.stat().st_mode) == 0o600
