"""The outbox in the store: claiming, settling and listing its rows, and enqueuing new ones.

Every instant these functions compare or write comes from the caller (its clock's wall time, or its
business time for staleness), never from the real time: ``--now`` reaches the whole outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from notifications.message import OutboxStatus
from workflow.store import driver
from workflow.store.models import Outbox, UTCDateTime

PENDING, SENDING, SENT, FAILED = (s.value for s in (OutboxStatus.PENDING, OutboxStatus.SENDING,
                                                       OutboxStatus.SENT, OutboxStatus.FAILED))
_T = Outbox.__table__
# Run for every few messages sent: prebuilt.
_SETTLE = sa.update(_T).where(_T.c.id == sa.bindparam("row_id"), _T.c.claimed_by == sa.bindparam("holder"))


def _among(cond: Any, among: Any) -> Any:
    """``cond``, for the rows of the programmes ``among`` (a subquery of ids; None: every row)."""
    return cond if among is None else sa.and_(cond, _T.c.programme_id.in_(among))


def _ready(at: datetime, usable: set[str] | None, among: Any = None) -> sa.ColumnElement[bool]:
    """Rows to deliver at ``at``: pending and due for an attempt, or claimed by a deliverer whose claim
    lapsed (it died); of the programmes ``among`` when given."""
    cond = sa.or_(sa.and_(Outbox.status == PENDING, Outbox.next_attempt_at <= at),
                  sa.and_(Outbox.status == SENDING, Outbox.claimed_until < at))
    return _among(cond if usable is None else sa.and_(cond, Outbox.channel.in_(sorted(usable))), among)


# ---- delivery --------------------------------------------------------------------------------------

def count_ready(s: Session, at: datetime, usable: set[str] | None, among: Any = None) -> int:
    """How many rows a delivery at ``at`` would send (through the channels ``usable``; None: all)."""
    return s.exec(select(sa.func.count()).select_from(Outbox).where(_ready(at, usable, among))).one()


def claim(s: Session, dialect: str, holder: str, after: int, at: datetime, until: datetime,
          usable: set[str] | None, batch: int, among: Any = None) -> list[Outbox]:
    """Claim for ``holder``, until ``until``, the next ``batch`` rows ready at ``at`` after id ``after``
    (of the programmes ``among`` when given; rows another deliverer locked are skipped on PostgreSQL)."""
    q = select(Outbox).where(Outbox.id > after, _ready(at, usable, among)).order_by(Outbox.id).limit(batch)
    if dialect == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(s.exec(q))
    if rows:
        s.execute(sa.update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                  .values(status=SENDING, claimed_by=holder, claimed_until=until)
                  .execution_options(synchronize_session=False))
    return rows


def renew(s: Session, holder: str, ids: list[int], until: datetime) -> set[int]:
    """Extend to ``until`` ``holder``'s claim on the rows ``ids`` not sent yet; the ids still its own."""
    res = s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder,
                                            Outbox.status == SENDING)
                    .values(claimed_until=until).returning(Outbox.id).execution_options(synchronize_session=False))
    return set(res.scalars())


def unclaim(s: Session, holder: str, ids: list[int]) -> None:
    """Give back the rows ``ids`` that ``holder`` claimed, pending again."""
    s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder)
              .values(status=PENDING, claimed_by=None, claimed_until=None)
              .execution_options(synchronize_session=False))


