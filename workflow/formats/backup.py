"""File copies of an SQLite store: ``backup`` writes a consistent copy of the live store, ``restore``
puts a checked copy back. The safe ways to do what ``cp`` over a live store does unsafely.

A copy is made with SQLite's online backup API from a read-only connection: a snapshot of one
moment, taken while the daemon and ``serve`` go on writing; written to a private (0600) temporary
file beside the target, switched to the rollback journal (so nothing but the file is needed: no
-wal beside it), then renamed into place.

``restore`` checks the copy first (a private temporary copy of it, so what is checked is what is
installed): SQLite's integrity check, a preincub schema this preincub knows (an older one upgraded
on that temporary copy), and the audit trail's chain (``Audit.verify``, as ``audit verify``). It is
refused while a daemon holds the lease or any process has the store open. Then the store being
replaced is kept (``STORE.before-restore-<UTC time>``, 0600) and the checked copy is written INTO
the live store with the backup API, in one step. Why into the file rather than a new file renamed
over it: the store keeps its inode, so no -wal or -shm of another file can ever meet it; the step is
one write transaction of the store itself, under SQLite's locks, so it is atomic (a crash or an
error mid-way rolls it back, the store as it was) and correct in WAL mode; and a process that opened
the store meanwhile (after the checks) sees the restored data at its next transaction instead of
writing into a deleted file. A rename would need every connection closed and the -wal checkpointed
and removed first, with a window where a process opening the store meets the old -wal and the new
file: the very damage this replaces.

A damaged store (what a restore is for) may not even be readable enough to be written into: then,
the checks having found no process that has it open, the checked copy is renamed over it instead
(its -wal and -shm, nobody's, removed first), with the damaged file's mode.

Copies are signed as JSON backups are (``workflow.formats.dump``): with this instance's key, the MAC of
the copy's content (its ``Dump.export``, the export's time and author left out) is stored in the
copy, in a table of its own (``preincub_copy_signature``; not a model table, so nothing else reads
it). ``restore`` computes it again over the checked copy and says where the copy comes from
(``dump.Origin``); ``require_signature`` refuses anything but this instance's. The table is
dropped before the copy is installed, and a daemon lease the copy holds (taken while a daemon ran)
is released, so a daemon started after the restore ticks at once.

A read-only store (``?mode=ro``, or a file this process may not write) is refused by ``restore``
before anything is written, and read by ``backup`` as the store's read-only readers read it:
nothing is written beside it.

The restored store's audit trail is the copy's, unchanged: ``audit verify`` gives the head it had.
No event is appended for the restore (the store's history is the copy's; the kept file is the record
of what was replaced). On any failure nothing new is left: no temporary file, no kept copy, the
store as it was. A store restored into a missing or empty file is private (0600); one that held a
store keeps its mode.

What each step asks of SQLite (the backup API, the integrity check, writing into the store) is
:mod:`workflow.store.copies`'s; this module decides when, and says why it refuses.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from notifications.i18n import colon
from workflow.clock import Clock
from workflow.context import Context, default_actor
from workflow.errors import N_, Invalid, PreincubError, StoreError
from workflow.formats import dump
from workflow.services.audit import Audit
from workflow.settings import Settings
from workflow.store import engine as store_engine
from workflow.store import files
from workflow.store import lease as lease_rows
from workflow.store import copies
from workflow.store.copies import SIDE_FILES, url_of

# The live store's states a restore may replace: missing, empty, older, or damaged (what a restore is for).
REPLACEABLE = ("no_store", "store_empty", "store_outdated", "store_damaged")
SIGNED = ("format", "version", "schema", "tables")  # what of Dump.export a copy's MAC covers


@dataclass(frozen=True, slots=True)
class StoreCopyRecord:
    """A file copy of the SQLite store (``backup``): where, its size, its schema revision."""

    file: str
    bytes: int
    schema: str


@dataclass(frozen=True, slots=True)
class StoreRestoreRecord:
    """A copy put back (``restore``): into which store, from which file, its schema (and the one it was
    upgraded from), the audit events verified in it, and where the replaced store was kept (None: no
    store was there, or it was not kept)."""

    where: str
    source: str
    schema: str
    upgraded_from: str | None
    events: int
    kept: str | None
    origin: str = "unsigned"  # dump.Origin: whether the copy's signature says it comes from this instance


class CopyRefused(StoreError):
    """A copy ``restore`` refuses for what a check found in it: the head names the copy, the rest is the
    check's own sentence (the audit trail's broken link, who may not verify it)."""

    def __init__(self, path: Path, cause: PreincubError, *, code: str) -> None:
        self.cause = cause
        super().__init__(N_("{path!q} cannot be restored"), code=code,
                         **{**cause.params, "path": str(path)})

    def text(self, lang: str = "fr") -> str:
        return super().text(lang) + colon(lang) + self.cause.text(lang)


class _Who(NamedTuple):
    """Who restores, and when: the context of each store a restore reads (the copy, the live store)."""

    clock: Clock
    actor: str
    settings: Settings

    def on(self, store: store_engine.Store) -> Context:
        return Context(store, self.clock, self.actor, self.settings)


@dataclass(frozen=True)
class Backup:
    """Copies of the live SQLite store (instance administrators only, as the JSON backup)."""

    ctx: Context

    def copy(self, target: str | os.PathLike, *, force: bool = False) -> StoreCopyRecord:
        """Write a consistent copy of the store to ``target`` (0600, one self-contained file), while
        other processes go on using the store. An existing ``target`` is replaced only with ``force``;
        the store itself (or its -wal, -shm, -journal) never."""
        store = self.ctx.store
        if store.path is None:
            raise StoreError(N_("the store {where} is a PostgreSQL database: a file copy is made of an SQLite store "
                                "only"), code="backup_not_sqlite", where=store.where)
        with store.read() as s:
            dump.require_admin(self.ctx, s)
        store.check_file()
        out = Path(target).expanduser()
        _not_the_store(out, store.path)
        # 'x.db/' or 'x.db/.' names a directory (Path would quietly make it 'x.db'): never a file to write
        if (out.exists() and not out.is_file()) or os.path.basename(os.fspath(target)) in ("", ".", ".."):
            raise Invalid(N_("{path!q} is not a regular file; give a file name"), code="copy_not_a_file",
                          path=os.fspath(target))
        if not force and out.exists():
            raise _exists(out)
        with _temporary(out) as tmp:
            try:  # a read-only store read as its own readers read it: nothing written beside it
                copies.copy(store.path, tmp, reader="store" if store.read_only else "plain")
            except copies.Failed as exc:
                raise store_engine.translate(exc.cause, store.url) or _damaged(store.path, exc.cause) from None
            schema = copies.revision(tmp)
            self._sign(tmp)
            _publish(tmp, out, force)
        return StoreCopyRecord(str(out), out.stat().st_size, schema or "")

    def _sign(self, tmp: Path) -> None:
        """Store in the copy ``tmp`` the MAC of its content with this instance's key (when it has one)."""
        key = dump.instance_key(self.ctx.settings)
        if key is None:
            return
        mac = _content_mac(Context(_open_ro(tmp), self.ctx.clock, self.ctx.actor, self.ctx.settings), key)
        copies.sign(tmp, mac)


