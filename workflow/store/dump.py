"""The store's tables as the JSON dump reads and writes them (``workflow.formats.dump``): every table in
dependency order, each column's kind and unique keys, every row read back, and the writes of an import
into an empty store (one transaction, ids kept)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from itertools import repeat
from operator import eq, itemgetter, methodcaller
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from workflow.store import driver
from workflow.store.engine import first_line
from workflow.store.models import SQLModel, UTCDateTime


class InsertFailed(Exception):
    """A row the store refused on import (a constraint the document's checks did not foresee); ``detail``
    is the store's own first line."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# Who is signed in, and which single-use links were used: state of the running service, not data. A
# backup leaves them out, so a restore signs everyone out (rows of them need a person, so a store that
# holds some is never empty: an import never lands beside them). The reminders' plan is a cache of the
# reminders' last full look: made again by the next tick.
NOT_DUMPED = frozenset({"web_session", "spent_link", "reminder_plan"})


def all_tables() -> list[sa.Table]:
    """Every table of the store in dependency order (a table after every table it refers to)."""
    return list(SQLModel.metadata.sorted_tables)


def tables() -> list[sa.Table]:
    """The tables a dump holds, in dependency order."""
    return [t for t in all_tables() if t.name not in NOT_DUMPED]


def kind(col: sa.Column) -> str:
    """How a column's values are written in the document: datetime, bool, date, int, float or str."""
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


def big(col: sa.Column) -> bool:
    """Whether an integer column holds a BIGINT (the money columns, in cents)."""
    return isinstance(col.type, sa.BigInteger)


def uniques(table: sa.Table) -> list[tuple[str, ...]]:
    """The column names of each unique key of ``table``, its primary key first."""
    keys = [tuple(c.name for c in table.primary_key.columns)]
    for cons in table.constraints:
        if isinstance(cons, sa.UniqueConstraint):
            keys.append(tuple(c.name for c in cons.columns))
    for ix in table.indexes:
        if ix.unique:
            keys.append(tuple(c.name for c in ix.columns))
    keys += [(c.name,) for c in table.columns if c.unique]
    return list(dict.fromkeys(k for k in keys if k))


def rows(s: Session, table: sa.Table) -> list[Any]:
    """Every row of ``table``, all its columns in order, by primary key."""
    cols = list(table.columns)
    order = list(table.primary_key.columns) or cols
    return list(s.connection().execute(sa.select(*cols).order_by(*order)))


# SQLite's own spelling of a stored datetime (SQLAlchemy writes microseconds always) and of a date: read as
# they are, without building a datetime (the same text as the round trip through one would give).
_SQLITE_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_SQLITE_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def _plain(col: sa.Column, dialect: sa.Dialect, coltype: Any) -> Callable[[Any], Any] | None:
    """How a value of ``col``, as the driver returns it, becomes what the document holds (an ISO text in
    UTC for a datetime, an ISO day, a bool, a float; ``None`` stays ``None``): decided once per column,
    through the column type's own result processing (``coltype``: the driver's type code for it); None
    when the driver's value is already it."""
    proc = col.type.dialect_impl(dialect).result_processor(dialect, coltype)
    k = kind(col)
    sqlite = dialect.name == "sqlite"

    def typed(v: Any) -> Any:  # what a select through SQLAlchemy gives
        return v if v is None or proc is None else proc(v)

    if k == "datetime":
        stamp = _SQLITE_STAMP.fullmatch

        def when(v: Any) -> Any:
            if v is None:
                return None
            if sqlite and type(v) is str and stamp(v):  # what isoformat() of that UTC datetime writes
                return f"{v[:10]}T{v[11:19]}+00:00" if v.endswith("000000") else f"{v[:10]}T{v[11:]}+00:00"
            return typed(v).astimezone(timezone.utc).isoformat()
        return when
    if k == "date":
        day = _SQLITE_DAY.fullmatch

        def on(v: Any) -> Any:
            if v is None:
                return None
            if sqlite and type(v) is str and day(v):
                return v
            return typed(v).isoformat()
        return on
    if k == "float":
        return lambda v: v if v is None or type(v) is float else float(typed(v))
    return None if proc is None else typed


def plain_rows(s: Session, table: sa.Table) -> list[Any]:
    """Every row of ``table`` as the JSON document holds it (see :func:`_plain`), all its columns in order,
    by primary key: read straight from the driver's cursor in one query, each column converted as a whole,
    and only the columns whose driver values differ from the document's."""
    conn = s.connection()
    dialect = conn.dialect
    cols = list(table.columns)
    order = list(table.primary_key.columns) or cols
    sql = str(sa.select(*cols).order_by(*order).compile(dialect=dialect))
    if driver.traced(conn.engine):  # someone listens to the statements: through SQLAlchemy, still untyped
        result = conn.exec_driver_sql(sql)
        coltypes = [d[1] for d in result.cursor.description]
        raw = [tuple(r) for r in result]
    else:
        cur = conn.connection.cursor()
        try:
            cur.execute(sql)
            raw = cur.fetchall()
            coltypes = [d[1] for d in cur.description]
        finally:
            cur.close()
    convert = [(i, f) for i, f in enumerate(map(_plain, cols, [dialect] * len(cols), coltypes)) if f is not None]
    if not raw or not convert:
        return raw
    columns = list(zip(*raw))
    for i, f in convert:
        columns[i] = map(f, columns[i])
    return list(zip(*columns))


# ---- an import ----------------------------------------------------------------------------------

def lock_all(s: Session) -> None:
    """On PostgreSQL, no other writer until this transaction commits."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in all_tables())
        conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def is_empty(s: Session) -> bool:
    """No row in any table (the audit trail's head of a new store aside: it is the empty chain's)."""
    any_row = sa.or_(*(sa.exists(sa.select(sa.literal(1)).select_from(t)) for t in all_tables()
                       if t.name != "audit_head"))
    return not s.connection().execute(sa.select(any_row)).scalar()  # one statement, not one a table


def _sqlite_stamp(v: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite (naive, microseconds always)."""
    text = v.isoformat(" ")[:-6]  # "+00:00" off
    return text if v.microsecond else f"{text}.000000"


_PROBES = (datetime(2020, 6, 23, 7, 0, tzinfo=timezone.utc),
           datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=timezone.utc))


