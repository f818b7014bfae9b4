"""Backup and restore: the whole store as one JSON document, and that document back into an EMPTY store.

``Backup.dump`` reads every table of the schema, in dependency order, each row with its id, and tags the
document with the schema revision (``workflow.db.HEAD_REVISION``). :func:`import_all` checks the whole
document first (its format, its schema, every value against its column's type, ids unique, references
resolved, unique keys free), then writes it into an empty store in ONE transaction, ids preserved (on
PostgreSQL the id sequences are moved past them). A non-empty store, a document from a newer schema, or
anything that is not a preincub backup is refused with nothing written. It is the way between SQLite
and PostgreSQL too: ``status``, ``history`` and ``checkin list`` read the same afterwards.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow import audit
from workflow import db as dbmod
from workflow.context import Context
from workflow.errors import N_, Invalid, StoreError
from workflow.models import SQLModel, UTCDateTime

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


def tables() -> list[sa.Table]:
    """The store's tables in dependency order (a table after every table it refers to)."""
    return list(SQLModel.metadata.sorted_tables)


def _kind(col: sa.Column) -> str:
    t = col.type
    if isinstance(t, UTCDateTime):
        return "datetime"
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Integer):
        return "int"
    if isinstance(t, sa.Float):
        return "float"
    return "str"


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return value.astimezone(timezone.utc).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "float":
        return float(value)
    return value