def restore(db: str | None, source: str | os.PathLike, *, actor: str | None = None, clock: Clock | None = None,
            keep: bool = True, require_signature: bool = False) -> StoreRestoreRecord:
    """Put the copy ``source`` (``backup``'s file) back as the SQLite store at ``db``, checked first;
    the store being replaced is kept beside it unless ``keep`` is False. The acting person must be an
    instance administrator in the copy, and in the current store when it can be read. ``require_signature``:
    refuse a copy that is not signed by this instance (its origin is in the record either way)."""
    settings = Settings.from_env()
    url = store_engine.resolve_url(db or settings.store.db)
    where, path = store_engine.describe(url), store_engine.sqlite_path(url)
    if path is None:
        raise StoreError(N_("the store {where} is a PostgreSQL database: a file copy is restored into an SQLite "
                            "store only"), code="restore_not_sqlite", where=where)
    explicit_ro = copies.read_only_url(url)
    if explicit_ro or path.exists():  # refused as the store refuses a write, before anything is written
        why = files.read_only_reason(path, explicit_ro)
        if why is not None:
            raise store_engine.read_only_error(where, why)
    src = Path(source).expanduser()
    _not_the_store(src, path)
    if not src.is_file():
        raise Invalid(N_("there is no file {path!q} to restore"), code="no_copy_file", path=str(src))
    who = _Who(clock or Clock(), actor or default_actor(), settings)
    files.private_dirs(path.parent)  # as init: a new machine's data directory (0700)
    with _temporary(path) as tmp:
        schema, upgraded, events, came_from = _checked(src, tmp, who, require_signature)
        _live_checks(url, who)
        existed = path.exists()
        size = path.stat().st_size if existed else 0
        kept = _keep(path, who.clock.wall()) if keep and size else None
        mode = stat.S_IMODE(path.stat().st_mode) if existed and not size else None
        try:
            if not existed:
                files.private_file(path)
            elif mode is not None and mode != files.PRIVATE_FILE:
                os.chmod(path, files.PRIVATE_FILE)  # an empty file is about to hold the whole store
            _install(tmp, path)
        except BaseException:
            if kept is not None:
                kept.unlink(missing_ok=True)
            if not existed:
                _remove_with_side_files(path)
            elif mode is not None and mode != files.PRIVATE_FILE:
                try:
                    os.chmod(path, mode)
                except OSError:
                    pass
            raise
    return StoreRestoreRecord(where, str(src), schema, upgraded, events, str(kept) if kept else None, came_from)


