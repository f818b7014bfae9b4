"""Delivery: the outbox out through the channels, retried while each reminder is current.

Delivery claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends each, and marks it sent only
once the channel accepted it: at least once, with the key travelling along so receivers can drop
the rare duplicate. A failed attempt is retried (backoff doubling up to an hour) for as long as
its reminder is current, however long the outage; a message is marked failed once its reminder
has gone stale, or at once when the channel refused it for good (an SMTP 5xx reply for its recipient
or its content). A message on a channel not configured here waits, pending, with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlmodel import select

from notifications.i18n import N_
from notifications.message import DeliveryError, Message, OutboxStatus, PermanentDeliveryError, backoff
from workflow.models import Outbox

if TYPE_CHECKING:
    from notifications.channels import Channel
    from workflow.context import Context

# The channels (smtplib, http.client, email.mime) are imported by the passes that deliver, not by a
# read such as ``status`` that only asks the daemon's lease or the outbox's health.

PENDING, SENDING, SENT, FAILED = (s.value for s in (OutboxStatus.PENDING, OutboxStatus.SENDING,
                                                       OutboxStatus.SENT, OutboxStatus.FAILED))
log = logging.getLogger("preincub.outbox")
_T = Outbox.__table__
_SETTLE = sa.update(_T).where(_T.c.id == sa.bindparam("row_id"), _T.c.claimed_by == sa.bindparam("holder"))
BATCH = 50
# Recorded on a message that went stale unsent (English, as stored; a catalog msgid, so a client may
# translate it when it is the whole of ``last_error``).
STALE_NOTE = N_("its reminder went stale before it could be sent")
Progress = Callable[[int, int], None]  # (messages handled, messages to handle), after each message


class Stop(Protocol):
    """What ends a delivery pass between two messages: SIGTERM (a ``threading.Event``), or the daemon's
    heartbeat once its lease is lost (``workflow.daemon.Heartbeat``)."""

    def is_set(self) -> bool: ...


def wall() -> datetime:
    """Real time, for leases and retry delays (the business clock may be frozen by --now)."""
    return datetime.now(UTC)


def holder_name() -> str:
    """Who claims rows and holds the lease: host and process, unique while it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Delivery:
    """Sending what is pending, through the channels configured here."""

    ctx: Context

    def may_remind(self) -> None:
        """Refuse, before anything is written, an actor who may not run reminders."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "remind")

    # ---- delivery ------------------------------------------------------------------------

    @staticmethod
    def _ready(at: datetime, usable: set[str] | None) -> sa.ColumnElement[bool]:
        """Rows to deliver now: pending and due for an attempt, or claimed by a deliverer that died."""
        cond = sa.or_(sa.and_(Outbox.status == PENDING, Outbox.next_attempt_at <= at),
                      sa.and_(Outbox.status == SENDING, Outbox.claimed_until < at))
        return cond if usable is None else sa.and_(cond, Outbox.channel.in_(sorted(usable)))

    def _claim(self, holder: str, after: int, usable: set[str] | None = None) -> list[Outbox]:
        at = wall()
        with self.ctx.store.write() as s:
            q = select(Outbox).where(Outbox.id > after, self._ready(at, usable)).order_by(Outbox.id).limit(BATCH)
            if self.ctx.store.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(s.exec(q))
            if rows:
                s.execute(sa.update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                          .values(status=SENDING, claimed_by=holder,
                                  claimed_until=at + timedelta(seconds=self.ctx.settings.lease_seconds))
                          .execution_options(synchronize_session=False))
            return rows

    def _renew(self, holder: str, ids: list[int]) -> set[int]:
        """Extend our claim on rows not sent yet; return those still ours (a claim that lapsed may be taken)."""
        with self.ctx.store.write() as s:
            res = s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder,
                                                    Outbox.status == SENDING)
                            .values(claimed_until=wall() + timedelta(seconds=self.ctx.settings.lease_seconds))
                            .returning(Outbox.id).execution_options(synchronize_session=False))
            return set(res.scalars())

    def _unclaim(self, holder: str, ids: list[int]) -> None:
        """Give back rows claimed but not sent (on stop), so the next tick sends them at once."""
        if ids:
            with self.ctx.store.write() as s:
                s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder)
                          .values(status=PENDING, claimed_by=None, claimed_until=None)
                          .execution_options(synchronize_session=False))

    def _settle(self, row: Outbox, holder: str, error: str | None, via: str | None = None,
                permanent: bool = False) -> str:
        """Mark a claimed row sent, or schedule its retry while its reminder is current, or fail it: at
        once when the channel refused it for good (``permanent``), retrying being no use.

        A row retried by hand after its reminder went stale (no ``stale_at``) gets RETRY_MAX attempts.
        """
        at = wall()
        attempts = row.attempts + 1
        if error is None:
            values: dict[str, Any] = {"status": SENT, "sent_at": at, "last_error": None, "failing_since": None,
                                      "sent_via": via or row.channel}
        elif permanent or (row.stale_at <= self.ctx.clock.now() if row.stale_at is not None
                           else attempts >= self.ctx.settings.retry_max):
            values = {"status": FAILED, "last_error": error, "failing_since": row.failing_since or at}
        else:
            values = {"status": PENDING, "last_error": error, "failing_since": row.failing_since or at,
                      "next_attempt_at": at + timedelta(seconds=backoff(attempts, self.ctx.settings.retry_base_seconds))}
        with self.ctx.store.core_write() as conn:  # once per message: kept lean
            conn.execute(_SETTLE.values(attempts=attempts, claimed_by=None, claimed_until=None, **values),
                         {"row_id": row.id, "holder": holder})
        return values["status"]

    def _expire(self) -> int:
        """Fail what went stale unsent (on the business clock): no longer worth sending."""
        note = sa.func.coalesce(sa.literal(STALE_NOTE + "; last error: ") + _T.c.last_error, sa.literal(STALE_NOTE))
        with self.ctx.store.core_write() as conn:
            return conn.execute(sa.update(_T).where(_T.c.status == PENDING, _T.c.stale_at <= self.ctx.clock.now())
                                .values(status=FAILED, last_error=note)).rowcount

    def _wait(self, usable: set[str]) -> int:
        """Give the messages on a channel not configured here their reason; return how many wait so.

        They stay pending under their own key (no fallback, no new key), deliverable at once by a
        process that has the channel; ``failing_since`` makes a long wait show in the health check.
        """
        from notifications.wiring import UNCONFIGURED, unconfigured_reason

        at, waiting = wall(), 0
        for channel in sorted(set(UNCONFIGURED) - usable):
            reason = unconfigured_reason(channel)
            mine = sa.and_(_T.c.channel == channel, sa.or_(
                _T.c.status == PENDING, sa.and_(_T.c.status == SENDING, _T.c.claimed_until < at)))
            with self.ctx.store.read() as s:
                n = s.connection().execute(select(sa.func.count()).select_from(_T).where(mine)).scalar_one()
            if n:
                waiting += n
                with self.ctx.store.core_write() as conn:  # a reason a deliverer recorded is kept
                    conn.execute(sa.update(_T).where(mine, sa.or_(_T.c.last_error.is_(None),
                                                                  _T.c.status == SENDING)).values(
                        status=PENDING, claimed_by=None, claimed_until=None,
                        last_error=sa.func.coalesce(_T.c.last_error, reason),
                        failing_since=sa.func.coalesce(_T.c.failing_since, at)))
        return waiting

    def deliver(self, holder: str | None = None, stop: Stop | None = None, *, console: bool = False,
                progress: Progress | None = None) -> dict[str, int]:
        """Send every pending message once (a failure waits for a later tick); return the counts.

        ``console`` prints every message instead of sending it through its channel (to try things
        out); it is marked sent, by the console. Without it a message on a channel not configured
        here waits, counted as ``waiting``. A claim is renewed once half its time has passed, and a
        row whose claim lapsed to another deliverer is left to it. ``stop`` (SIGTERM, or the daemon's
        lease lost) ends the pass between two messages and gives the unsent rows back. A message the
        channel refused for good fails at once. ``progress`` is called after each message.
        """
        from notifications.wiring import configured, open_channel

        self.ctx.settings.check_delivery()
        self.may_remind()
        holder = holder or holder_name()
        usable = None if console else configured(self.ctx.settings)
        counts = {"sent": 0, "retry": 0, "failed": self._expire(), "waiting": 0 if usable is None else self._wait(usable)}
        total = done = 0
        if progress is not None:
            with self.ctx.store.read() as s:
                total = s.exec(select(sa.func.count()).select_from(Outbox).where(self._ready(wall(), usable))).one()
        opened: dict[str, Channel] = {}
        after = 0
        half = timedelta(seconds=self.ctx.settings.lease_seconds / 2)
        try:
            while batch := self._claim(holder, after, usable):
                renew_at = wall() + half
                ours = {r.id for r in batch}
                for i, row in enumerate(batch):
                    after = row.id
                    if stop is not None and stop.is_set():
                        self._unclaim(holder, [r.id for r in batch[i:]])
                        return counts
                    if wall() >= renew_at:
                        ours = self._renew(holder, [r.id for r in batch[i:]])
                        renew_at = wall() + half
                    if row.id not in ours:
                        continue
                    msg = Message(row.key, row.recipient, row.recipient_name, row.subject, row.body_text,
                                  row.body_html, row.lang)
                    via = "console" if console else row.channel
                    permanent = False
                    try:
                        if via not in opened:
                            opened[via] = open_channel(via, self.ctx.settings)
                        opened[via].send(msg)
                        error = None
                    except DeliveryError as exc:  # what is stored and shown never holds a secret
                        permanent = isinstance(exc, PermanentDeliveryError)
                        error = self.ctx.settings.redact(str(exc))[:500]
                    except Exception as exc:  # noqa: BLE001 - one bad message must not hold back the others
                        error = self.ctx.settings.redact(f"{type(exc).__name__}: {exc}")[:500]
                        log.error("delivering outbox message %s: %s", row.id, error)
                    status = self._settle(row, holder, error, via, permanent)
                    counts["sent" if status == SENT else "retry" if status == PENDING else "failed"] += 1
                    if progress is not None:
                        done += 1
                        progress(done, max(total, done))
        finally:
            for ch in opened.values():
                ch.close()
        return counts
