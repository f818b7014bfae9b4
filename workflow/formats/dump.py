"""The whole store as one JSON document (export-all), and that document back into an EMPTY store (import-all).

``Dump.export`` reads every table of the schema, in dependency order, each row with its id, and tags the
document with the schema revision (``workflow.store.engine.HEAD_REVISION``). :func:`import_all` checks the whole
document first (its format, its schema, every value against its column's type, ids unique, references
resolved, unique keys free), then writes it into an empty store in ONE transaction, ids preserved (on
PostgreSQL the id sequences are moved past them). A non-empty store, a document from a newer schema, or
anything that is not a preincub backup is refused with nothing written. It is the way between SQLite
and PostgreSQL too: ``status``, ``history`` and ``checkin list`` read the same afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from operator import attrgetter
from pathlib import Path
from typing import Any

from workflow.context import Context
from workflow.errors import N_, Forbidden, Invalid, PreincubError, StoreError
from workflow.services.listing import gc_paused
from workflow.services import audit
from workflow.store import events
from workflow.services.links import secret_key
from workflow.settings import Settings
from workflow.store import dump as dump_rows
from workflow.store import engine as store_engine
from workflow.store import files
from workflow.store import copies
from workflow.store import lease as lease_rows
from workflow.store import people as people_rows
from workflow.store.dump import tables

FORMAT = "preincub-backup"
VERSION = 1
INT_RANGE = (-(2**31), 2**31 - 1)  # PostgreSQL's INTEGER: what both stores can hold
BIGINT_RANGE = (-(2**63), 2**63 - 1)  # PostgreSQL's BIGINT: the money columns (cents)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RestoreRecord:
    """What ``import_all`` wrote: where, from which schema, and the rows of each table."""

    where: str
    schema: str
    rows: dict[str, int]
    created: bool  # the store was created by the import (a new file, or a database without tables)
    origin: str = "unsigned"  # Origin: whether the backup's signature says it comes from this instance


def _plain(value: Any, kind: str) -> Any:
    """One typed value (as a select through the models gives it) as the document holds it; the export
    itself converts whole columns (``workflow.store.dump.plain_rows``), to the same values."""
    if value is None:
        return None
    if kind == "datetime":
        return value.astimezone(timezone.utc).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "float":
        return float(value)
    return value


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# What ``json.dumps(row, ensure_ascii=False, allow_nan=False)`` does, without building an encoder each time:
# the same C encoder, made once (a row is a flat array of plain values: no cycle to look for).
_encode_row = json.encoder.c_make_encoder(None, _not_json, json.encoder.encode_basestring, None, ": ", ", ",
                                          False, False, False) if json.encoder.c_make_encoder else None


def dumps(doc: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON, one row a line (text kept as typed; a lone surrogate escaped, so the
    file stays UTF-8)."""
    with gc_paused():
        return _dumps(doc)


def _dumps(doc: dict[str, Any]) -> bytes:
    def enc(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, allow_nan=False)

    head = {k: v for k, v in doc.items() if k != "tables"}
    parts = [enc(head)[:-1] + ', "tables": {']
    tables_out = []
    for name, part in doc["tables"].items():
        if _encode_row is None:
            rows = ",\n  ".join(enc(r) for r in part["rows"])
        else:  # one call a row (the encoder returns the text in chunks)
            rows = ",\n  ".join(["".join(_encode_row(r, 0)) for r in part["rows"]])
        tables_out.append(f'\n {enc(name)}: {{"columns": {enc(part["columns"])}, "rows": [' +
                          (f"\n  {rows}" if rows else "") + "]}")
    text = "".join(parts) + ",".join(tables_out) + "}}\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (strict UTF-8 refuses nothing else)
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def require_admin(ctx: Context, s: Any) -> None:
    """Refuse anyone but an instance administrator: a copy of the whole store (JSON or file), or its
    restore, holds every programme's data, so a coordinator of one programme may not make it."""
    if not ctx.reach(s, "programmes").everything:
        raise Forbidden(N_("acting as {actor}, you may not back up or restore the whole store: it holds every "
                           "programme's data; act as an instance administrator (role admin)"),
                        code="admin_needed", actor=ctx.actor)


