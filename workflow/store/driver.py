"""The SQLite driver's cursor used directly on the hot paths: the statements of ``advance``
(:func:`direct` in its write transaction, :func:`direct_read` for its read before), the idle tick's
plan (:class:`DirectRead`) and the batches of an import (:func:`insert_many`).

SQLAlchemy's execution path costs some 40 µs a statement (execution context, events, result
object), several times what SQLite takes to run one of ``advance``'s small statements. Here each
statement is compiled ONCE per process and per set of parameter names, with SQLAlchemy's own
compiler, bind processors (aware datetimes to stored UTC text, booleans) and result processors
(dates, booleans): the SQL, the values and the rows are the ones SQLAlchemy would have used.

:class:`Direct` has the part of ``Connection.execute``'s contract these callers use (``first``,
``scalar``, ``one``, ``all``, ``rowcount``, ``inserted_primary_key``). Whatever it does not
prepare (an executemany, a statement with Python-side defaults or RETURNING, escaped bind names)
or whenever someone listens to the engine's statements (``before_cursor_execute``: the
benchmark's SQL trace) goes through the connection itself, unchanged. :func:`transaction` runs
one on the driver's connection alone, in its own ``BEGIN IMMEDIATE`` ... ``COMMIT``
(``Store.direct_write``): there, a statement it cannot prepare is a programming error.

Only the store's modules use it. A ``store`` given here is ``workflow.store.engine.Store`` (which
builds on this module, hence not imported): only its ``dialect`` and ``engine`` are read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound


def direct(store: Any, conn: Connection) -> Any:
    """``conn``, or on SQLite a :class:`Direct` on it: ``execute`` for prebuilt Core statements through
    the driver's cursor, in ``conn``'s transaction (which must have begun)."""
    return Direct(conn) if store.dialect == "sqlite" else conn


class _Prepared:
    """One statement compiled for SQLite: its SQL, its parameters' names in order and their defaults
    (the statement's constants), the bind processors by position, the result processors, and for an
    INSERT its table's one primary-key column."""

    __slots__ = ("sql", "names", "defaults", "binds", "results", "pk")

    def __init__(self, sql: str, names: tuple[str, ...], defaults: dict[str, Any], binds: list[tuple[int, Any]],
                 results: list[Any] | None, pk: str | None) -> None:
        self.sql, self.names, self.defaults, self.binds = sql, names, defaults, binds
        self.results, self.pk = results, pk


_NOT_PREPARABLE = object()
# (statement, parameter names) -> _Prepared, or _NOT_PREPARABLE. Statements are module constants
# built once; the key holds the statement itself, so an id is never reused by another one.
# Bounded: a caller building its statement at each call would otherwise fill it.
_CACHE: dict[tuple[Any, tuple[str, ...]], Any] = {}
_CACHE_LIMIT = 512


def _prepare(stmt: Any, keys: tuple[str, ...], dialect: Any) -> Any:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    if (not compiled.positional or compiled.escaped_bind_names or compiled.insert_prefetch
            or compiled.update_prefetch or compiled.effective_returning):
        return _NOT_PREPARABLE
    # The constants of the statement (an IN list, a literal id) come with it; the names the caller
    # gives are filled at each call (None here only to expand the statement once).
    free = {b.key: None for b in compiled.binds.values() if b.required}
    expanded = compiled.construct_expanded_state(free)
    processors = {**compiled._bind_processors, **expanded.processors}  # noqa: SLF001 - SQLAlchemy's own
    names = tuple(expanded.positiontup)
    binds = [(i, processors[name]) for i, name in enumerate(names) if processors.get(name) is not None]
    results = None
    if compiled._result_columns:  # noqa: SLF001 - a SELECT
        procs = [col[3]._cached_result_processor(dialect, None) for col in compiled._result_columns]  # noqa: SLF001
        results = procs if any(procs) else None
    pk = None
    if compiled.isinsert:
        cols = list(stmt.table.primary_key.columns)
        pk = cols[0].key if len(cols) == 1 else None
    return _Prepared(expanded.statement, names, dict(expanded.parameters), binds, results, pk)


class _Result:
    """The rows (or the count, or the new id) of one statement run by :class:`Direct`."""

    __slots__ = ("rows", "rowcount", "inserted_primary_key")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int,
                 inserted_primary_key: tuple[Any, ...] | None) -> None:
        self.rows, self.rowcount, self.inserted_primary_key = rows, rowcount, inserted_primary_key

    def __iter__(self) -> Any:
        return iter(self.rows)

    def all(self) -> list[tuple[Any, ...]]:
        return self.rows

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def one(self) -> tuple[Any, ...]:
        if not self.rows:
            raise NoResultFound("No row was found when one was required")
        if len(self.rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self.rows[0]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]


