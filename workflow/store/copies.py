"""The SQLite side of a file copy of the store (``workflow.formats.backup`` decides when and why):
copies with SQLite's online backup API, the integrity check, the copy's signature table, the
daemon lease a copy may hold, and writing a checked copy into the live store (or, a store too damaged
for that, renaming it over the file).

SQLite's own errors leave here as :class:`Failed`, carrying the error: the caller says what it means
for the copy at hand.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import sqlalchemy as sa
from sqlmodel import Session

from workflow.store import engine as store_engine
from workflow.store import files
from workflow.store.models import DaemonLease

SIDE_FILES = ("-wal", "-shm", "-journal")
SIGNATURE_TABLE = "preincub_copy_signature"  # (alg, mac): the copy's signature, in the copy (not a model table)


class Failed(Exception):
    """SQLite could not read or write a file; ``cause`` is its error."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def url_of(path: Path) -> str:
    """The SQLite URL of the file ``path``, whatever characters its name holds ('?', '#', '%')."""
    return "sqlite:///" + url_quote(os.fsencode(path), safe="/")


def read_only_url(url: str) -> bool:
    """Whether the store's URL asks for a read-only store (``?mode=ro``)."""
    return sa.engine.make_url(url).query.get("mode") == "ro"


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """A plain connection (``ro`` or ``rw``), waiting for writers as the store's own do."""
    uri = f"file:{url_quote(os.fsencode(path))}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=files.SQLITE_BUSY_TIMEOUT_S, isolation_level=None)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _snapshot(source: Path, tmp: Path, reader: str) -> None:
    src = _connect(source, "ro") if reader == "plain" else files.sqlite_connect(source, "ro")
    try:
        dst = _connect(tmp, "rw")
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # the -wal it may have made is checkpointed and gone
        finally:
            dst.close()
    finally:
        src.close()
    _fsync(tmp)


def copy(source: Path, tmp: Path, *, reader: str = "plain") -> None:
    """Copy the database ``source`` (read-only, with its committed WAL) into the file ``tmp``, left as one
    self-contained file in rollback-journal mode, flushed to disk. ``reader="store"`` (a copy to restore,
    a read-only store): read as the store's read-only readers read it, nothing written beside it while
    it has no -wal. :class:`Failed` if SQLite cannot."""
    try:
        _snapshot(source, tmp, reader)
    except sqlite3.Error as exc:
        raise Failed(exc) from None


def checked_copy(source: Path, tmp: Path) -> list[str]:
    """:func:`copy` of a file to restore (read as a read-only store), then SQLite's integrity check of
    the copy: its lines (``["ok"]``: sound). :class:`Failed` if SQLite cannot read it."""
    try:
        _snapshot(source, tmp, "store")
        con = _connect(tmp, "ro")
        try:
            return [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise Failed(exc) from None


def keep_copy(path: Path, tmp: Path) -> None:
    """A copy of the store at ``path`` into ``tmp``: a consistent snapshot, or the file's bytes as they
    are when SQLite cannot read it (damaged)."""
    try:
        _snapshot(path, tmp, "plain")
    except sqlite3.Error:
        with open(path, "rb") as f, open(tmp, "wb") as out:
            shutil.copyfileobj(f, out)
            out.flush()
            os.fsync(out.fileno())


def settle(tmp: Path, page_size: int | None = None) -> None:
    """``tmp`` back in rollback-journal mode, with ``page_size`` when given (the live store's, which a
    copy into a WAL database must share)."""
    con = _connect(tmp, "rw")
    try:
        con.execute("PRAGMA journal_mode = DELETE")
        if page_size and con.execute("PRAGMA page_size").fetchone()[0] != page_size:
            con.execute(f"PRAGMA page_size = {int(page_size)}")
            con.execute("VACUUM")
    finally:
        con.close()


def revision(path: Path) -> str | None:
    """The schema revision of the SQLite file ``path`` (None: no preincub store)."""
    found = files.sqlite_tables(path, str(path))
    return store_engine.judge(*found)[1] if found else None


# ---- the copy's signature and lease -------------------------------------------------------------

def sign(tmp: Path, mac: str) -> None:
    """Store the MAC ``mac`` in the copy ``tmp``, in a table of its own, flushed to disk."""
    con = _connect(tmp, "rw")
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"CREATE TABLE {SIGNATURE_TABLE} (alg TEXT, mac TEXT)")
        con.execute(f"INSERT INTO {SIGNATURE_TABLE} (alg, mac) VALUES ('hmac-sha256', ?)", (mac,))
        con.execute("COMMIT")
    finally:
        con.close()
    _fsync(tmp)


def signature(s: Session) -> list[tuple[Any, Any]] | None:
    """The (alg, mac) rows of the copy's signature table; None when it has none (an unsigned copy)."""
    conn = s.connection()
    signed = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (SIGNATURE_TABLE,)).first() is not None
    return [tuple(r) for r in conn.exec_driver_sql(f"SELECT alg, mac FROM {SIGNATURE_TABLE}")] if signed else None


def unsign(s: Session) -> None:
    """The copy without its signature table (the store's content is not a copy's)."""
    s.connection().exec_driver_sql(f"DROP TABLE IF EXISTS {SIGNATURE_TABLE}")


def release_leases(s: Session, at: datetime, name: str | None = None) -> None:
    """Every daemon lease (named ``name``) held beyond ``at`` ends at ``at``: a daemon started then ticks
    at once."""
    lease = DaemonLease.__table__
    cond = [lease.c.until > at] + ([lease.c.name == name] if name is not None else [])
    s.connection().execute(sa.update(lease).where(*cond).values(until=at))


# ---- installing a checked copy ------------------------------------------------------------------

def sync_dir(directory: Path) -> None:
    """Flush a directory's entries (a rename or a link in it) to disk, when the system allows."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def install(tmp: Path, path: Path) -> None:
    """Write the checked copy ``tmp`` into the store at ``path`` in one backup step: one write transaction
    of the store (atomic, WAL-correct), then checkpointed so the file alone holds it. A store too damaged
    to be written into (SQLite finds it corrupt, or not a database) is replaced by ``tmp`` renamed over
    it: the caller's checks found no process that has it open. :class:`Failed` on any other error."""
    try:
        _write_into(tmp, path)
    except sqlite3.Error as exc:
        if not _is_damage(exc):
            raise Failed(exc) from None
        _rename_over(tmp, path)


def _is_damage(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", None) or ""
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return "malformed" in str(exc) or "not a database" in str(exc)


def _rename_over(tmp: Path, path: Path) -> None:
    """``tmp`` (settled: one self-contained file) renamed over the damaged store ``path``, with its mode
    (and owner, when this process may give it); the damaged file's -wal, -shm and -journal, which
    nobody holds, removed first so that none of them ever meets the new file."""
    st = path.stat()
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass
    for suffix in SIDE_FILES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    sync_dir(path.parent)


def _write_into(tmp: Path, path: Path) -> None:
    """The backup step of :func:`install`; SQLite's errors as they are."""
    dst = _connect(path, "rw")
    try:
        mode = dst.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            settle(tmp, dst.execute("PRAGMA page_size").fetchone()[0])
        src = _connect(tmp, "ro")
        try:
            src.backup(dst)
        finally:
            src.close()
        if mode == "wal":
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