@dataclass(frozen=True)
class Dump:
    """The whole store as one JSON-ready document (instance administrators only)."""

    ctx: Context

    def export(self) -> dict[str, Any]:
        """Every row of every table, ids included (the grants too), tagged with the schema revision."""
        out: dict[str, Any] = {}
        with gc_paused(), self.ctx.store.read() as s:
            require_admin(self.ctx, s)
            for table in tables():  # rows as tuples straight from the cursor: JSON writes them as arrays
                out[table.name] = {"columns": [c.name for c in table.columns], "rows": dump_rows.plain_rows(s, table)}
        return sign({"format": FORMAT, "version": VERSION, "schema": store_engine.HEAD_REVISION,
                     "exported_at": self.ctx.clock.now().isoformat(timespec="seconds"), "exported_by": self.ctx.actor,
                     "tables": out}, instance_key(self.ctx.settings))


# ---- reading a document back ---------------------------------------------------------------------


def _foreign(why: str) -> Invalid:
    """``why``: a catalog msgid saying what is wrong."""
    return Invalid(N_("this file is not a preincub backup ({why!t})"), code="not_a_backup", why=why)


def _bad(table: str, row: int, column: str, why: str) -> Invalid:
    return Invalid(N_("the backup is inconsistent: table {table}, row {row}, column {column}: {why!t}"),
                   code="bad_backup", table=table, row=row, column=column, why=why)


def parse(source: bytes | str | dict) -> dict[str, Any]:
    """The JSON document of a backup file (bytes), checked for its format and schema."""
    if isinstance(source, dict):
        doc = source
    else:
        try:
            text = source.decode("utf-8") if isinstance(source, bytes) else source
            doc = json.loads(text, parse_constant=lambda c: float("nan"))
        except UnicodeDecodeError:
            raise _foreign(N_("not UTF-8 text")) from None
        except (ValueError, RecursionError):
            raise _foreign(N_("not JSON")) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _foreign(N_("no preincub-backup format mark"))
    if doc.get("version") != VERSION or not isinstance(doc.get("tables"), dict):
        raise _foreign(N_("an unknown layout"))
    schema = doc.get("schema")
    if not isinstance(schema, str) or not re.fullmatch(r"\d{4}", schema):
        raise _foreign(N_("no schema revision"))
    if schema not in store_engine.KNOWN_REVISIONS:
        raise StoreError(N_("this backup was written by a newer preincub (schema {revision}); upgrade preincub "
                            "to restore it"), code="backup_too_new", revision=schema)
    return doc


def _value(raw: Any, col: Any, kind: str, table: str, row: int) -> Any:
    if raw is None:
        if not col.nullable or col.primary_key:
            raise _bad(table, row, col.name, N_("a value is required"))
        return None
    if kind == "int":
        if type(raw) is not int:
            raise _bad(table, row, col.name, N_("not a whole number"))
        low, high = BIGINT_RANGE if dump_rows.big(col) else INT_RANGE
        if not low <= raw <= high:
            raise _bad(table, row, col.name, N_("a number out of range"))
        return raw
    if kind == "float":
        if type(raw) not in (int, float) or not math.isfinite(raw) or abs(raw) > 1e15:
            raise _bad(table, row, col.name, N_("not a number"))
        return float(raw)
    if kind == "bool":
        if type(raw) is not bool:
            raise _bad(table, row, col.name, N_("not true or false"))
        return raw
    if not isinstance(raw, str):
        raise _bad(table, row, col.name, N_("not a text"))
    if "\x00" in raw or _SURROGATE.search(raw):
        raise _bad(table, row, col.name, N_("a character a store cannot hold"))
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad(table, row, col.name, N_("not a date")) from None
    if kind == "datetime":
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise _bad(table, row, col.name, N_("not a date and time")) from None
        if value.tzinfo is None:
            raise _bad(table, row, col.name, N_("a date and time without its time zone"))
        return value.astimezone(timezone.utc)
    return raw


_NONE = type(None)
_TZINFO = attrgetter("tzinfo")