def _lookup(stmt: Any, params: Mapping[str, Any], dialect: Any) -> Any:
    key = (stmt, tuple(params))
    prepared = _CACHE.get(key)
    if prepared is None:
        prepared = _prepare(stmt, key[1], dialect)
        if len(_CACHE) < _CACHE_LIMIT:  # a statement built afresh at each call is compiled each time
            _CACHE[key] = prepared
    return prepared


def _run(prepared: _Prepared, cursor: sqlite3.Cursor, params: Mapping[str, Any]) -> _Result:
    defaults = prepared.defaults
    values = [params[name] if name in params else defaults[name] for name in prepared.names]
    for i, process in prepared.binds:
        values[i] = process(values[i])
    try:
        cursor.execute(prepared.sql, values)
        rows = cursor.fetchall() if cursor.description is not None else []
    except sqlite3.Error as exc:  # as SQLAlchemy raises it (the store's error handling maps those)
        raise DBAPIError.instance(prepared.sql, values, exc, sqlite3.Error) from exc
    if prepared.results is not None and rows:
        procs = prepared.results
        rows = [tuple(v if p is None else p(v) for v, p in zip(row, procs)) for row in rows]
    pk = None
    if prepared.pk is not None:
        pk = (params[prepared.pk] if params.get(prepared.pk) is not None else cursor.lastrowid,)
    return _Result(rows, cursor.rowcount, pk)


def _traced(dispatch: Any) -> bool:
    return bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)


def traced(engine: Any) -> bool:
    """Whether someone listens to ``engine``'s statements (they must then go through SQLAlchemy)."""
    return _traced(engine.dispatch)


def _driver_error(statement: str, exc: sqlite3.Error) -> DBAPIError:
    return DBAPIError.instance(statement, None, exc, sqlite3.Error)


@contextmanager
def transaction(driver: sqlite3.Connection, dialect: Any) -> Iterator[Direct]:
    """One write transaction on the SQLite driver's connection ``driver`` (in autocommit mode, as the
    store's engine leaves it): ``BEGIN IMMEDIATE``, the statements run by a :class:`Direct` with no
    connection behind it, then ``COMMIT``, or ``ROLLBACK`` on any error. Driver errors come out as
    SQLAlchemy's (the store's error handling maps those)."""
    cursor = driver.cursor()
    try:
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _driver_error("BEGIN IMMEDIATE", exc) from exc
        try:
            yield Direct.on_cursor(cursor, dialect)
        except BaseException:
            _rollback(driver)
            raise
        try:
            cursor.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(driver)
            raise _driver_error("COMMIT", exc) from exc
    finally:
        cursor.close()


def _rollback(driver: sqlite3.Connection) -> None:
    """Undo what is open, keeping the error that made us undo it: a rollback that fails too (an I/O
    error) must not replace it; the pool rolls back again when the connection comes back."""
    try:
        if driver.in_transaction:
            driver.rollback()
    except sqlite3.Error:
        pass


def checkout(engine: Any) -> Any:
    """A connection of ``engine``'s pool, its opening errors as SQLAlchemy's (which the store's error
    handling maps: "unable to open database file" in the user's words)."""
    try:
        return engine.raw_connection()
    except sqlite3.Error as exc:
        raise _driver_error("connect", exc) from exc


