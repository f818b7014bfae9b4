"""The store's address and file: which URLs are accepted, shown without a password; SQLite files
created private, opened read-only when this process may not write them, and looked at before anything
is written (see ``workflow.store.engine`` for the engine, the schema and the errors)."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote as url_quote

import sqlalchemy as sa
from platformdirs import user_data_path
from sqlalchemy.exc import ArgumentError

from workflow.errors import N_, StoreError, StoreWarning, quote

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700  # the store holds personal data: its owner only, whatever the umask

SUPPORTED = N_("an SQLite file path, sqlite:///PATH (?mode=ro: read-only), postgresql://… or postgresql+psycopg://…")


def default_path() -> Path:
    return user_data_path("preincub", appauthor=False) / "preincub.db"


def redact(text: str) -> str:
    """``scheme://user:password@…`` with the password hidden, even in a string that is not a valid URL."""
    return re.sub(r"(://[^/?#:@]*:)[^/?#]*@", r"\1***@", text)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, for a ``{x!q}`` placeholder that must quote less than usual."""
    return text[:limit] + "…" if len(text) > limit else text


def _unsupported(db: str, why: str) -> StoreError:
    """``why`` is a catalog msgid (N_)."""
    return StoreError(N_("unsupported store {store!q} ({why!t}); use {supported!t}"), code="unsupported_store",
                      store=_cut(redact(db), 60), why=why, supported=SUPPORTED)


def resolve_url(db: str | None = None) -> str:
    """A file path or one of the URLs of ``SUPPORTED`` (``--db``, or the setting PREINCUB_DB, read once
    by workflow.settings); default, a file in the user's data dir. Anything else is refused here,
    before a driver is loaded, naming what works."""
    db = db or str(default_path())
    if "\x00" in db:
        raise _unsupported(db, N_("a NUL character"))
    if "://" not in db:
        if "?" in db:  # '/path?mode=ro' looks like a URL's options: say how to ask for them
            raise _unsupported(db, N_("a file path takes no ?options"))
        try:
            path = Path(db).expanduser().resolve()
        except (RuntimeError, OSError):  # '~nobody-here', a symlink loop: the path as given
            path = Path(db).absolute()
        # '%' is escaped so that SQLAlchemy's URL decoding gives the very same file name back.
        return "sqlite:///" + str(path).replace("%", "%25")
    try:
        u = sa.engine.make_url(db)
    except (ArgumentError, ValueError):
        raise _unsupported(db, N_("not a valid URL")) from None
    if u.drivername == "postgresql":  # the driver we ship
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if u.drivername == "postgresql+psycopg":
        return db
    if u.drivername != "sqlite":
        raise StoreError(N_("unsupported store {store!q} (kind {kind!q}); use {supported!t}"), code="unsupported_store",
                         store=_cut(redact(db), 60), kind=_cut(u.drivername, 20), supported=SUPPORTED)
    if not u.database or u.database == ":memory:" or u.database.startswith("file:"):
        raise _unsupported(db, N_("no file path"))
    if dict(u.query) not in ({}, {"mode": "ro"}):
        raise _unsupported(db, N_("the only option is ?mode=ro"))
    return db


def describe(url: str) -> str:
    """The store's location for messages: never a password; an odd or very long path quoted and cut."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite":
        if "password" in u.query:  # libpq also takes it as an option
            u = u.update_query_dict({"password": "***"})
        where = u.render_as_string(hide_password=True)
    else:
        where = u.database or ""
    return where if where.isprintable() and len(where) <= 200 else quote(where)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (absolute), else None."""
    u = sa.engine.make_url(url)
    return Path(u.database or "").absolute() if u.get_backend_name() == "sqlite" else None


def private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents 0700; directories that exist are left alone."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode=PRIVATE_DIR)
        os.chmod(d, PRIVATE_DIR)  # mkdir's mode goes through the umask


def private_file(path: Path) -> None:
    """An empty 0600 file for SQLite to fill: its -wal and -shm get the same mode (SQLite copies it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:  # created meanwhile (another init): its creator chose its rights
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)  # os.open's mode goes through the umask
    finally:
        os.close(fd)


def sqlite_connect(path: Path, mode: str) -> sqlite3.Connection:
    """``rwc`` may create the file (0600); ``rw`` never does, so a store deleted under a running process
    is not silently recreated empty; ``ro`` writes nothing at all: immutable while no -wal exists (a
    read-only directory or mount cannot hold the -shm a WAL reader needs), else mode=ro to see the
    writer's latest commits."""
    if mode == "rwc" and not path.exists():
        private_file(path)
    if mode == "ro":
        mode = "ro" if Path(f"{path}-wal").exists() else "ro&immutable=1"
    uri = f"file:{url_quote(os.fsencode(path))}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)