def _utf8(text: str) -> bool:
    """No lone surrogate in ``text`` (:data:`_SURROGATE`), told by encoding it: strict UTF-8 refuses nothing else."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _column(values: tuple, col: Any, kind: str) -> Sequence[Any] | None:
    """A column's values checked and converted as a whole, as :func:`_value` does each: their types at
    once, ranges by min and max, text by one search; None when one is wrong (or may be: :func:`_value`
    then names it)."""
    types = set(map(type, values))
    present: Sequence[Any] = values
    if _NONE in types:
        if not col.nullable or col.primary_key:
            return None
        types.discard(_NONE)
        present = [v for v in values if v is not None]
        if not present:
            return values
    if kind == "int":
        low, high = BIGINT_RANGE if dump_rows.big(col) else INT_RANGE
        return values if types == {int} and low <= min(present) and max(present) <= high else None
    if kind == "float":
        if not types <= {int, float} or not all(map(math.isfinite, present)) or max(map(abs, present)) > 1e15:
            return None
        return values if types == {float} else [None if v is None else float(v) for v in values]
    if kind == "bool":
        return values if types == {bool} else None
    if types != {str}:
        return None
    text = "".join(present)
    if "\x00" in text or not _utf8(text):
        return None
    try:
        if kind == "date":
            return [None if v is None else date.fromisoformat(v) for v in values]
        if kind == "datetime":
            stamps = [None if v is None else datetime.fromisoformat(v) for v in values]
            if None in set(map(_TZINFO, filter(None, stamps))):  # one without its time zone
                return None
            return [None if v is None else v.astimezone(timezone.utc) for v in stamps]
    except ValueError:
        return None
    return values


def _columns(rows: list[Any], cols: list[Any], kinds: list[str]) -> list[Sequence[Any]] | None:
    """The document's rows of one table as checked columns (:func:`_column`); None when a row or a
    value is wrong."""
    if rows and (set(map(type, rows)) != {list} or set(map(len, rows)) != {len(cols)}):
        return None
    if not rows:
        return [() for _ in cols]
    out = []
    for values, col, kind in zip(zip(*rows), cols, kinds):
        checked = _column(values, col, kind)
        if checked is None:
            return None
        out.append(checked)
    return out


def rows_of(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the document as column values of this schema, checked: types, required values, ids
    and unique keys, references to rows of the document."""
    known = {t.name: t for t in tables()}
    unknown = sorted(set(doc["tables"]) - set(known))
    if unknown:
        raise Invalid(N_("this file is not a preincub backup (tables this preincub does not have: {names})"),
                      code="not_a_backup", names=", ".join(repr(n[:40]) for n in unknown[:5]))
    out: dict[str, list[dict[str, Any]]] = {}
    columns_of: dict[str, dict[str, Sequence[Any]]] = {}  # each table's values, column by column
    for name, table in known.items():
        part = doc["tables"].get(name, {"columns": [], "rows": []})
        if not isinstance(part, dict) or not isinstance(part.get("columns"), list) \
                or not isinstance(part.get("rows"), list):
            raise _foreign(N_("an unknown layout"))
        columns = part["columns"]
        if any(not isinstance(c, str) or c not in table.columns for c in columns) or len(set(columns)) != len(columns):
            raise Invalid(N_("this file is not a preincub backup (columns this preincub does not have, in table "
                             "{table})"), code="not_a_backup", table=name)
        cols = [table.columns[c] for c in columns]
        kinds = [dump_rows.kind(c) for c in cols]
        values = _columns(part["rows"], cols, kinds)
        if values is not None:  # every value fine: the rows made at once, column by column
            rows = [dict(zip(columns, r)) for r in zip(*values)] if cols else [{} for _ in part["rows"]]
        else:  # one is not: row by row, to name the first
            rows = []
            for i, raw in enumerate(part["rows"], 1):
                if not isinstance(raw, list) or len(raw) != len(cols):
                    raise _bad(name, i, "*", N_("not one value per column"))
                rows.append({c.name: _value(v, c, k, name, i) for v, c, k in zip(raw, cols, kinds)})
            values = [tuple(r[c] for r in rows) for c in columns]
        by_name = dict(zip(columns, values))
        columns_of[name] = by_name
        missing = [c for c in table.columns if c.name not in columns and not c.nullable
                   and c.server_default is None and not (c.primary_key and c.autoincrement is True)]
        if missing and rows:
            raise _bad(name, 1, missing[0].name, N_("a value is required"))
        for key in dump_rows.uniques(table):
            if all(k in by_name for k in key):
                present = [v for v in (zip(*(by_name[k] for k in key))) if None not in v]
                if len(set(present)) == len(present):
                    continue
            elif key and all(k not in by_name for k in key):
                continue  # no value at all: nothing taken twice
            seen: set[tuple] = set()
            for i, r in enumerate(rows, 1):
                v = tuple(r.get(k) for k in key)
                if None in v:
                    continue
                if v in seen:
                    raise _bad(name, i, ", ".join(key), N_("a value already taken by another row"))
                seen.add(v)
        out[name] = rows
    for name, table in known.items():  # references, once every table is read
        for col in table.columns:
            for fk in col.foreign_keys:
                referring = columns_of[name].get(col.name)
                if referring is None:
                    continue  # the column is not in the backup: no reference
                held = columns_of.get(fk.column.table.name, {})
                if fk.column.name in held:
                    target = set(held[fk.column.name])
                else:
                    target = {None} if out.get(fk.column.table.name) else set()
                if set(referring) - target <= {None}:
                    continue

                for i, r in enumerate(out[name], 1):
                    if r.get(col.name) is not None and r[col.name] not in target:
                        raise _bad(name, i, col.name, N_("a reference to a row the backup does not hold"))
    return out