class Direct:
    """``execute`` for prebuilt statements through the SQLite driver's cursor, in the transaction of
    ``conn`` (which must have begun: the caller got it from a session or ``begin()``)."""

    __slots__ = ("conn", "_cursor", "_dialect", "_traced")

    def __init__(self, conn: Connection) -> None:
        self.conn: Connection | None = conn
        self._cursor: sqlite3.Cursor | None = None
        self._dialect = conn.dialect
        self._traced = _traced(conn.dispatch)

    @classmethod
    def on_cursor(cls, cursor: sqlite3.Cursor, dialect: Any) -> Direct:
        """One on the driver's ``cursor`` alone, with no SQLAlchemy connection to fall back on."""
        self = cls.__new__(cls)
        self.conn, self._cursor, self._dialect, self._traced = None, cursor, dialect, False
        return self

    def execute(self, stmt: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> Any:
        if self._traced or not (params is None or isinstance(params, Mapping)):
            return self._fallback(stmt, params)
        params = params or {}
        prepared = _lookup(stmt, params, self._dialect)
        if prepared is _NOT_PREPARABLE:
            return self._fallback(stmt, params)
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()
        return _run(prepared, self._cursor, params)

    def execute_many(self, stmt: Any, rows: list[dict[str, Any]]) -> int:
        """:func:`insert_many` in this transaction: one executemany of the driver's cursor; the rows changed."""
        prepared = None if self._traced else _lookup(stmt, rows[0], self._dialect)
        if prepared is None or prepared is _NOT_PREPARABLE:
            return self._fallback(stmt, rows).rowcount
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()
        return _run_many(prepared, self._cursor, rows)

    def _fallback(self, stmt: Any, params: Any) -> Any:
        if self.conn is None:
            raise TypeError(f"workflow.store.driver cannot run this statement on the driver alone: {stmt}")
        return self.conn.execute(stmt, params)


class DirectRead:
    """``execute`` for a prebuilt SELECT of ONE statement outside any transaction (SQLite runs it as its
    own read transaction, as consistent as a BEGIN ... ROLLBACK around it): on a connection of the
    engine's pool, through the driver's cursor. What :class:`Direct` would not prepare, or any
    listener on the engine's statements, gets SQLAlchemy's own path."""

    __slots__ = ("engine",)

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def execute(self, stmt: Any, params: Mapping[str, Any] | None = None) -> Any:
        if not getattr(stmt, "is_select", False):
            raise TypeError("DirectRead runs a SELECT only")
        params = params or {}
        prepared = None if _traced(self.engine.dispatch) else _lookup(stmt, params, self.engine.dialect)
        if prepared is None or prepared is _NOT_PREPARABLE:
            with self.engine.connect() as conn:
                return _Result(conn.execute(stmt, params).all(), -1, None)
        pooled = checkout(self.engine)
        try:
            cursor = pooled.driver_connection.cursor()
            try:
                return _run(prepared, cursor, params)
            finally:
                cursor.close()
        finally:
            pooled.close()  # back to the pool (which rolls back: nothing to undo)


def direct_read(store: Any) -> DirectRead | None:
    """On SQLite a :class:`DirectRead` on the store's engine, else None (the caller's session reads)."""
    return DirectRead(store.engine) if store.dialect == "sqlite" else None


def insert_many(conn: Any, stmt: Any, rows: list[dict[str, Any]]) -> int:
    """``conn.execute(stmt, rows)`` (rows of the same keys), on SQLite as one executemany of the driver's
    cursor: the statement compiled once with SQLAlchemy's own compiler and bind processors (the values
    stored are the ones SQLAlchemy would store), each distinct value processed once (``now`` on every
    row). SQLAlchemy's per-row parameter processing was most of an import's insert time. Elsewhere, or
    when someone listens to the engine's statements, SQLAlchemy's own path. ``conn``: a connection or a
    :class:`Direct` (advance's transaction). Returns the rows changed (an ``ON CONFLICT DO NOTHING`` skip
    changes none)."""
    if not rows:
        return 0
    if isinstance(conn, Direct):
        return conn.execute_many(stmt, rows)
    prepared = None
    if conn.dialect.name == "sqlite" and not traced(conn.engine):
        prepared = _lookup(stmt, rows[0], conn.dialect)
    if prepared is None or prepared is _NOT_PREPARABLE:
        return conn.execute(stmt, rows).rowcount
    cursor = conn.connection.driver_connection.cursor()
    try:
        return _run_many(prepared, cursor, rows)
    finally:
        cursor.close()


def _run_many(prepared: _Prepared, cursor: sqlite3.Cursor, rows: list[dict[str, Any]]) -> int:
    names, defaults = prepared.names, prepared.defaults
    values = [[row[n] if n in row else defaults[n] for n in names] for row in rows]
    for i, process in prepared.binds:
        done: dict[Any, Any] = {}
        for v in values:
            x = v[i]
            try:
                v[i] = done[x]
            except KeyError:
                v[i] = done[x] = process(x)
            except TypeError:  # not hashable
                v[i] = process(x)
    try:
        cursor.executemany(prepared.sql, values)
    except sqlite3.Error as exc:  # as SQLAlchemy raises it (the store's error handling maps those)
        raise DBAPIError.instance(prepared.sql, values[:10], exc, sqlite3.Error) from exc
    return cursor.rowcount
