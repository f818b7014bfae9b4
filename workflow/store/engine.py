"""Opening the store: SQLite pragmas and write locks, read-only stores, errors in the user's words
(a full disk, a read-only or vanished file), and schema versions (Alembic). Its address and file:
``workflow.store.files``."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlmodel import Session

from workflow.store import driver

from workflow.store import files
from workflow.errors import N_, ChangedMeanwhile, StoreError
from workflow.store.files import (SQLITE_BUSY_TIMEOUT_S, StoreWarning, default_path,  # noqa: F401
                                describe, identity, not_sqlite, read_only_reason, redact, resolve_url,
                                sqlite_path)

# The newest schema this code knows, and every older one it can upgrade from (tests check both
# against the migration scripts). Kept as constants so opening a store needs no script parsing.
HEAD_REVISION = "0012"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012")

DISK_FULL_BYTES = 1 << 20  # an I/O error with less free space than this is a full disk


def _sqlite_setup(engine: Engine, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not read_only:  # switching the journal writes the header: never on a store we only read
            cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cur.execute("PRAGMA synchronous = NORMAL")  # WAL: commits survive a killed process without an fsync each
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Writers take the lock up front, so two writers queue instead of failing halfway.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("preincub_write") else "BEGIN")


def make_engine(url: str, mode: str = "rwc") -> Engine:
    """An engine on ``url``; for SQLite, ``mode`` is how files are opened (see ``files.sqlite_connect``)."""
    path = sqlite_path(url)
    if path is not None:
        bare = sa.engine.make_url(url).set(query={})  # our options are ours: SQLAlchemy would warn about them
        engine = sa.create_engine(bare, creator=lambda: files.sqlite_connect(path, mode))
        _sqlite_setup(engine, read_only=mode == "ro")
        return engine
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(N_("PostgreSQL needs the driver: pip install 'preincub[postgres]'"),
                         code="no_postgres_driver") from None
    return sa.create_engine(url, pool_pre_ping=True)


def judge(tables: set[str], rev: str | None) -> tuple[str, str | None]:
    """('empty'|'foreign'|'preincub', revision) from a database's table names and Alembic revision."""
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if not tables:
        return "empty", None
    if "alembic_version" not in tables or (rev not in KNOWN_REVISIONS and "team" not in tables):
        return "foreign", None  # another application's tables (maybe its own Alembic's)
    return "preincub", rev


def _state(engine: Engine) -> tuple[str, str | None]:
    """The state of the (PostgreSQL) database behind ``engine``: reading it changes nothing."""
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        rev = (conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
               if "alembic_version" in tables else None)
        return judge(tables, rev)


def flushed(s: Session) -> Connection:
    """The session's connection for a Core statement, after the flush an ORM query would have made (a
    row added earlier in the same transaction is seen)."""
    if s.autoflush:
        s.flush()
    return s.connection()