def sqlite_tables(path: Path, where: str) -> tuple[set[str], str | None] | None:
    """The tables and Alembic revision of an SQLite file, read without writing a byte (None: 0 bytes),
    so that a file refused as foreign, not a database, or empty is left exactly as it was: no pragma,
    no journal switch, no -wal or -shm."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if not head:
        return None  # only init may make it a database
    if head != SQLITE_HEADER:
        raise not_sqlite(where)
    con = sqlite_connect(path, "ro")
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rev = (con.execute("SELECT version_num FROM alembic_version").fetchone() or (None,))[0] \
            if "alembic_version" in tables else None
    finally:
        con.close()
    return tables, rev


def not_sqlite(where: str) -> StoreError:
    return StoreError(N_("{where} is not a preincub store (not an SQLite database); choose another file"),
                      code="not_a_store", where=where)


def read_only_reason(path: Path, explicit: bool) -> str | None:
    """Why this process cannot write the SQLite store at ``path``, a catalog msgid (None: it can).
    SQLite in WAL mode also needs to create -wal and -shm beside the file, hence the directory."""
    if explicit:
        return N_("opened with ?mode=ro")
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return N_("on a read-only file system")
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return N_("no write permission on the file")
    return N_("no write permission on its directory")


def warn_if_shared(path: Path, where: str) -> None:
    """The owner of a store others may open is told once, on stderr; other readers are not nagged."""
    st = path.stat()
    if st.st_uid == os.geteuid() and st.st_mode & 0o077:
        mode = f"{st.st_mode & 0o777:04o}"
        warnings.warn(StoreWarning(N_("the store {where} is open to other users (mode {mode}) and holds personal "
                                      "data: chmod 600 {where}"), where=where, mode=mode), stacklevel=3)


def identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of the store's file: what stays the same while it is the same file."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st is not None else None


def _fd_identities(pid: int | str) -> Iterator[tuple[int, int]]:
    """(device, inode) of every file process ``pid`` has open that this process may look at (Linux /proc;
    elsewhere, or for another user's process, nothing)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return
    for fd in fds:
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")  # follows the link: no file is opened, no lock dropped
        except OSError:
            continue
        yield st.st_dev, st.st_ino


def open_here(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    """The files of ``paths`` this process has open, with their (device, inode)."""
    wanted = {ident: path for path in paths if (ident := identity(path)) is not None}
    mine = set(_fd_identities("self")) if wanted else set()
    return {path: ident for ident, path in wanted.items() if ident in mine}


def holders(path: Path) -> list[int]:
    """The processes (pids, this one included) that have the SQLite file ``path`` open, as far as Linux
    tells: a lock on its -shm (in WAL mode every connection holds a shared lock on byte 128, SQLite's
    "DMS" lock; /proc/locks lists it with its owner, whoever that is), and the processes of this user
    whose open files (/proc/PID/fd) include the file or its -wal or -shm. Read without opening any of
    them: closing a file this process has open would drop its own SQLite connections' locks."""
    files = {ident for suffix in ("", "-wal", "-shm") if (ident := identity(Path(f"{path}{suffix}"))) is not None}
    if not files:
        return []
    found: list[int] = []
    shm = identity(Path(f"{path}-shm"))
    if shm is not None:
        mark = f"{os.major(shm[0]):02x}:{os.minor(shm[0]):02x}:{shm[1]}"
        try:
            with open("/proc/locks") as f:
                for line in f:
                    parts = line.split()
                    # "1: POSIX  ADVISORY  READ 10157 fe:00:2154762 128 128" (an OFD lock has pid -1)
                    if len(parts) >= 8 and parts[5] == mark and int(parts[6]) <= 128 and \
                            (parts[7] == "EOF" or int(parts[7]) >= 128) and parts[4].isdigit():
                        found.append(int(parts[4]))
        except (OSError, ValueError):
            pass
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit() and int(entry) not in found and not files.isdisjoint(_fd_identities(entry)):
            found.append(int(entry))
    return found


def write_private(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` as a new 0600 file (a report or an export may hold personal data),
    whole or not at all: a private temporary file beside it, then renamed over it. An OSError names
    the file asked for, never the temporary one."""
    with staged_private(path, data) as target:
        return target


@contextmanager
def staged_private(path: str | os.PathLike, data: bytes) -> Iterator[Path]:
    """:func:`write_private` in two steps: ``data`` is written (to the temporary file) before the
    block, and put in place only once the block has succeeded; on any error in it, nothing is left.
    For a document whose record the block commits: neither goes without the other. A device or a
    FIFO (/dev/null, /dev/stdout) is written to after the block, never renamed over."""
    target = Path(path).expanduser()
    try:
        special = not stat.S_ISREG(target.stat().st_mode)
    except OSError:
        special = False  # a new file (or one we cannot stat: the write says why)
    if special:
        yield target
        try:
            with open(target, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:50]}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        raise
    try:
        yield target
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(target)) from None