def _bind(col: sa.Column, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """How a value of ``col`` goes to the driver: the type's own bind processing; for a UTC datetime on
    SQLite, the same text written without the naive copy SQLAlchemy makes first (checked against it)."""
    proc = col.type.dialect_impl(dialect).bind_processor(dialect)
    if proc is None or dialect.name != "sqlite" or kind(col) != "datetime" \
            or any(proc(p) != _sqlite_stamp(p) for p in _PROBES):
        return proc
    utc = timezone.utc

    def stamp(v: Any) -> Any:
        if v is None:
            return None
        return _sqlite_stamp(v) if type(v) is datetime and v.tzinfo is utc else proc(v)
    return stamp


def _raw_insert(conn: sa.Connection, table: sa.Table, values: list[dict[str, Any]]) -> tuple[str, list[Any]] | None:
    """The INSERT and its parameters, as the driver takes them, for ``values``: each column converted as a
    whole by its type's own bind processing (what SQLAlchemy would do row by row). None when SQLAlchemy
    itself must write them: rows that do not all give the same columns, or a column whose default is
    computed on the Python side."""
    keys = list(values[0])
    first = values[0].keys()
    if not keys or not all(map(eq, repeat(first), map(methodcaller("keys"), values))):  # in C: once a row
        return None
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    if sorted(names) != sorted(keys) or getattr(compiled, "escaped_bind_names", None):
        return None
    getter = itemgetter(*names)
    tuples = list(map(getter, values)) if len(names) > 1 else [(getter(r),) for r in values]
    columns: list[Any] = list(zip(*tuples))
    for i, name in enumerate(names):
        proc = _bind(table.columns[name], dialect)
        if proc is not None:
            columns[i] = map(proc, columns[i])
    params: list[Any] = list(zip(*columns))
    if not compiled.positional:
        params = [dict(zip(names, p)) for p in params]
    return str(compiled), params


def insert(s: Session, table: sa.Table, values: list[dict[str, Any]], batch: int) -> None:
    """The rows ``values`` into ``table``, ``batch`` at a time, straight through the driver's
    ``executemany``; :class:`InsertFailed` if the store refuses one."""
    conn = s.connection()
    if not values:
        return
    raw = _raw_insert(conn, table, values)
    if raw is not None:
        sql, params = raw
        if driver.traced(conn.engine):  # someone listens to the statements: through SQLAlchemy
            for i in range(0, len(params), batch):
                try:
                    conn.exec_driver_sql(sql, params[i:i + batch])
                except sa.exc.DBAPIError as exc:
                    raise InsertFailed(first_line(exc)) from None
            return
        cur = conn.connection.cursor()
        try:
            for i in range(0, len(params), batch):
                cur.executemany(sql, params[i:i + batch])
        except conn.dialect.loaded_dbapi.Error as exc:
            raise InsertFailed(first_line(exc)) from None
        finally:
            cur.close()
        return
    for i in range(0, len(values), batch):
        try:
            conn.execute(table.insert(), values[i:i + batch])
        except sa.exc.DBAPIError as exc:
            raise InsertFailed(first_line(exc)) from None


def reset_sequences(s: Session) -> None:
    """On PostgreSQL, after explicit ids: each id sequence continues after the largest id, so new rows
    never collide."""
    conn = s.connection()
    if conn.dialect.name != "postgresql":
        return
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