def dumps(doc: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON, one row a line (text kept as typed; a lone surrogate escaped, so the
    file stays UTF-8)."""
    def enc(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, allow_nan=False)

    head = {k: v for k, v in doc.items() if k != "tables"}
    parts = [enc(head)[:-1] + ', "tables": {']
    tables_out = []
    for name, part in doc["tables"].items():
        rows = ",\n  ".join(enc(r) for r in part["rows"])
        tables_out.append(f'\n {enc(name)}: {{"columns": {enc(part["columns"])}, "rows": [' +
                          (f"\n  {rows}" if rows else "") + "]}")
    text = "".join(parts) + ",".join(tables_out) + "}}\n"
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


@dataclass(frozen=True)
class Backup:
    """The whole store as one JSON-ready document (coordinators only)."""

    ctx: Context

    def dump(self) -> dict[str, Any]:
        """Every row of every table, ids included, tagged with the schema revision."""
        out: dict[str, Any] = {}
        with self.ctx.store.read() as s:
            self.ctx.require(s, "manage")
            conn = s.connection()
            for table in tables():
                cols = list(table.columns)
                kinds = [_kind(c) for c in cols]
                order = list(table.primary_key.columns) or cols
                rows = [[_plain(v, k) for v, k in zip(row, kinds)]
                        for row in conn.execute(sa.select(*cols).order_by(*order))]
                out[table.name] = {"columns": [c.name for c in cols], "rows": rows}
        return {"format": FORMAT, "version": VERSION, "schema": dbmod.HEAD_REVISION,
                "exported_at": self.ctx.clock.now().isoformat(timespec="seconds"), "exported_by": self.ctx.actor,
                "tables": out}


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
    if schema not in dbmod.KNOWN_REVISIONS:
        raise StoreError(N_("this backup was written by a newer preincub (schema {revision}); upgrade preincub "
                            "to restore it"), code="backup_too_new", revision=schema)
    return doc


def _value(raw: Any, col: sa.Column, kind: str, table: str, row: int) -> Any:
    if raw is None:
        if not col.nullable or col.primary_key:
            raise _bad(table, row, col.name, N_("a value is required"))
        return None
    if kind == "int":
        if type(raw) is not int:
            raise _bad(table, row, col.name, N_("not a whole number"))
        low, high = BIGINT_RANGE if isinstance(col.type, sa.BigInteger) else INT_RANGE
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


def _uniques(table: sa.Table) -> list[tuple[str, ...]]:
    keys = [tuple(c.name for c in table.primary_key.columns)]
    for cons in table.constraints:
        if isinstance(cons, sa.UniqueConstraint):
            keys.append(tuple(c.name for c in cons.columns))
    for ix in table.indexes:
        if ix.unique:
            keys.append(tuple(c.name for c in ix.columns))
    keys += [(c.name,) for c in table.columns if c.unique]
    return list(dict.fromkeys(k for k in keys if k))


def rows_of(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the document as column values of this schema, checked: types, required values, ids
    and unique keys, references to rows of the document."""
    known = {t.name: t for t in tables()}
    unknown = sorted(set(doc["tables"]) - set(known))
    if unknown:
        raise Invalid(N_("this file is not a preincub backup (tables this preincub does not have: {names})"),
                      code="not_a_backup", names=", ".join(repr(n[:40]) for n in unknown[:5]))
    out: dict[str, list[dict[str, Any]]] = {}
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
        kinds = [_kind(c) for c in cols]
        rows = []
        for i, raw in enumerate(part["rows"], 1):
            if not isinstance(raw, list) or len(raw) != len(cols):
                raise _bad(name, i, "*", N_("not one value per column"))
            rows.append({c.name: _value(v, c, k, name, i) for v, c, k in zip(raw, cols, kinds)})
        missing = [c for c in table.columns if c.name not in columns and not c.nullable
                   and c.server_default is None and not (c.primary_key and c.autoincrement is True)]
        if missing and rows:
            raise _bad(name, 1, missing[0].name, N_("a value is required"))
        for key in _uniques(table):
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
                target = {r.get(fk.column.name) for r in out.get(fk.column.table.name, [])}
                for i, r in enumerate(out[name], 1):
                    if r.get(col.name) is not None and r[col.name] not in target:
                        raise _bad(name, i, col.name, N_("a reference to a row the backup does not hold"))
    return out


# ---- writing it into an empty store ---------------------------------------------------------------


def _open_empty(db: str | None) -> tuple[dbmod.Store, bool, Callable[[], None]]:
    """The store at ``db``, created when there is none yet or it has no tables: (store, created, what
    undoes the creation if the import fails: a new file is removed, a 0-byte file given is emptied again)."""
    try:
        return dbmod.open_store(db), False, lambda: None
    except StoreError as exc:
        if exc.code not in ("no_store", "store_empty"):
            raise
    path = dbmod.sqlite_path(dbmod.resolve_url(db))
    existed = path is not None and path.exists()

    def undo() -> None:
        if path is None:
            return
        for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if extra.exists():
                os.unlink(extra)
        if existed:
            os.truncate(path, 0)
        elif path.exists():
            os.unlink(path)

    return dbmod.open_store(db, create=True), True, undo


def _is_empty(conn: sa.Connection) -> bool:
    """No row in any table (the audit trail's head of a new store aside: it is the empty chain's)."""
    return all(conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None for t in tables()
               if t.name != "audit_head")


def import_all(db: str | None, source: bytes | str | dict, *, batch: int = 1000) -> RestoreRecord:
    """Restore a backup (``Backup.dump``) into the EMPTY store at ``db``, in one transaction.

    Everything is checked before anything is written; a non-empty store, a newer schema or a file that
    is not a backup is refused, the store left as it was (a store file this call created is removed).
    """
    doc = parse(source)
    data = rows_of(doc)
    if db is None:
        from workflow.settings import Settings

        db = Settings.from_env().store.db
    store, created, undo = _open_empty(db)
    try:
        with store.write() as s:
            conn = s.connection()
            if store.dialect == "postgresql":  # no other writer until this commits
                names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables())
                conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            if not _is_empty(conn):
                raise StoreError(N_("the store {where} is not empty; restore a backup only into a new store "
                                    "(a new file, or an empty database)"), code="store_not_empty", where=store.where)
            audit.restored(conn, data, doc["schema"])  # the backup's chain head (or its events chained)
            if doc["schema"] < "0007" and not data["signature"]:  # as migration 0007: one signature each
                data["signature"] = [{"id": i, "programme_id": p["id"], "signed_on": p["signed_on"]}
                                     for i, p in enumerate(sorted(data["programme"], key=lambda p: p["id"]), 1)]
            for table in tables():
                rows = data[table.name]
                for i in range(0, len(rows), batch):
                    try:
                        conn.execute(table.insert(), rows[i:i + batch])
                    except sa.exc.DBAPIError as exc:
                        raise Invalid(N_("the backup could not be restored ({detail}); nothing was written"),
                                      code="bad_backup", detail=dbmod._first_line(exc)) from None
            if store.dialect == "postgresql":
                _reset_sequences(conn)
        return RestoreRecord(store.where, doc["schema"], {t.name: len(data[t.name]) for t in tables()}, created)
    except BaseException:
        store.close()
        undo()
        raise
    finally:
        store.close()


def _reset_sequences(conn: sa.Connection) -> None:
    """After explicit ids: each id sequence continues after the largest id, so new rows never collide."""
    quote = conn.dialect.identifier_preparer.quote
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer) or not pk[0].autoincrement:
            continue
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                           {"t": quote(table.name), "c": pk[0].name}).scalar()
        if seq is None:
            continue
        conn.execute(sa.text(f"SELECT setval(CAST(:seq AS regclass), COALESCE((SELECT MAX({quote(pk[0].name)}) "
                             f"FROM {quote(table.name)}), 1), (SELECT COUNT(*) > 0 FROM {quote(table.name)}))"),
                     {"seq": seq})