class Store:
    """A preincub database: sessions for reading, and for writing under a write lock."""

    def __init__(self, url: str, engine: Engine, *, read_only: str | None = None) -> None:
        self.url = url
        self.engine = engine
        self.dialect = engine.dialect.name
        self.read_only = read_only  # why this process may only read (a catalog msgid); None: it may write
        self.path = sqlite_path(url)
        self._identity = identity(self.path)
        self._gone = False  # set once the file was found deleted or replaced: every use is refused from then on
        self._writer = engine.execution_options(preincub_write=True)
        # SQLite has one writer at a time. This process's writers (the web server's threads) queue on a lock
        # of ours, woken the moment it is free, instead of polling SQLite's busy handler (which sleeps up
        # to 100 ms between tries); other processes still meet the busy timeout. Re-entrant: a nested
        # write meets SQLite's own lock, as before.
        self._write_lock = threading.RLock() if self.path is not None else None
        self._end_reads_by_commit = self.dialect == "postgresql"  # see read()
        if self.path is not None:
            event.listen(engine, "checkin", self._drop_if_gone)
            event.listen(engine, "connect", self._refuse_if_gone, insert=True)  # before any pragma is run

    def as_stored(self, column: Any) -> Any:
        """``column`` as stored, for reads of many rows: on SQLite its text, with no type processing
        per row; the caller converts each distinct value once (``clock.stored_utc``)."""
        return sa.type_coerce(column, sa.String) if self.dialect == "sqlite" else column

    def stored_rows(self, conn: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
        """The rows of ``query`` as plain tuples, for listings of many rows. On SQLite, where the
        listing's columns need no result processing (ids, text, :meth:`as_stored` dates), straight
        from the DBAPI cursor (SQLAlchemy's per-row fetching is a fifth of ``status`` at 100,000
        teams); elsewhere through SQLAlchemy, streamed."""
        if self.dialect != "sqlite":
            yield from conn.execution_options(stream_results=True, yield_per=2000).execute(query)
            return
        result = conn.execute(query)
        try:
            yield from result.cursor
        except sqlite3.Error as exc:  # as SQLAlchemy would have raised it (the store's errors map those)
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
        finally:
            result.close()

    @property
    def where(self) -> str:
        return describe(self.url)

    def check_file(self) -> None:
        """Refuse to go on if the SQLite file was deleted or replaced since it was opened: a long-running
        process (the daemon) would otherwise keep reading and writing a file nobody else sees. The first
        time, this process lets go of the old file (:meth:`_let_go`), so that its -wal and -shm never meet
        the new one."""
        if not self._gone and (self._identity is None or identity(self.path) == self._identity):
            return
        self._let_go()
        raise self._replaced()

    def ping(self) -> None:
        """Raise unless the store answers: its file still the one opened, one trivial query run (the web
        service's health check)."""
        self.check_file()
        with self.read() as s:
            s.connection().exec_driver_sql("SELECT 1")

    def _replaced(self) -> StoreError:
        return StoreError(N_("the store file {where} was deleted or replaced while preincub was running; "
                             "restart preincub"), code="store_replaced", where=self.where)

    def _let_go(self) -> None:
        """Close every connection to the old file and remove the -wal and -shm it left at the store's path.
        SQLite neither checkpoints nor deletes them when the file was moved (they are the old file's), and
        the next process to open the new file would apply that stale WAL to it: a damaged store. Only
        files this process has open are removed (another process may already have made its own)."""
        if self._gone:
            return
        self._gone = True  # before dispose: connections checked out now are closed when given back
        ours = files.open_here([Path(f"{self.path}{suffix}") for suffix in ("-wal", "-shm")])
        self.engine.dispose()
        for path, ident in ours.items():
            if identity(path) == ident:
                path.unlink(missing_ok=True)

    def _drop_if_gone(self, _dbapi_conn: Any, record: Any) -> None:
        """A connection given back once the file is gone is closed, never pooled again."""
        if self._gone and record is not None:
            record.invalidate()

    def _refuse_if_gone(self, dbapi_conn: Any, _record: Any) -> None:
        """No new connection once the file is gone (it would open whatever file now has its name)."""
        if self._gone:
            dbapi_conn.close()
            raise self._replaced()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session to read in. On PostgreSQL its transaction ends with a COMMIT, not a rollback:
        psycopg forgets the connection's prepared statements at every ROLLBACK, and a statement never
        prepared is planned again at each run (the guards' view of an advance: 2 ms planned, 0.25 ms
        prepared). A read that fails still rolls back."""
        if self._gone:
            raise self._replaced()
        try:
            with Session(self.engine, expire_on_commit=False) as s:
                yield s
                if self._end_reads_by_commit and s.in_transaction():
                    s.commit()
        except DBAPIError as exc:
            raise self._translated(exc) from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed whole on success, rolled back whole on any error."""
        self.check_writable()
        with self._write_errors(), self._writing(), Session(self._writer, expire_on_commit=False) as s:
            with s.begin():
                yield s

    @contextmanager
    def direct_write(self) -> Iterator[Any]:
        """:meth:`write`'s transaction for prebuilt Core statements only, without a session: on SQLite
        the driver's own ``BEGIN IMMEDIATE`` ... ``COMMIT`` on a pooled connection, the statements run
        by ``workflow.store.driver`` (a session's transaction was a third of an ``advance``); elsewhere, or
        when someone listens to the engine's statements, a session's connection as :meth:`write` gives."""
        if self.dialect != "sqlite" or driver.traced(self.engine):
            with self.write() as s:
                yield driver.direct(self, s.connection())
            return
        self.check_writable()
        with self._write_errors(), self._writing():
            pooled = driver.checkout(self.engine)
            try:
                with driver.transaction(pooled.driver_connection, self.engine.dialect) as run:
                    yield run
            finally:
                pooled.close()

    @contextmanager
    def _write_errors(self) -> Iterator[None]:
        """A write's errors in the user's words; a race lost is ChangedMeanwhile (a retry gives the real answer)."""
        try:
            yield
        except IntegrityError as exc:
            if not _unique_violation(exc):
                raise
            # A unique key taken by a concurrent writer after we checked: a retry gives the real answer.
            raise ChangedMeanwhile(N_("the store changed meanwhile ({detail}), retry"),
                                   detail=first_line(exc)) from None
        except DBAPIError as exc:
            if "locked" in str(exc.orig):
                raise ChangedMeanwhile(N_("the store is busy (locked by another writer), retry")) from None
            raise self._translated(exc) from None

    @contextmanager
    def core_write(self) -> Iterator[sa.Connection]:
        """A Core connection in a write transaction: for small hot statements (no ORM session)."""
        self.check_writable()
        try:
            with self._writing(), self._writer.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise self._translated(exc) from None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """This process's turn to write (SQLite; PostgreSQL locks rows, not the database)."""
        if self._write_lock is None:
            yield
            return
        if not self._write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise ChangedMeanwhile(N_("the store is busy (locked by another writer), retry"))
        try:
            yield
        finally:
            self._write_lock.release()

    def check_writable(self) -> None:
        """Before any write (and each daemon tick): a read-only store is refused in one line, and so is
        a file deleted or replaced since it was opened."""
        if self.read_only:
            raise read_only_error(self.where, self.read_only)
        self.check_file()

    def _translated(self, exc: DBAPIError) -> Exception:
        """The error in the user's words when there is something to say, else the driver's own."""
        if self.path is not None and _looks_unopenable(exc):
            self.check_file()  # "unable to open database file": was it deleted?
        return translate(exc, self.url, self.read_only) or exc

    def close(self) -> None:
        self.engine.dispose()


def _unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _looks_unopenable(exc: BaseException) -> bool:
    return (getattr(getattr(exc, "orig", exc), "sqlite_errorname", None) or "").startswith("SQLITE_CANTOPEN")


def _disk_full(path: Path | None) -> bool:
    """An I/O error on a filesystem with (almost) no space left: SQLite does not always say SQLITE_FULL
    (growing the -shm, say, fails with a plain I/O error)."""
    if path is None:
        return False
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < DISK_FULL_BYTES


def read_only_error(where: str, why: str) -> StoreError:
    """``why``: a catalog msgid (files.read_only_reason)."""
    return StoreError(N_("the store {where} is read-only ({why!t}): it can be read, not changed"), code="read_only",
                      where=where, why=why)


def _disk_full_error(where: str) -> StoreError:
    return StoreError(N_("the disk holding the store {where} is full: free some space, then retry"), code="disk_full",
                      where=where)


def translate(exc: BaseException, url: str, read_only: str | None = None) -> StoreError | None:
    """A driver's error (SQLite or PostgreSQL) in the user's words, in one place for every command:
    a full disk, a read-only store, a damaged or unopenable file. None: nothing more to say."""
    orig = getattr(exc, "orig", exc)
    name = getattr(orig, "sqlite_errorname", None) or ""
    sqlstate = getattr(orig, "sqlstate", None) or ""
    where, path = describe(url), sqlite_path(url)
    if name.startswith("SQLITE_FULL") or sqlstate == "53100" or (name.startswith("SQLITE_IOERR") and _disk_full(path)):
        return _disk_full_error(where)
    if name.startswith("SQLITE_READONLY") or sqlstate == "25006":
        return read_only_error(where, read_only or N_("the database refused to write"))
    if name.startswith("SQLITE_NOTADB"):
        return not_sqlite(where)
    if name.startswith("SQLITE_CORRUPT"):
        return StoreError(N_("the store {where} is damaged ({detail}); restore it from a backup"), code="store_damaged",
                          where=where, detail=first_line(exc))
    if name.startswith("SQLITE_IOERR"):
        return StoreError(N_("the disk failed reading or writing the store {where} ({detail}); check it, then retry"),
                          code="disk_error", where=where, detail=first_line(exc))
    if name.startswith("SQLITE_CANTOPEN"):
        return _cannot_open(url, exc)
    return None


def _scrubbed(text: str, url: str) -> str:
    """A driver's message with the URL's password taken out, whatever the driver chose to quote."""
    try:
        u = sa.engine.make_url(url)
        secrets = [p for p in (u.password, u.query.get("password")) if isinstance(p, str) and p]
    except (ArgumentError, ValueError):
        secrets = []
    for secret in secrets:
        text = text.replace(secret, "***").replace(url_quote(secret, safe=""), "***")
    return redact(text)


def _cannot_open(url: str, exc: BaseException) -> StoreError:
    return StoreError(N_("cannot open the store {where}: {detail}"), code="cannot_open_store", where=describe(url),
                      detail=_scrubbed(first_line(exc), url))


def os_error(url: str, exc: OSError) -> StoreError:
    """An OSError met while looking at or creating the store's file or directory."""
    where = describe(url)
    if exc.errno == errno.ENOSPC:
        return _disk_full_error(where)
    detail = f"{exc.strerror or exc}"  # the system's words (English)
    if exc.filename is not None and Path(os.fsdecode(exc.filename)) != sqlite_path(url):
        return StoreError(N_("cannot open the store {where}: {detail}: {path!q}"), code="cannot_open_store",
                          where=where, detail=detail, path=os.fsdecode(exc.filename))
    return StoreError(N_("cannot open the store {where}: {detail}"), code="cannot_open_store", where=where,
                      detail=detail)


def check_state(where: str, state: str, rev: str | None, create: bool) -> None:
    """Refuse a foreign or newer store always; an empty or older one unless creating (init)."""
    if state == "foreign":
        raise StoreError(N_("{where} holds tables that are not preincub's; choose another database"),
                         code="foreign_store", where=where)
    if rev is not None and rev not in KNOWN_REVISIONS:
        raise StoreError(N_("the store {where} was written by a newer preincub (schema {revision}); upgrade preincub"),
                         code="store_too_new", where=where, revision=rev)
    if create:
        return
    if state == "empty":
        raise StoreError(N_("the store {where} is empty; initialise it first"), code="store_empty", where=where)
    if rev != HEAD_REVISION:
        raise StoreError(N_("the store {where} has an older schema ({revision}); upgrade it first"),
                         code="store_outdated", where=where, revision=rev)


def _sqlite_file(url: str, path: Path, create: bool) -> tuple[str, str | None, str | None]:
    """(state, revision, read-only reason) of the store's file, judged before anything is written."""
    where = describe(url)
    explicit_ro = sa.engine.make_url(url).query.get("mode") == "ro"
    if not path.exists():
        if not create:
            raise StoreError(N_("no store at {where}; create it first"), code="no_store", where=where)
        if explicit_ro:
            raise read_only_error(where, read_only_reason(path, True))
        files.private_dirs(path.parent)
        return "empty", None, None
    if path.is_dir():
        raise StoreError(N_("{where} is a directory, not a store file"), code="store_is_directory", where=where)
    found = files.sqlite_tables(path, where)
    state, rev = judge(*found) if found else ("empty", None)
    return state, rev, read_only_reason(path, explicit_ro)


def open_store(db: str | None = None, *, create: bool = False) -> Store:
    """Open the store and check its schema; ``create`` (``init``) creates or upgrades it.

    Without ``create``, a missing, empty, foreign, older or newer store is refused with what to do.
    An SQLite file is judged through a read-only connection first, so a refused file is left byte for
    byte as it was; one this process may not write is opened read-only (reads work, writes are refused).
    """
    url = resolve_url(db)
    where = describe(url)
    path = sqlite_path(url)
    state, rev, read_only = "", None, None
    try:
        if path is not None:
            state, rev, read_only = _sqlite_file(url, path, create)
            check_state(where, state, rev, create)
    except OSError as exc:
        raise os_error(url, exc) from None
    except sqlite3.Error as exc:
        raise _guard_errors(url, exc) from None
    engine = make_engine(url, "ro" if read_only else ("rwc" if create else "rw"))
    try:
        if path is None:
            state, rev = _state(engine)
            check_state(where, state, rev, create)
        if create and rev != HEAD_REVISION:
            if read_only:
                raise read_only_error(where, read_only)
            if not (path is not None and state == "empty" and _from_snapshot(engine)):
                upgrade(engine)  # PostgreSQL, an older store (or a snapshot not at HEAD_REVISION)
    except StoreError:
        engine.dispose()
        raise
    except DBAPIError as exc:
        engine.dispose()
        raise _guard_errors(url, exc, read_only) from None
    except (UnicodeError, ValueError) as exc:  # a host name the driver cannot even look up
        engine.dispose()
        raise _cannot_open(url, exc) from None
    except OSError as exc:
        engine.dispose()
        raise os_error(url, exc) from None
    if path is not None:
        files.warn_if_shared(path, where)
    return Store(url, engine, read_only=read_only)


def _guard_errors(url: str, exc: BaseException, read_only: str | None = None) -> StoreError:
    """An error met while opening the store, as one line without any password."""
    msg = first_line(exc)
    if "not a database" in msg:
        return not_sqlite(describe(url))
    return translate(exc, url, read_only) or _cannot_open(url, exc)


def alembic_config(engine: Engine | None = None):
    # Alembic (~40 ms) is loaded only to create or upgrade a store: opening one reads alembic_version itself.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "workflow.store:migrations")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def _from_snapshot(engine: Engine) -> bool:
    """An empty SQLite store made at once from the schema the migrations produce (``workflow.store.snapshot``:
    no Alembic to import, no migration run one by one); False when the snapshot is not at HEAD_REVISION."""
    from workflow.store import snapshot

    return snapshot.create(engine, HEAD_REVISION)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command  # see alembic_config


    command.upgrade(alembic_config(engine), revision)
