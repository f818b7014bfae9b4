"""The store's file under running processes: replaced under a real daemon (its stale -wal must never
meet the new file), copied while in use (``backup``), and put back safely (``restore``): checked
first, refused while in use, the replaced store kept, nothing left behind on a failure."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import COORD
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import StoreError
from workflow.formats import backup
from workflow.store.copies import SIGNATURE_TABLE
from workflow.store.engine import HEAD_REVISION
from workflow.store.lease import RELEASED
from workflow.clock import PARIS
from workflow.errors import Forbidden, Invalid, StoreWarning

ROOT = Path(__file__).resolve().parents[3]
PREINCUB = str(Path(sys.executable).with_name("preincub"))
DEMO_NOW = datetime(2020, 11, 16, 9, 30, tzinfo=PARIS)  # the demo's day: reminders are due
DEMO_COORD = "camille.lefebvre@beta.example"


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path) -> str:
    """The SQL text of a store (read-only, immutable: nothing written beside it)."""
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def content(path: Path, *without: str) -> str:
    """The store's SQL text without the copy's signature (a copy's own table, dropped by restore) and
    without the tables ``without``."""
    skip = (SIGNATURE_TABLE, *without)
    return "\n".join(line for line in dump(path).splitlines()
                     if not any(f'TABLE {t} ' in line or f'INTO "{t}"' in line for t in skip))


def integrity(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def programmes(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM programme"))
    finally:
        con.close()


def make_store(path: Path, *names: str) -> Path:
    """A closed store (no -wal or -shm beside it) with these programmes, COORD its coordinator."""
    w = Workflow.open(str(path), create=True, actor=COORD, clock=FixedClock(DEMO_NOW))
    for n in names:
        w.directory.add_programme(n, date(2020, 6, 23))
    w.close()
    assert siblings(path).count(path.name) == 1 and not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    from workflow import demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    w = Workflow.open(str(path), create=True, actor=DEMO_COORD, clock=FixedClock(DEMO_NOW))
    demo.build(w)
    w.close()
    return path


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    e.update(PYTHONPATH=str(ROOT), **extra)  # this tree's code, whichever tree the tests run from
    return e


def preincub(db: Path, *args: str, actor: str = DEMO_COORD, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([PREINCUB, "--db", str(db), "--as", actor, "--lang", "en", "--now", "2020-11-16T09:30",
                           *args], env=env(), capture_output=True, text=True, timeout=timeout, cwd=db.parent)


DAEMON_NOW = datetime(2020, 11, 16, 9, 30, tzinfo=PARIS)  # the daemons' clock: its lease is stamped on it


def start_daemon(db: Path, tmp_path: Path, name: str = "daemon") -> tuple[subprocess.Popen, Path]:
    err = tmp_path / f"{name}.err"
    with open(err, "w") as f:
        p = subprocess.Popen([PREINCUB, "--db", str(db), "--as", DEMO_COORD, "--lang", "en", "--now",
                              DAEMON_NOW.isoformat(timespec="minutes")[:16], "daemon", "--console"],
                             env=env(PREINCUB_TICK_CRON="* * * * *"), stdout=subprocess.DEVNULL, stderr=f,
                             cwd=tmp_path)
    end = time.monotonic() + 60
    while "tick: enqueued" not in err.read_text():
        assert p.poll() is None, f"the daemon exited {p.returncode}: {err.read_text()}"
        assert time.monotonic() < end, err.read_text()
        time.sleep(0.05)
    return p, err


@pytest.fixture
def procs():
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


# ---- the file replaced under a running process ---------------------------------------------------------

@pytest.mark.slow
def test_replacing_the_file_under_a_running_daemon_leaves_the_new_store_intact(demo_file, tmp_path, procs):
    """What testers did: `preincub daemon &`, then `cp other.db x && mv x r.db`. The daemon stops within
    seconds (its watch, between ticks) and takes its -wal and -shm with it: the new file is intact."""
    store = tmp_path / "r.db"
    shutil.copy(demo_file, store)
    other = make_store(tmp_path / "other.db", "Autre programme")
    p, err = start_daemon(store, tmp_path)
    procs.append(p)
    assert Path(f"{store}-wal").stat().st_size > 0  # the tick's writes are in the WAL
    shutil.copy(other, tmp_path / "x")
    os.replace(tmp_path / "x", store)
    assert p.wait(20) == 1
    lines = [line for line in err.read_text().splitlines() if line.startswith("preincub: ")]
    assert len(lines) == 1 and "deleted or replaced" in lines[0], err.read_text()
    assert "r.db-wal" not in siblings(store) and "r.db-shm" not in siblings(store)  # the old file's are gone
    assert integrity(store) == ["ok"]
    assert programmes(store) == ["Autre programme"]
    r = preincub(store, "status", actor=COORD)
    assert r.returncode == 0 and "damaged" not in r.stdout + r.stderr, r.stderr
    assert integrity(store) == ["ok"] and programmes(store) == ["Autre programme"]


def test_the_daemon_watch_stops_it_between_ticks(tmp_path, monkeypatch):
    """No tick due for a year: the watch job alone notices the replaced file, within seconds."""
    from workflow.services import daemon

    store = make_store(tmp_path / "r.db", "P")
    other = make_store(tmp_path / "other.db", "Q")
    monkeypatch.setenv("PREINCUB_TICK_CRON", "0 0 1 1 *")
    from workflow.settings import Settings

    w = Workflow.open(str(store), actor=COORD, settings=Settings.from_env())
    started = time.monotonic()
    threading.Timer(1, lambda: (shutil.copy(other, tmp_path / "x"), os.replace(tmp_path / "x", store))).start()
    guard = threading.Timer(30, lambda: os.kill(os.getpid(), signal.SIGTERM))
    guard.start()
    try:
        with pytest.raises(StoreError, match="deleted or replaced") as err:
            daemon.serve(w, console=True)
    finally:
        guard.cancel()
        w.close()
    assert err.value.code == "store_replaced" and time.monotonic() - started < 15
    assert siblings(store) == ["other.db", "r.db"] and programmes(store) == ["Q"]


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_process_lets_go_of_a_replaced_file_even_with_a_connection_in_use(tmp_path, how):
    """A connection checked out when the file is found replaced is closed when given back; the old -wal
    and -shm are removed; every later use is refused, and no new connection reaches the new file."""
    store = make_store(tmp_path / "r.db", "P")
    other = make_store(tmp_path / "other.db", "Q")
    w = Workflow.open(str(store), actor=COORD)
    for i in range(20):
        w.directory.add_programme(f"P{i}", date(2020, 6, 23))
    assert Path(f"{store}-wal").stat().st_size > 0
    in_use, go, done = threading.Event(), threading.Event(), threading.Event()

    def reader() -> None:
        with w.store.read() as s:
            s.connection().exec_driver_sql("SELECT count(*) FROM programme").scalar()
            in_use.set()
            go.wait(10)
        done.set()

    threading.Thread(target=reader).start()
    assert in_use.wait(10)
    if how == "deleted":
        store.unlink()
    else:
        shutil.copy(other, tmp_path / "x")
        os.replace(tmp_path / "x", store)
    with pytest.raises(StoreError, match="deleted or replaced"):
        w.store.check_file()
    go.set()
    assert done.wait(10)
    assert w.store.engine.pool.checkedout() == 0
    for use in (w.directory.programmes, lambda: w.directory.add_programme("Z", date(2020, 6, 23)), w.store.check_file):
        with pytest.raises(StoreError, match="deleted or replaced"):
            use()
    w.close()
    assert not any(n.startswith("r.db-") for n in siblings(store))
    if how == "replaced":
        assert integrity(store) == ["ok"] and programmes(store) == ["Q"]
    else:
        assert not store.exists()


# ---- backup ----------------------------------------------------------------------------------------------

def test_a_backup_of_a_store_being_written_is_a_consistent_private_self_contained_file(tmp_path):
    store = make_store(tmp_path / "r.db", "P")
    w = Workflow.open(str(store), actor=COORD)
    writer = Workflow.open(str(store), actor=COORD)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            writer.directory.add_programme(f"W{i}", date(2020, 6, 23))
            i += 1
            written.append(i)

    t = threading.Thread(target=write)
    old = os.umask(0o022)
    try:
        t.start()
        while len(written) < 5:
            time.sleep(0.01)
        rec = w.backup.copy(tmp_path / "copy.db")
    finally:
        os.umask(old)
        stop.set()
        t.join(30)
        w.close()
        writer.close()
    copy = tmp_path / "copy.db"
    assert rec.file == str(copy) and rec.bytes == copy.stat().st_size and rec.schema == HEAD_REVISION
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not any(n.startswith("copy.db-") or n.endswith(".tmp") for n in siblings(copy))  # no -wal beside it
    assert integrity(copy) == ["ok"]
    names = programmes(copy)
    assert 5 <= len(names) - 1 <= len(written) and names == sorted(["P", *(f"W{i}" for i in range(len(names) - 1))])
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_backup_refuses_the_store_itself_an_existing_file_and_a_missing_directory(tmp_path):
    store = make_store(tmp_path / "r.db", "P")
    w = Workflow.open(str(store), actor=COORD)
    try:
        for target in (store, f"{store}-wal", f"{store}-shm", f"{store}-journal", tmp_path / "." / "r.db"):
            with pytest.raises(Invalid, match="is the store itself") as err:
                w.backup.copy(target)
            assert err.value.code == "copy_is_the_store"
        (tmp_path / "there.db").write_bytes(b"keep me")
        with pytest.raises(Invalid, match="already exists"):
            w.backup.copy(tmp_path / "there.db")
        assert (tmp_path / "there.db").read_bytes() == b"keep me"
        w.backup.copy(tmp_path / "there.db", force=True)
        assert programmes(tmp_path / "there.db") == ["P"]
        with pytest.raises(OSError) as os_err:
            w.backup.copy(tmp_path / "missing" / "copy.db")
        assert os_err.value.filename == str(tmp_path / "missing" / "copy.db")
        with pytest.raises(Invalid, match="not a regular file"):
            w.backup.copy(tmp_path)
    finally:
        w.close()
    assert siblings(store) == ["r.db", "there.db"]


def test_backup_is_for_instance_administrators(tmp_path):
    """A copy holds every programme's data: a coordinator of one programme may not make it (nor a coach)."""
    store = make_store(tmp_path / "r.db", "P", "Q")
    w = Workflow.open(str(store), actor=COORD)
    w.directory.add_person("Coach", "coach@example.org", ["coach"])
    w.directory.add_person("Coord P", "coordp@example.org", ["coordinator"], programme="P")
    try:
        for who in ("coach@example.org", "coordp@example.org"):
            with pytest.raises(Forbidden, match="instance administrator") as caught:
                w.acting_as(who).backup.copy(tmp_path / "copy.db")
            assert caught.value.code == "admin_needed"
            with pytest.raises(Forbidden, match="instance administrator"):
                w.acting_as(who).dump.export()
    finally:
        w.close()
    assert not (tmp_path / "copy.db").exists()
    w = Workflow.open(str(store), actor=COORD)
    try:
        copy = w.backup.copy(tmp_path / "copy.db")  # the administrator (COORD, the first person) may
    finally:
        w.close()
    with pytest.raises(StoreError, match="cannot be restored") as caught:
        backup.restore(str(store), copy.file, actor="coordp@example.org")
    assert "instance administrator" in str(caught.value)


def test_backup_and_restore_refuse_postgresql(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    w = Workflow.open(db_url, actor=COORD, create=True)
    try:
        with pytest.raises(StoreError) as err:
            w.backup.copy(tmp_path / "copy.db")
        assert err.value.code == "backup_not_sqlite"
    finally:
        w.close()
    copy = make_store(tmp_path / "c.db", "P")
    with pytest.raises(StoreError) as err:
        backup.restore(db_url, copy, actor=COORD)
    assert err.value.code == "restore_not_sqlite" and not (tmp_path / "copy.db").exists()


# ---- restore ---------------------------------------------------------------------------------------------

@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    """The store (programme "Now") and a backup of an earlier day (programme "Then"), both closed."""
    store = make_store(tmp_path / "r.db", "Then")
    w = Workflow.open(str(store), actor=COORD)
    w.backup.copy(tmp_path / "copy.db")
    w.directory.add_programme("Now", date(2020, 9, 1))
    w.close()
    return store, tmp_path / "copy.db"


def test_restore_puts_the_copy_back_and_keeps_the_replaced_store(pair):
    store, copy = pair
    before = dump(store)
    rec = backup.restore(str(store), copy, actor=COORD)
    assert programmes(store) == ["Then"] and dump(store) == content(copy)
    assert SIGNATURE_TABLE in dump(copy) and SIGNATURE_TABLE not in dump(store)
    kept = Path(rec.kept)
    assert kept.name.startswith("r.db.before-restore-") and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert dump(kept) == before
    assert rec.events >= 1 and rec.schema == HEAD_REVISION and rec.upgraded_from is None
    assert siblings(store) == sorted(["copy.db", "r.db", kept.name])
    w = Workflow.open(str(store), actor=COORD)
    assert w.audit.verify().events == rec.events
    w.close()


def test_restore_without_keeping_and_into_a_new_file(pair, tmp_path):
    store, copy = pair
    assert backup.restore(str(store), copy, actor=COORD, keep=False).kept is None
    assert siblings(store) == ["copy.db", "r.db"]
    fresh = tmp_path / "sub" / "new.db"
    rec = backup.restore(str(fresh), copy, actor=COORD)
    assert rec.kept is None and programmes(fresh) == ["Then"] and stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_restore_round_trips_a_backup_taken_while_the_daemon_runs(demo_file, tmp_path, procs):
    store = tmp_path / "r.db"
    shutil.copy(demo_file, store)
    p, err = start_daemon(store, tmp_path)
    procs.append(p)
    w = Workflow.open(str(store), actor=DEMO_COORD)
    try:
        w.backup.copy(tmp_path / "copy.db")
    finally:
        w.close()
    assert p.poll() is None  # the daemon kept running
    with pytest.raises(StoreError, match=r"the daemon .* holds the store") as refused:
        backup.restore(str(store), tmp_path / "copy.db", actor=DEMO_COORD, clock=FixedClock(DAEMON_NOW))
    assert refused.value.code == "daemon_running"
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 0
    rec = backup.restore(str(store), tmp_path / "copy.db", actor=DEMO_COORD)
    assert content(store, "daemon_lease") == content(tmp_path / "copy.db", "daemon_lease")
    assert integrity(store) == ["ok"]
    assert Path(rec.kept).exists()
    r = preincub(store, "audit", "verify")
    assert r.returncode == 0, r.stderr


def test_restore_is_refused_while_a_daemon_holds_the_lease(pair):
    store, copy = pair
    w = Workflow.open(str(store), actor=COORD)
    assert w.lease.acquire("elsewhere:42")
    w.close()
    before = sha(store)
    with pytest.raises(StoreError, match=r"the daemon elsewhere:42 holds the store .*stop it") as err:
        backup.restore(str(store), copy, actor=COORD)
    assert err.value.code == "daemon_running"
    assert sha(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_a_lease_left_by_a_daemon_of_this_host_that_is_gone_does_not_block_a_restore(pair):
    """A daemon killed -9 leaves its lease until it expires: its process is gone, so it holds nothing."""
    import socket

    store, copy = pair
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(30)
    w = Workflow.open(str(store), actor=COORD)
    assert w.lease.acquire(f"{socket.gethostname()}:{gone.pid}")
    w.close()
    backup.restore(str(store), copy, actor=COORD)
    assert programmes(store) == ["Then"]


HOLD = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
con.execute("PRAGMA journal_mode = WAL")
con.execute("SELECT count(*) FROM programme").fetchall()
print("ready", flush=True)
time.sleep(60)
"""


def test_restore_is_refused_while_another_process_has_the_store_open(pair, procs):
    store, copy = pair
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    procs.append(p)
    assert p.stdout.readline().strip() == "ready"
    before = dump(store)
    with pytest.raises(StoreError, match=rf"is open in another process \(pid {p.pid}\)") as err:
        backup.restore(str(store), copy, actor=COORD)
    assert err.value.code == "store_in_use"
    assert dump(store) == before and sorted(siblings(store)) == ["copy.db", "r.db", "r.db-shm", "r.db-wal"]
    p.kill()
    p.wait(10)


def tampered(copy: Path) -> Path:
    """The copy with one event's reason edited behind preincub's back (the chain's digest no longer holds)."""
    con = sqlite3.connect(copy)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE event SET reason = 'rewritten' WHERE id = (SELECT min(id) FROM event)")
    con.commit()
    con.close()
    return copy


def truncated(copy: Path) -> Path:
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    return copy


def newer(copy: Path) -> Path:
    con = sqlite3.connect(copy)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    return copy


def foreign(copy: Path) -> Path:
    copy.unlink()
    con = sqlite3.connect(copy)
    con.execute("CREATE TABLE recettes (nom TEXT)")
    con.commit()
    con.close()
    return copy


def text(copy: Path) -> Path:
    copy.write_text("name,email\nA,a@b.example\n")
    return copy


def header_only(copy: Path) -> Path:
    copy.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    return copy


def empty_db(copy: Path) -> Path:
    copy.unlink()
    sqlite3.connect(copy).execute("VACUUM").connection.close()
    return copy


@pytest.mark.parametrize("spoil, code, words", [
    (tampered, "copy_audit_broken", "audit trail is broken at event #1"),
    (truncated, "copy_damaged", "is damaged"),
    (newer, "store_too_new", "newer preincub"),
    (foreign, "foreign_store", "not preincub's"),
    (text, "not_a_store", "not an SQLite database"),
    (header_only, "not_a_store", "not an SQLite database"),
    (empty_db, "copy_empty", "holds no preincub store"),
])
def test_a_bad_copy_is_refused_in_one_line_with_nothing_changed(pair, spoil, code, words):
    store, copy = pair
    spoil(copy)
    before, copy_before = dump(store), sha(copy)
    with pytest.raises((StoreError, Invalid)) as err:
        backup.restore(str(store), copy, actor=COORD)
    assert err.value.code == code and words in err.value.text("en"), err.value.text("en")
    assert "\n" not in err.value.text("en") and "\n" not in err.value.text("fr")
    assert dump(store) == before and sha(copy) == copy_before
    assert siblings(store) == ["copy.db", "r.db"]  # no temporary file, no kept copy, no -wal


def test_restore_refuses_the_store_itself_a_missing_file_and_a_person_who_is_not_a_coordinator(pair, tmp_path):
    store, copy = pair
    for source in (store, Path(f"{store}-wal")):
        with pytest.raises(Invalid, match="is the store itself"):
            backup.restore(str(store), source, actor=COORD)
    with pytest.raises(Invalid, match="there is no file") as err:
        backup.restore(str(store), tmp_path / "none.db", actor=COORD)
    assert err.value.code == "no_copy_file"
    with pytest.raises(StoreError, match=r"cannot be restored: .*unknown acting person"):
        backup.restore(str(store), copy, actor="stranger@example.org")
    assert siblings(store) == ["copy.db", "r.db"] and programmes(store) == ["Now", "Then"]


def test_a_failure_mid_way_leaves_the_store_as_it_was_and_nothing_behind(pair, monkeypatch):
    """The install starts writing into the store, then fails: its transaction is rolled back, the kept
    copy and the temporary file are removed."""
    store, copy = pair
    before = dump(store)

    def failing(tmp: Path, path: Path) -> None:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("DELETE FROM alembic_version")
            raise sqlite3.OperationalError("disk I/O error")
        finally:
            con.close()

    monkeypatch.setattr(backup, "_install", failing)
    with pytest.raises(sqlite3.OperationalError):
        backup.restore(str(store), copy, actor=COORD)
    assert dump(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_a_damaged_store_can_be_restored(pair):
    """What the replaced file did to the testers' store: damaged. restore is how to recover it."""
    store, copy = pair
    data = bytearray(store.read_bytes())
    data[4096 * 2: 4096 * 3] = b"\x07" * 4096  # a page of garbage
    store.write_bytes(bytes(data))
    rec = backup.restore(str(store), copy, actor=COORD)
    assert integrity(store) == ["ok"] and programmes(store) == ["Then"]
    assert Path(rec.kept).stat().st_size == len(data)  # what was there, kept


# ---- read-only stores ------------------------------------------------------------------------------------

def test_restore_refuses_a_store_opened_with_mode_ro_before_writing_anything(pair):
    store, copy = pair
    before = sha(store)
    with pytest.raises(StoreError, match=r"is read-only \(opened with \?mode=ro\)") as err:
        backup.restore(f"sqlite:///{store}?mode=ro", copy, actor=COORD)
    assert err.value.code == "read_only" and "\n" not in err.value.text("fr")
    assert sha(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_restore_refuses_a_store_this_process_may_not_write(pair, monkeypatch):
    store, copy = pair
    before = sha(store)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if (Path(p) == store and m == os.W_OK)
                        else real(p, m, **kw))
    with pytest.raises(StoreError, match=r"is read-only \(no write permission on the file\)") as err:
        backup.restore(str(store), copy, actor=COORD)
    assert err.value.code == "read_only"
    assert sha(store) == before and siblings(store) == ["copy.db", "r.db"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_restore_refuses_a_store_file_without_write_permission(pair):
    store, copy = pair
    store.chmod(0o400)
    before = sha(store)
    with pytest.raises(StoreError) as err:
        backup.restore(str(store), copy, actor=COORD)
    assert err.value.code == "read_only" and sha(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_a_backup_of_a_read_only_store_writes_nothing_beside_it(tmp_path):
    store = make_store(tmp_path / "r.db", "P")  # closed, in WAL mode, no -wal beside it
    before = sha(store)
    w = Workflow.open(f"sqlite:///{store}?mode=ro", actor=COORD)
    try:
        w.backup.copy(tmp_path / "copy.db")
    finally:
        w.close()
    assert siblings(store) == ["copy.db", "r.db"] and sha(store) == before
    assert programmes(tmp_path / "copy.db") == ["P"] and integrity(tmp_path / "copy.db") == ["ok"]


# ---- damaged and empty stores, the restored store's mode ---------------------------------------------------

def test_a_truncated_store_is_restored_by_renaming_the_checked_copy_over_it(demo_file, tmp_path):
    """`head -c 200000 good.db > d.db`: SQLite cannot even switch its journal; status says to restore."""
    copy = tmp_path / "good-copy.db"
    w = Workflow.open(str(demo_file), actor=DEMO_COORD)
    try:
        w.backup.copy(copy)
    finally:
        w.close()
    store = tmp_path / "d.db"
    store.write_bytes(demo_file.read_bytes()[:200000])
    store.chmod(0o640)
    Path(f"{store}-shm").write_bytes(b"\0" * 32768)  # left by a process long gone: nobody holds them
    Path(f"{store}-wal").write_bytes(b"")
    damaged = store.read_bytes()
    rec = backup.restore(str(store), copy, actor=DEMO_COORD)
    assert integrity(store) == ["ok"] and content(store) == content(copy)
    assert Path(rec.kept).read_bytes() == damaged and stat.S_IMODE(Path(rec.kept).stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o640  # the store keeps its mode
    assert siblings(store) == sorted(["d.db", "good-copy.db", Path(rec.kept).name])  # no -wal, -shm, temporary
    r = preincub(store, "audit", "verify")
    assert r.returncode == 0 and "audit trail intact" in r.stdout, r.stderr


def test_restore_into_an_empty_file_leaves_it_private_and_a_store_keeps_its_mode(pair, tmp_path):
    store, copy = pair
    empty = tmp_path / "empty.db"
    empty.touch()
    empty.chmod(0o644)
    rec = backup.restore(str(empty), copy, actor=COORD)
    assert rec.kept is None and programmes(empty) == ["Then"]
    assert stat.S_IMODE(empty.stat().st_mode) == 0o600  # it holds the whole store now
    store.chmod(0o640)
    with pytest.warns(StoreWarning, match="open to other users"):  # the live store, read for its checks
        backup.restore(str(store), copy, actor=COORD, keep=False)
    assert stat.S_IMODE(store.stat().st_mode) == 0o640 and programmes(store) == ["Then"]


def test_a_failed_restore_into_an_empty_file_gives_it_its_mode_back(pair, tmp_path, monkeypatch):
    _, copy = pair
    empty = tmp_path / "empty.db"
    empty.touch()
    empty.chmod(0o644)

    def failing(tmp: Path, path: Path) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(backup, "_install", failing)
    with pytest.raises(sqlite3.OperationalError):
        backup.restore(str(empty), copy, actor=COORD)
    assert stat.S_IMODE(empty.stat().st_mode) == 0o644 and empty.read_bytes() == b""


# ---- the daemon lease in a copy ------------------------------------------------------------------------------

def lease_until(path: Path) -> datetime:
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        (until,) = con.execute("SELECT until FROM daemon_lease WHERE name = 'daemon'").fetchone()
    finally:
        con.close()
    return datetime.fromisoformat(until).replace(tzinfo=timezone.utc)


def test_a_restored_store_holds_no_live_lease(tmp_path):
    """A copy taken while a daemon ran holds its lease: once restored, a daemon started then ticks at once."""
    from workflow.clock import Clock

    wall = Clock().wall
    live = make_store(tmp_path / "live.db", "P")
    w = Workflow.open(str(live), actor=COORD)
    try:
        assert w.lease.acquire("elsewhere:42")
        w.backup.copy(tmp_path / "copy.db")
    finally:
        w.close()
    copy_before = sha(tmp_path / "copy.db")
    assert lease_until(tmp_path / "copy.db") > wall() + timedelta(seconds=10)
    store = tmp_path / "restored.db"
    backup.restore(str(store), tmp_path / "copy.db", actor=COORD)
    assert lease_until(store) == RELEASED  # ended before any time a clock can give, --now included
    assert sha(tmp_path / "copy.db") == copy_before  # the copy itself is left as it was
    w = Workflow.open(str(store), actor=COORD)
    try:
        assert w.lease.acquire("here:1")  # another daemon may tick at once
        assert w.audit.verify().events > 0
    finally:
        w.close()


# ---- signed copies -------------------------------------------------------------------------------------------

KEY, OTHER_KEY = "k" * 48, "another instance's key, long enough"


def signature_of(path: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute(f"SELECT alg, mac FROM {SIGNATURE_TABLE}").fetchall()
    finally:
        con.close()


@pytest.fixture
def signed(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A store with money in it and a copy of it signed with KEY (this instance's key)."""
    from tests.conftest import seed
    from tests.workflow.services.test_audit import money_and_notices

    monkeypatch.setenv("PREINCUB_SECRET_KEY", KEY)
    store = tmp_path / "r.db"
    w = Workflow.open(str(store), create=True, actor=COORD, clock=FixedClock(DEMO_NOW))
    try:
        seed(w)
        money_and_notices(w)
        w.backup.copy(tmp_path / "copy.db")
    finally:
        w.close()
    return store, tmp_path / "copy.db"


def test_a_copy_is_signed_and_restore_says_whether_it_comes_from_this_instance(signed, tmp_path, monkeypatch):
    _, copy = signed
    [(alg, mac)] = signature_of(copy)
    assert alg == "hmac-sha256" and len(mac) == 64
    rec = backup.restore(str(tmp_path / "a.db"), copy, actor=COORD, require_signature=True)
    assert rec.origin == "this_instance"
    assert SIGNATURE_TABLE not in dump(tmp_path / "a.db")  # the store's content, not a copy's
    assert content(tmp_path / "a.db") == content(copy)

    monkeypatch.setenv("PREINCUB_SECRET_KEY", OTHER_KEY)
    assert backup.restore(str(tmp_path / "b.db"), copy, actor=COORD).origin == "other"
    with pytest.raises(Invalid, match=r"not signed by this instance \(signed, but not by this instance") as err:
        backup.restore(str(tmp_path / "c.db"), copy, actor=COORD, require_signature=True)
    assert err.value.code == "backup_not_signed"
    assert not (tmp_path / "c.db").exists() and siblings(copy) == ["a.db", "b.db", "copy.db", "r.db"]


def test_an_unsigned_copy_is_said_so_and_refused_when_a_signature_is_required(signed, tmp_path):
    _, copy = signed
    con = sqlite3.connect(copy)
    con.execute(f"DROP TABLE {SIGNATURE_TABLE}")
    con.commit()
    con.close()
    assert backup.restore(str(tmp_path / "a.db"), copy, actor=COORD).origin == "unsigned"
    with pytest.raises(Invalid, match=r"\(not signed\); nothing was restored"):
        backup.restore(str(tmp_path / "b.db"), copy, actor=COORD, require_signature=True)
    assert not (tmp_path / "b.db").exists()


def forged(copy: Path) -> Path:
    """What the review did: a payment's amount edited in the copy, and the audit chain recomputed after it
    (the recording event's figures, every hash after it, the head): ``audit verify`` cannot tell."""
    import json

    from workflow.store.events import link

    con = sqlite3.connect(copy)
    triggers = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    con.execute("DROP TRIGGER event_append_only_update")
    con.execute("DROP TRIGGER event_append_only_delete")
    (pid,) = con.execute("SELECT id FROM payment").fetchone()
    con.execute("UPDATE payment SET amount_cents = amount_cents * 10 WHERE id = ?", (pid,))
    (amount,) = con.execute("SELECT amount_cents FROM payment WHERE id = ?", (pid,)).fetchone()
    prev, count = "", 0
    rows = con.execute("SELECT id, at, actor_id, team_id, action, \"trigger\", from_phase, to_phase, forced, "
                       "digest, figures FROM event ORDER BY id").fetchall()
    recorded = 0
    for (eid, at, actor_id, team_id, action, trigger, from_phase, to_phase, forced, digest, figures) in rows:
        if figures is not None:
            f = json.loads(figures)
            if (f.get("payment") or {}).get(str(pid)):
                f["payment"][str(pid)]["amount_cents"] = amount
                figures = json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                recorded += 1
        prev = link(prev, {"at": at, "actor_id": actor_id, "team_id": team_id, "action": action,
                           "trigger": trigger, "from_phase": from_phase, "to_phase": to_phase,
                           "forced": forced, "digest": digest, "figures": figures})
        con.execute("UPDATE event SET figures = ?, hash = ? WHERE id = ?", (figures, prev, eid))
        count += 1
    assert recorded >= 1
    con.execute("UPDATE audit_head SET count = ?, hash = ? WHERE id = 1", (count, prev))
    for (sql,) in triggers:
        con.execute(sql)
    con.commit()
    con.close()
    return copy


def test_a_copy_edited_and_its_chain_recomputed_is_not_this_instances(signed, tmp_path):
    copy = forged(signed[1])
    check = tmp_path / "check.db"
    shutil.copy(copy, check)
    w = Workflow.open(str(check), actor=COORD)
    try:
        assert w.audit.verify().events > 0  # the chain holds: only the signature tells
    finally:
        w.close()
    rec = backup.restore(str(tmp_path / "a.db"), copy, actor=COORD)
    assert rec.origin == "other"
    with pytest.raises(Invalid) as err:
        backup.restore(str(tmp_path / "b.db"), copy, actor=COORD, require_signature=True)
    assert err.value.code == "backup_not_signed" and not (tmp_path / "b.db").exists()


def test_a_signature_table_that_is_none_of_ours_is_refused(signed, tmp_path):
    _, copy = signed
    con = sqlite3.connect(copy)
    con.execute(f"UPDATE {SIGNATURE_TABLE} SET alg = 'md5'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"cannot be restored: .*unknown signature"):
        backup.restore(str(tmp_path / "a.db"), copy, actor=COORD)
    assert not (tmp_path / "a.db").exists()


# ---- small ones ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x.db/", "x.db/."])
def test_backup_refuses_a_name_that_ends_in_a_separator(tmp_path, name):
    store = make_store(tmp_path / "r.db", "P")
    w = Workflow.open(str(store), actor=COORD)
    try:
        with pytest.raises(Invalid, match="give a file name") as err:
            w.backup.copy(f"{tmp_path}/{name}")
    finally:
        w.close()
    assert err.value.code == "copy_not_a_file" and siblings(store) == ["r.db"]


@pytest.mark.parametrize("text", ['{"format": "preincub-backup"}', '\ufeff \n {"format": "preincub-backup"}'])
def test_restore_of_a_json_backup_says_to_use_import_all(pair, tmp_path, text):
    store, _ = pair
    dumped = tmp_path / "b.json"
    dumped.write_text(text, encoding="utf-8")
    before = sha(store)
    with pytest.raises(Invalid) as err:
        backup.restore(str(store), dumped, actor=COORD)
    assert err.value.code == "copy_is_json"
    assert err.value.text("en") == (f"'{dumped}' is a JSON backup, not a copy of the store: restore it with "
                                    f"preincub --db NEW.db import-all '{dumped}'")
    assert sha(store) == before and siblings(store) == ["b.json", "copy.db", "r.db"]


def test_without_a_key_a_copy_is_not_signed_and_a_signed_one_is_unchecked(signed, tmp_path, monkeypatch):
    store, copy = signed
    monkeypatch.delenv("PREINCUB_SECRET_KEY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "no-key-here"))  # no key file either
    assert backup.restore(str(tmp_path / "a.db"), copy, actor=COORD).origin == "unchecked"
    w = Workflow.open(str(store), actor=COORD)
    try:
        w.backup.copy(tmp_path / "unsigned.db")
    finally:
        w.close()
    assert SIGNATURE_TABLE not in dump(tmp_path / "unsigned.db")
    assert backup.restore(str(tmp_path / "b.db"), tmp_path / "unsigned.db", actor=COORD).origin == "unsigned"
    assert not (tmp_path / "no-key-here").exists()  # nothing created for a copy