# ---- the steps -----------------------------------------------------------------------------------

def _not_the_store(path: Path, store: Path) -> None:
    """Refuse ``path`` being the store itself or one of its side files."""
    for f in [store, *(Path(f"{store}{s}") for s in SIDE_FILES)]:
        same = path.resolve() == f.resolve()
        try:
            same = same or (path.exists() and f.exists() and os.path.samefile(path, f))
        except OSError:
            pass
        if same:
            raise Invalid(N_("{path!q} is the store itself; choose another file"), code="copy_is_the_store",
                          path=str(path))


def _exists(path: Path) -> Invalid:
    return Invalid(N_("{path!q} already exists; choose another file, or replace it"), code="copy_exists",
                   path=str(path))


def _damaged(path: Path, exc: BaseException) -> StoreError:
    return StoreError(N_("{path!q} is damaged ({detail}); choose another copy"), code="copy_damaged",
                      path=str(path), detail=store_engine.first_line(exc))


@contextmanager
def _temporary(beside: Path) -> Iterator[Path]:
    """A new private (0600) file beside ``beside``, removed with its side files when the block ends
    (a publish has renamed it by then). An OSError names ``beside``, never the temporary file."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{beside.name[:50]}.", suffix=".tmp", dir=beside.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(beside)) from None
    tmp = Path(name)
    try:
        os.fchmod(fd, files.PRIVATE_FILE)
        os.close(fd)
        yield tmp
    finally:
        _remove_with_side_files(tmp)


def _remove_with_side_files(path: Path) -> None:
    for f in [path, *(Path(f"{path}{s}") for s in SIDE_FILES)]:
        f.unlink(missing_ok=True)


def _open_ro(path: Path) -> store_engine.Store:
    """The store in the file ``path``, read-only: nothing written in it or beside it."""
    return store_engine.open_store(url_of(path) + "?mode=ro")


def _content_mac(ctx: Context, key: bytes) -> str:
    """The MAC of the content of ``ctx``'s store (closed afterwards), as a JSON backup's signature covers it:
    every row of every table, not when or by whom it was exported."""
    try:
        doc = dump.Dump(ctx).export()
    finally:
        ctx.store.close()
    return dump._mac({k: doc[k] for k in SIGNED}, key)


def _publish(tmp: Path, target: Path, force: bool) -> None:
    """Give ``tmp`` the name ``target``: renamed over it (``force``), else linked only if the name is
    still free (no file created meanwhile is ever replaced)."""
    try:
        if force:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
    except FileExistsError:
        raise _exists(target) from None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    copies.sync_dir(target.parent)


def _checked(src: Path, tmp: Path, who: _Who, require_signature: bool = False) -> tuple[str, str | None, int, str]:
    """Copy ``src`` into ``tmp`` and check it there: (schema as found, the revision it was upgraded
    from or None, audit events verified, its origin: dump.Origin). Refused in one line with nothing
    changed. Then ``tmp`` is made ready to install: its signature dropped, its lease released."""
    with open(src, "rb") as f:
        head = f.read(4096)
    if not head.startswith(files.SQLITE_HEADER):
        if head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"{"):
            raise Invalid(N_("{path!q} is a JSON backup, not a copy of the store: restore it with "
                             "preincub --db NEW.db import-all {path!q}"), code="copy_is_json", path=str(src))
        raise files.not_sqlite(str(src))
    try:
        result = copies.checked_copy(src, tmp)
    except copies.Failed as exc:
        if "not a database" in str(exc.cause):
            raise files.not_sqlite(str(src)) from None
        raise _damaged(src, exc.cause) from None
    if result != ["ok"]:
        raise _damaged(src, Exception(result[0] if result else "integrity_check"))
    found = files.sqlite_tables(tmp, str(src))
    state, rev = store_engine.judge(*found) if found else ("empty", None)
    if state == "empty":
        raise Invalid(N_("{path!q} holds no preincub store (an empty database); choose another copy"),
                      code="copy_empty", path=str(src))
    store_engine.check_state(str(src), state, rev, create=True)  # another application's, or a newer preincub's
    upgraded = None
    if rev != store_engine.HEAD_REVISION:
        engine = store_engine.make_engine(url_of(tmp), "rw")
        try:
            store_engine.upgrade(engine)
        finally:
            engine.dispose()
        upgraded = rev
    copy = store_engine.open_store(url_of(tmp))
    try:
        events = Audit(who.on(copy)).verify().events
        came_from = _origin(who.on(copy))
    except PreincubError as exc:
        # the chain's broken link; a signature table that is none of ours; who may not read the copy
        code = {"audit_broken": "copy_audit_broken", "not_a_backup": "not_a_backup"}.get(exc.code, "copy_not_allowed")
        raise CopyRefused(src, exc, code=code) from None
    finally:
        copy.close()
    if require_signature and came_from != dump.Origin.THIS_INSTANCE:
        raise Invalid(N_("this backup is not signed by this instance ({origin!t}); nothing was restored"),
                      code="backup_not_signed", origin=dump.ORIGIN_TEXT[came_from])
    _ready(tmp)
    copies.settle(tmp)
    return rev or "", upgraded, events, came_from


def _origin(ctx: Context) -> str:
    """Where the copy in ``ctx``'s store comes from (``dump.Origin``), as ``dump.origin`` tells a JSON
    backup's: its signature table against the MAC of its content with this instance's key."""
    with ctx.store.read() as s:
        rows = copies.signature(s)
    if rows is None:
        return dump.origin({}, None)  # unsigned
    sig: Any = {"alg": rows[0][0], "mac": rows[0][1]} if len(rows) == 1 else None  # None: unknown
    key = dump.instance_key(ctx.settings)
    if key is None or not isinstance(sig, dict) or sig["alg"] != "hmac-sha256" or not isinstance(sig["mac"], str):
        return dump.origin({dump.SIGNATURE: sig or "?"}, key)  # unchecked, or an unknown signature (refused)
    doc = dump.Dump(ctx).export()
    return dump.origin({**{k: doc[k] for k in SIGNED}, dump.SIGNATURE: sig}, key)


def _ready(tmp: Path) -> None:
    """The checked copy ``tmp`` as it is installed: without its signature (the store's content is not a
    copy's), and holding no live daemon lease (the copy may have been taken while a daemon ran: a
    daemon started after the restore ticks at once)."""
    copy = store_engine.open_store(url_of(tmp))
    try:
        with copy.write() as s:
            copies.unsign(s)
            copies.release_leases(s, lease_rows.RELEASED, lease_rows.DAEMON_LEASE)
    finally:
        copy.close()


def _live_checks(url: str, who: _Who) -> None:
    """Refuse to replace the store while the daemon holds its lease or a process has it open, or when
    the acting person is not an instance administrator of it (when it can be read). Leaves no connection open."""
    path = store_engine.sqlite_path(url)
    where = store_engine.describe(url)
    try:
        live = store_engine.open_store(url)
    except StoreError as exc:
        if exc.code not in REPLACEABLE:
            raise
        live = None
    if live is not None:
        try:
            with live.read() as s:
                dump.require_admin(who.on(live), s)
                row = lease_rows.get(s)
                lease = None if row is None else (row.holder, row.until)
        except StoreError as exc:
            if exc.code not in REPLACEABLE:
                raise
            lease = None
        finally:
            live.close()
        if lease is not None and lease[1] > who.clock.wall() and _alive(lease[0]):
            raise StoreError(N_("the daemon {holder} holds the store {where} until {until}; stop it, then restore"),
                             code="daemon_running", holder=lease[0], where=where,
                             until=lease[1].isoformat(timespec="seconds"))
    pids = files.holders(path)
    if pids:
        raise StoreError(N_("the store {where} is open in another process (pid {pid}); stop it, then restore"),
                         code="store_in_use", where=where, pid=pids[0])


def _alive(holder: str) -> bool:
    """Whether the lease's holder ("host:pid", ``delivery.holder_name``) may still run: a process of this
    host that no longer exists (a daemon killed -9) holds nothing; another host's, we cannot know."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _keep(path: Path, now: datetime) -> Path:
    """A 0600 copy of the store about to be replaced, ``STORE.before-restore-<UTC time>``: a consistent
    snapshot, or the file's bytes as they are when SQLite cannot read it (damaged)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    with _temporary(path) as tmp:
        copies.keep_copy(path, tmp)
        for n in range(100):
            kept = path.with_name(f"{path.name}.before-restore-{stamp}" + (f".{n}" if n else ""))
            try:
                _publish(tmp, kept, force=False)
                return kept
            except Invalid:
                continue
    raise _exists(kept)


def _install(tmp: Path, path: Path) -> None:
    """Write the checked copy ``tmp`` into the store at ``path`` (``copies.install``); SQLite's errors
    other than damage in the store's words."""
    try:
        copies.install(tmp, path)
    except copies.Failed as exc:
        raise store_engine.translate(exc.cause, url_of(path)) or _damaged(path, exc.cause) from None
