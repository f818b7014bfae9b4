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
from workflow import FixedClock, StoreError, Workflow
from workflow import storecopy
from workflow.clock import PARIS
from workflow.errors import Forbidden, Invalid

ROOT = Path(__file__).resolve().parents[2]
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
        w.add_programme(n, date(2020, 6, 23))
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


def start_daemon(db: Path, tmp_path: Path, name: str = "daemon") -> tuple[subprocess.Popen, Path]:
    err = tmp_path / f"{name}.err"
    with open(err, "w") as f:
        p = subprocess.Popen([PREINCUB, "--db", str(db), "--as", DEMO_COORD, "--lang", "en", "--now",
                              "2020-11-16T09:30", "daemon", "--console"],
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
    from workflow import daemon

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
        w.add_programme(f"P{i}", date(2020, 6, 23))
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
    for use in (w.programmes, lambda: w.add_programme("Z", date(2020, 6, 23)), w.store.check_file):
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
            writer.add_programme(f"W{i}", date(2020, 6, 23))
            i += 1
            written.append(i)

    t = threading.Thread(target=write)
    old = os.umask(0o022)
    try:
        t.start()
        while len(written) < 5:
            time.sleep(0.01)
        rec = w.backup_file(tmp_path / "copy.db")
    finally:
        os.umask(old)
        stop.set()
        t.join(30)
        w.close()
        writer.close()
    copy = tmp_path / "copy.db"
    assert rec.file == str(copy) and rec.bytes == copy.stat().st_size and rec.schema == "0008"
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
                w.backup_file(target)
            assert err.value.code == "copy_is_the_store"
        (tmp_path / "there.db").write_bytes(b"keep me")
        with pytest.raises(Invalid, match="already exists"):
            w.backup_file(tmp_path / "there.db")
        assert (tmp_path / "there.db").read_bytes() == b"keep me"
        w.backup_file(tmp_path / "there.db", force=True)
        assert programmes(tmp_path / "there.db") == ["P"]
        with pytest.raises(OSError) as os_err:
            w.backup_file(tmp_path / "missing" / "copy.db")
        assert os_err.value.filename == str(tmp_path / "missing" / "copy.db")
        with pytest.raises(Invalid, match="not a regular file"):
            w.backup_file(tmp_path)
    finally:
        w.close()
    assert siblings(store) == ["r.db", "there.db"]


def test_backup_is_for_coordinators(tmp_path):
    store = make_store(tmp_path / "r.db", "P")
    w = Workflow.open(str(store), actor=COORD)
    w.add_person("Coach", "coach@example.org", ["coach"])
    try:
        with pytest.raises(Forbidden, match="coordinator"):
            w.acting_as("coach@example.org").backup_file(tmp_path / "copy.db")
    finally:
        w.close()
    assert not (tmp_path / "copy.db").exists()


def test_backup_and_restore_refuse_postgresql(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    w = Workflow.open(db_url, actor=COORD, create=True)
    try:
        with pytest.raises(StoreError) as err:
            w.backup_file(tmp_path / "copy.db")
        assert err.value.code == "backup_not_sqlite"
    finally:
        w.close()
    copy = make_store(tmp_path / "c.db", "P")
    with pytest.raises(StoreError) as err:
        storecopy.restore(db_url, copy, actor=COORD)
    assert err.value.code == "restore_not_sqlite" and not (tmp_path / "copy.db").exists()


# ---- restore ---------------------------------------------------------------------------------------------

@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    """The store (programme "Now") and a backup of an earlier day (programme "Then"), both closed."""
    store = make_store(tmp_path / "r.db", "Then")
    w = Workflow.open(str(store), actor=COORD)
    w.backup_file(tmp_path / "copy.db")
    w.add_programme("Now", date(2020, 9, 1))
    w.close()
    return store, tmp_path / "copy.db"


def test_restore_puts_the_copy_back_and_keeps_the_replaced_store(pair):
    store, copy = pair
    before = dump(store)
    rec = storecopy.restore(str(store), copy, actor=COORD)
    assert programmes(store) == ["Then"] and dump(store) == dump(copy)
    kept = Path(rec.kept)
    assert kept.name.startswith("r.db.before-restore-") and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert dump(kept) == before
    assert rec.events >= 1 and rec.schema == "0008" and rec.upgraded_from is None
    assert siblings(store) == sorted(["copy.db", "r.db", kept.name])
    w = Workflow.open(str(store), actor=COORD)
    assert w.audit.verify().events == rec.events
    w.close()


def test_restore_without_keeping_and_into_a_new_file(pair, tmp_path):
    store, copy = pair
    assert storecopy.restore(str(store), copy, actor=COORD, keep=False).kept is None
    assert siblings(store) == ["copy.db", "r.db"]
    fresh = tmp_path / "sub" / "new.db"
    rec = storecopy.restore(str(fresh), copy, actor=COORD)
    assert rec.kept is None and programmes(fresh) == ["Then"] and stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_restore_round_trips_a_backup_taken_while_the_daemon_runs(demo_file, tmp_path, procs):
    store = tmp_path / "r.db"
    shutil.copy(demo_file, store)
    p, err = start_daemon(store, tmp_path)
    procs.append(p)
    w = Workflow.open(str(store), actor=DEMO_COORD)
    try:
        w.backup_file(tmp_path / "copy.db")
    finally:
        w.close()
    assert p.poll() is None  # the daemon kept running
    with pytest.raises(StoreError, match=r"the daemon .* holds the store") as refused:
        storecopy.restore(str(store), tmp_path / "copy.db", actor=DEMO_COORD)
    assert refused.value.code == "daemon_running"
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 0
    rec = storecopy.restore(str(store), tmp_path / "copy.db", actor=DEMO_COORD)
    assert dump(store) == dump(tmp_path / "copy.db") and integrity(store) == ["ok"]
    assert Path(rec.kept).exists()
    r = preincub(store, "audit", "verify")
    assert r.returncode == 0, r.stderr


def test_restore_is_refused_while_a_daemon_holds_the_lease(pair):
    store, copy = pair
    w = Workflow.open(str(store), actor=COORD)
    assert w.acquire_lease("elsewhere:42")
    w.close()
    before = sha(store)
    with pytest.raises(StoreError, match=r"the daemon elsewhere:42 holds the store .*stop it") as err:
        storecopy.restore(str(store), copy, actor=COORD)
    assert err.value.code == "daemon_running"
    assert sha(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_a_lease_left_by_a_daemon_of_this_host_that_is_gone_does_not_block_a_restore(pair):
    """A daemon killed -9 leaves its lease until it expires: its process is gone, so it holds nothing."""
    import socket

    store, copy = pair
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(30)
    w = Workflow.open(str(store), actor=COORD)
    assert w.acquire_lease(f"{socket.gethostname()}:{gone.pid}")
    w.close()
    storecopy.restore(str(store), copy, actor=COORD)
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
        storecopy.restore(str(store), copy, actor=COORD)
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
        storecopy.restore(str(store), copy, actor=COORD)
    assert err.value.code == code and words in err.value.text("en"), err.value.text("en")
    assert "\n" not in err.value.text("en") and "\n" not in err.value.text("fr")
    assert dump(store) == before and sha(copy) == copy_before
    assert siblings(store) == ["copy.db", "r.db"]  # no temporary file, no kept copy, no -wal


def test_restore_refuses_the_store_itself_a_missing_file_and_a_person_who_is_not_a_coordinator(pair, tmp_path):
    store, copy = pair
    for source in (store, Path(f"{store}-wal")):
        with pytest.raises(Invalid, match="is the store itself"):
            storecopy.restore(str(store), source, actor=COORD)
    with pytest.raises(Invalid, match="there is no file") as err:
        storecopy.restore(str(store), tmp_path / "none.db", actor=COORD)
    assert err.value.code == "no_copy_file"
    with pytest.raises(StoreError, match=r"cannot be restored, nothing was changed: .*unknown acting person"):
        storecopy.restore(str(store), copy, actor="stranger@example.org")
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

    monkeypatch.setattr(storecopy, "_install", failing)
    with pytest.raises(sqlite3.OperationalError):
        storecopy.restore(str(store), copy, actor=COORD)
    assert dump(store) == before and siblings(store) == ["copy.db", "r.db"]


def test_a_damaged_store_can_be_restored(pair):
    """What the replaced file did to the testers' store: damaged. restore is how to recover it."""
    store, copy = pair
    data = bytearray(store.read_bytes())
    data[4096 * 2: 4096 * 3] = b"\x07" * 4096  # a page of garbage
    store.write_bytes(bytes(data))
    rec = storecopy.restore(str(store), copy, actor=COORD)
    assert integrity(store) == ["ok"] and programmes(store) == ["Then"]
    assert Path(rec.kept).stat().st_size == len(data)  # what was there, kept
