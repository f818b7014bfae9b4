"""The daemon's lease row in the store: who ticks, until when, and what its last tick did.

The instants are the caller's (its clock's wall time): under ``--now`` the lease follows it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import DaemonLease

DAEMON_LEASE = "daemon"  # the name of the one lease row
# A released lease ends before any time a clock can give, --now included: another daemon may tick at
# once, whatever its clock (ending it a second before this clock's now would keep it held for a
# command run with an earlier --now).
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


def take(s: Session, dialect: str, holder: str, at: datetime, until: datetime) -> bool:
    """Take the lease for ``holder`` until ``until``, or renew it, unless another holder's lease is live
    at ``at``; whether ``holder`` holds it now. Two daemons creating the very first row at once: the
    store raises ``ChangedMeanwhile`` for the second."""
    q = select(DaemonLease).where(DaemonLease.name == DAEMON_LEASE)
    if dialect == "postgresql":
        q = q.with_for_update()
    lease = s.exec(q).first()
    if lease is None:
        s.add(DaemonLease(name=DAEMON_LEASE, holder=holder, until=until, heartbeat_at=at))
        return True
    if lease.holder != holder and lease.until > at:
        return False
    lease.holder, lease.until, lease.heartbeat_at = holder, until, at
    s.add(lease)
    return True


def extend(s: Session, holder: str, at: datetime, until: datetime) -> bool:
    """Extend ``holder``'s lease to ``until`` (its heartbeat at ``at``); False once another holds it."""
    return s.execute(sa.update(DaemonLease).where(DaemonLease.name == DAEMON_LEASE, DaemonLease.holder == holder)
                     .values(until=until, heartbeat_at=at).execution_options(synchronize_session=False)).rowcount == 1


def end(s: Session, holder: str, until: datetime) -> None:
    """End ``holder``'s lease at ``until`` (given up: another daemon may take it)."""
    s.execute(sa.update(DaemonLease).where(DaemonLease.name == DAEMON_LEASE, DaemonLease.holder == holder)
              .values(until=until).execution_options(synchronize_session=False))


def get(s: Session) -> DaemonLease | None:
    """The lease row; None before any daemon ran."""
    return s.get(DaemonLease, DAEMON_LEASE)


def record_tick(s: Session, holder: str, at: datetime, tick: str) -> None:
    """Record ``tick`` (JSON) as the last tick, made at ``at``."""
    lease = s.get(DaemonLease, DAEMON_LEASE)
    if lease is None:
        s.add(DaemonLease(name=DAEMON_LEASE, holder=holder, until=at, last_tick_at=at, last_tick=tick))
    else:
        lease.last_tick_at, lease.last_tick = at, tick
        s.add(lease)