def settle_many(conn: sa.Connection, holder: str, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    """Record each outcome ``(row id, values)`` of an attempt on a row ``holder`` still claims, its claim
    ended: one statement per set of columns (a sent, a retry, a failure), run over its rows at once."""
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row_id, values in outcomes:
        by_columns.setdefault(frozenset(values), []).append(
            {"row_id": row_id, "holder": holder, **{f"v_{k}": v for k, v in values.items()}})
    for columns, params in by_columns.items():
        conn.execute(_settle_statement(columns), params)


@lru_cache(maxsize=16)
def _settle_statement(columns: frozenset[str]) -> sa.Update:
    """The UPDATE of one outcome's columns, built once per set of columns (a sent, a retry, a failure): made
    per message, its cache key alone cost more than SQLite's work."""
    return _SETTLE.values(claimed_by=None, claimed_until=None,
                          **{c: sa.bindparam(f"v_{c}", type_=_T.c[c].type) for c in sorted(columns)})


def expire(conn: sa.Connection, now: datetime, note: str, among: Any = None) -> int:
    """Fail the pending rows stale at ``now`` (business time), ``note`` before their last error."""
    reason = sa.func.coalesce(sa.literal(note + "; last error: ") + _T.c.last_error, sa.literal(note))
    return conn.execute(sa.update(_T).where(_among(sa.and_(_T.c.status == PENDING, _T.c.stale_at <= now), among))
                        .values(status=FAILED, last_error=reason)).rowcount


def _waiting(channel: str, at: datetime, among: Any = None) -> sa.ColumnElement[bool]:
    return _among(sa.and_(_T.c.channel == channel, sa.or_(_T.c.status == PENDING,
                                                           sa.and_(_T.c.status == SENDING, _T.c.claimed_until < at))),
                  among)


def count_waiting(s: Session, channel: str, at: datetime, among: Any = None) -> int:
    """How many rows on ``channel`` wait at ``at``: pending, or claimed by a deliverer that died."""
    return s.connection().execute(select(sa.func.count()).select_from(_T)
                                  .where(_waiting(channel, at, among))).scalar_one()


def mark_waiting(conn: sa.Connection, channel: str, at: datetime, reason: str, among: Any = None) -> None:
    """The rows waiting on ``channel`` pending, unclaimed, with ``reason`` unless a deliverer recorded
    one, failing since ``at`` unless they already were."""
    conn.execute(sa.update(_T).where(_waiting(channel, at, among), sa.or_(_T.c.last_error.is_(None),
                                                                  _T.c.status == SENDING)).values(
        status=PENDING, claimed_by=None, claimed_until=None, last_error=sa.func.coalesce(_T.c.last_error, reason),
        failing_since=sa.func.coalesce(_T.c.failing_since, sa.type_coerce(at, UTCDateTime))))  # stored as UTC, whatever zone


# ---- the outbox for people -------------------------------------------------------------------------

def listed(s: Session, status: str | None = None, limit: int | None = None, among: Any = None) -> list[Outbox]:
    """The rows (of the programmes ``among`` when given), oldest first (optionally one status, at most ``limit``)."""
    q = select(Outbox).where(_among(sa.true(), among)).order_by(Outbox.id)
    if status is not None:
        q = q.where(Outbox.status == status)
    if limit:
        q = q.limit(limit)
    return list(s.exec(q))


def health(s: Session, long_ago: datetime, among: Any = None) -> tuple[dict[str, int], int, int, datetime | None]:
    """The rows (of the programmes ``among`` when given) by status; of those pending or being sent, how
    many are failing, how many have been failing since ``long_ago`` or before, and since when the oldest has."""
    waiting = _among((_T.c.status == PENDING) | (_T.c.status == SENDING), among)
    c = s.connection()
    by = dict(c.execute(select(_T.c.status, sa.func.count()).where(_among(sa.true(), among))
                        .group_by(_T.c.status)).all())
    retrying, too_long, oldest = c.execute(
        select(sa.func.count(_T.c.failing_since), sa.func.count(sa.case((_T.c.failing_since <= long_ago, 1))),
               sa.func.min(_T.c.failing_since)).where(waiting)).one()
    return by, retrying, too_long, oldest


def get(s: Session, row_id: int) -> Outbox | None:
    return s.get(Outbox, row_id)


def with_status(s: Session, status: str, due_from: datetime | None = None, among: Any = None) -> list[Outbox]:
    """The ``status`` rows (due at ``due_from`` or later; of the programmes ``among`` when given), oldest first."""
    q = select(Outbox).where(_among(Outbox.status == status, among)).order_by(Outbox.id)
    if due_from is not None:
        q = q.where(Outbox.due_at >= due_from)
    return list(s.exec(q))


def requeue(s: Session, rows: list[Outbox], wall: datetime, now: datetime) -> None:
    """Pending again at ``wall``, with a fresh count of attempts. One whose reminder went stale by
    ``now`` is sent anyway, a person asked for it: the retry limit ends it, not its staleness."""
    for r in rows:
        stale = r.stale_at is not None and r.stale_at <= now
        r.status, r.attempts, r.next_attempt_at, r.last_error = PENDING, 0, wall, None
        r.failing_since, r.sent_via, r.stale_at = None, None, None if stale else r.stale_at
    s.add_all(rows)
    s.flush()


def cancel(s: Session, r: Outbox) -> None:
    """Never send this row."""
    r.status = OutboxStatus.CANCELLED.value
    s.add(r)
    s.flush()


# ---- enqueuing -------------------------------------------------------------------------------------

def queued_keys(s: Session, since: datetime) -> Iterable[str]:
    """The key of every row due from ``since`` on (one range scan, whatever the number of keys)."""
    return s.connection().execute(select(Outbox.key).where(Outbox.due_at >= since)).scalars()


_INSERT_NEW_SQLITE = sqlite_insert(Outbox).on_conflict_do_nothing(index_elements=["key"])


def insert_new(s: Session, dialect: str, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping a key already queued (a concurrent tick may insert the same keys
    first); return how many this call inserted. On SQLite one executemany of the driver's cursor, whose
    row count is the rows inserted (a key skipped changes none): ~10,000 rows a tick."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # ~16 ms: loaded only on PostgreSQL, off `status`'s path

        ins = insert(Outbox).on_conflict_do_nothing(index_elements=["key"]).returning(Outbox.id)
        return len(s.connection().execute(ins, rows).all())
    return driver.insert_many(s.connection(), _INSERT_NEW_SQLITE, rows)
