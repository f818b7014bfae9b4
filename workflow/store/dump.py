"""The store's tables as the JSON dump reads and writes them (``workflow.formats.dump``): every table in
dependency order, each column's kind and unique keys, every row read back, and the writes of an import
into an empty store (one transaction, ids kept)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

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


# ---- an import ----------------------------------------------------------------------------------

def lock_all(s: Session) -> None:
    """On PostgreSQL, no other writer until this transaction commits."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in all_tables())
        conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def is_empty(s: Session) -> bool:
    """No row in any table (the audit trail's head of a new store aside: it is the empty chain's)."""
    conn = s.connection()
    return all(conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None
               for t in all_tables() if t.name != "audit_head")


def insert(s: Session, table: sa.Table, values: list[dict[str, Any]], batch: int) -> None:
    """The rows ``values`` into ``table``, ``batch`` at a time; :class:`InsertFailed` if the store refuses one."""
    conn = s.connection()
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