# ---- signing: does a backup come from this instance? ------------------------------------------------

SIGNATURE = "signature"
_MAC_CONTEXT = b"preincub-backup-v1"  # the instance's secret is used for links too: a key of its own here


def instance_key(settings: Any) -> bytes | None:
    """The key this instance signs backups with, derived from its secret key (PREINCUB_SECRET_KEY, or
    the key file ``init`` creates); None when it has none (nothing is created for a backup)."""
    try:
        secret = secret_key(settings, create=False)
    except FileNotFoundError:
        return None
    return hmac.new(secret.encode("utf-8"), _MAC_CONTEXT, hashlib.sha256).digest()


def _mac(doc: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 over the document as parsed (its canonical JSON, the signature left out): how the
    file is laid out does not matter, every value does."""
    # NaN allowed: a file that holds one was not written by preincub (its signature will not match, and
    # its rows are refused), but saying so is the checks' job, not a crash's.
    body = json.dumps({k: v for k, v in doc.items() if k != SIGNATURE}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8", "surrogatepass")
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def sign(doc: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """``doc`` with its signature (a keyed MAC with this instance's key), when there is a key."""
    if key is None:
        return doc
    return {**doc, SIGNATURE: {"alg": "hmac-sha256", "mac": _mac(doc, key)}}


class Origin:
    """Where a backup comes from, as far as its signature tells (``RestoreRecord.origin``)."""

    THIS_INSTANCE = "this_instance"  # signed with this instance's key, and unchanged since
    OTHER = "other"  # signed, not with this key: another instance's, or changed since it was signed
    UNSIGNED = "unsigned"  # written without a key
    UNCHECKED = "unchecked"  # this instance has no key to check it with


def origin(doc: dict[str, Any], key: bytes | None) -> str:
    sig = doc.get(SIGNATURE)
    if sig is None:
        return Origin.UNSIGNED
    if not isinstance(sig, dict) or sig.get("alg") != "hmac-sha256" or not isinstance(sig.get("mac"), str):
        raise _foreign(N_("an unknown signature"))
    if key is None:
        return Origin.UNCHECKED
    return Origin.THIS_INSTANCE if hmac.compare_digest(sig["mac"], _mac(doc, key)) else Origin.OTHER


# ---- writing it into an empty store ---------------------------------------------------------------


def _remove(path: Path) -> None:
    """A file and whatever SQLite left beside it."""
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


class _Target:
    """Where a restore writes. An SQLite file that is not a store yet (missing, 0 bytes, no tables) is
    written as a private temporary file beside it, put in place by a rename once committed and closed
    (no -wal left): a failure leaves nothing new behind. Any other store (PostgreSQL, an SQLite store
    that holds tables) is written in place, in the import's one transaction."""

    def __init__(self, db: str) -> None:
        self.url = store_engine.resolve_url(db)
        self.where = store_engine.describe(self.url)
        self.path = store_engine.sqlite_path(self.url)
        self.temp: Path | None = None
        self.created = False
        if self.path is not None and copies.read_only_url(self.url):
            raise store_engine.read_only_error(self.where, files.read_only_reason(self.path, True))
        try:
            self.store = store_engine.open_store(db)
            return
        except StoreError as exc:
            if exc.code not in ("no_store", "store_empty"):
                raise
        self.created = True
        if self.path is None:  # a database without tables: created in place, in the transaction's scope
            self.store = store_engine.open_store(db, create=True)
            return
        try:
            files.private_dirs(self.path.parent)
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name[:50]}.", suffix=".restoring", dir=self.path.parent)
            os.fchmod(fd, files.PRIVATE_FILE)
            os.close(fd)
        except OSError as exc:
            raise store_engine.os_error(self.url, exc) from None
        self.temp = Path(name)
        try:
            self.store = store_engine.open_store(str(self.temp), create=True)
        except BaseException as exc:
            _remove(self.temp)
            raise self._named(exc) from None

    def _named(self, exc: BaseException) -> BaseException:
        """An error about the temporary file, told about the store asked for."""
        if isinstance(exc, PreincubError) and "where" in exc.params:
            return type(exc)(exc.message, code=exc.code, **{**exc.params, "where": self.where})
        return exc

    def commit(self) -> None:
        """After the import's transaction: the temporary file closed (its WAL folded in) and renamed
        over the target."""
        self.store.close()
        if self.temp is None:
            return
        try:  # the engine disposed, its last connection closed: SQLite folded the WAL in and removed it
            os.replace(self.temp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            self.abort()
            raise store_engine.os_error(self.url, exc) from None

    def abort(self) -> None:
        self.store.close()
        if self.temp is not None:
            _remove(self.temp)


def import_all(db: str | None, source: bytes | str | dict, *, batch: int = 10_000, settings: Any = None,
               require_signature: bool = False) -> RestoreRecord:
    """Restore a backup (``Dump.export``) into the EMPTY store at ``db``, in one transaction.

    Everything is checked before anything is written: the document, every value, and its audit trail
    (the chain, and the figures and phases it records against the rows: a backup edited outside
    preincub is refused, naming the first broken link). Its signature says whether it comes from this
    instance (``require_signature``: refuse it unless it does). A non-empty store, a newer schema or a
    file that is not a backup is refused; nothing new is left behind (a new SQLite store is written to
    a temporary file renamed at the end).
    """
    with gc_paused():  # hundreds of thousands of rows read, checked and written: no cycle among them
        return _import_all(db, source, batch=batch, settings=settings, require_signature=require_signature)


def _import_all(db: str | None, source: bytes | str | dict, *, batch: int, settings: Any,
                require_signature: bool) -> RestoreRecord:
    doc = parse(source)
    settings = settings or Settings.from_env()
    came_from = origin(doc, instance_key(settings))
    if require_signature and came_from != Origin.THIS_INSTANCE:
        raise Invalid(N_("this backup is not signed by this instance ({origin!t}); nothing was restored"),
                      code="backup_not_signed", origin=ORIGIN_TEXT[came_from])
    data = rows_of(doc)
    try:
        audit.verify_backup(data, doc["schema"])
    except StoreError as exc:  # the backup's trail, not a store's: its own code (and what to do)
        if exc.code != "audit_broken":
            raise
        raise StoreError(exc.message, code="backup_audit_broken", **exc.params) from None
    target = _Target(db if db is not None else settings.store.db)
    store = target.store
    try:
        with store.write() as s:
            dump_rows.lock_all(s)
            if not dump_rows.is_empty(s):
                raise StoreError(N_("the store {where} is not empty; restore a backup only into a new store "
                                    "(a new file, or an empty database)"), code="store_not_empty", where=target.where)
            events.restored(s.connection(), data, doc["schema"])  # the backup's chain head (or its events chained)
            if doc["schema"] < "0007" and not data["signature"]:  # as migration 0007: one signature each
                data["signature"] = [{"id": i, "programme_id": p["id"], "signed_on": p["signed_on"]}
                                     for i, p in enumerate(sorted(data["programme"], key=lambda p: p["id"]), 1)]
            for table in tables():
                try:
                    dump_rows.insert(s, table, data[table.name], batch)
                except dump_rows.InsertFailed as exc:
                    raise Invalid(N_("the backup could not be restored ({detail}); nothing was written"),
                                  code="bad_backup", detail=exc.detail) from None
            changed: list[int] = []
            if doc["schema"] < "0009":  # as migration 0009: coordinators and committee members granted in every programme
                changed = people_rows.grants_from_roles(s.connection())
            if doc["schema"] < "0008":  # as migration 0008: the figures already there, sealed
                events.seal_existing(s.connection())
            elif doc["schema"] < "0009":  # as migration 0009: the roles' figures, sealed again
                events.seal_existing(s.connection(), "preincub (schema 0009)", names=[events.ROLES_FIGURE],
                                     also={events.ROLES_FIGURE: changed})
            # A lease held where the backup was made holds nothing here: released, so a daemon ticks at once.
            copies.release_leases(s, lease_rows.RELEASED)
            dump_rows.reset_sequences(s)
    except BaseException as exc:
        target.abort()
        raise target._named(exc) from None
    target.commit()
    return RestoreRecord(target.where, doc["schema"], {t.name: len(data[t.name]) for t in tables()}, target.created,
                         came_from)


# What each origin is called in a sentence (catalog words).
ORIGIN_TEXT = {Origin.THIS_INSTANCE: N_("signed by this instance"),
               Origin.OTHER: N_("signed, but not by this instance: another instance's, or changed since"),
               Origin.UNSIGNED: N_("not signed"),
               Origin.UNCHECKED: N_("signed, but this instance has no secret key to check it")}
