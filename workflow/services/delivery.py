"""Delivery: the outbox out through the channels, retried while each reminder is current.

Delivery claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends each, and marks it sent only
once the channel accepted it: at least once, with the key travelling along so receivers can drop
the rare duplicate. The outcomes are recorded a few at a time, in one transaction (SETTLE_SECONDS:
a crash before it sends those again). A failed attempt is retried (backoff doubling up to an hour)
for as long as its reminder is current, however long the outage; a message is marked failed once its reminder
has gone stale, or at once when the channel refused it for good (an SMTP 5xx reply for its recipient
or its content). A message on a channel not configured here waits, pending, with the reason. An
e-mail its person may stop carries its one-click link in ``List-Unsubscribe`` (RFC 8058). A weekly
check-in reminder by e-mail, with PREINCUB_REPLY_ADDRESS, carries a reply address with a signed key
(``points+KEY@domain``), the key also first in its Message-ID; an answer to a received e-mail (an
outbox row with ``in_reply_to``) is threaded under it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from notifications.i18n import N_
from notifications.message import DeliveryError, Message, PermanentDeliveryError, backoff
from workflow.context import Context
from workflow.rules import replykey
from workflow.services.links import Links
from workflow.services.mutes import Mutes
from workflow.store import outbox as outbox_rows
from workflow.store.models import Outbox
from workflow.store.outbox import FAILED, PENDING, SENT

# The channels (notifications.wiring: smtplib, http.client, email, ~7 ms) are imported by the
# passes that deliver, not by a read such as ``status`` that only asks the outbox's health.

log = logging.getLogger("preincub.outbox")
BATCH = 50
# The outcomes of the messages sent are recorded together once this long (real time) has passed since they last
# were, at the latest at the end of a claimed batch: a crash resends at most that much of sending (one message,
# to a slow server), and to a fast one a transaction serves several messages (one each cost more than sending).
SETTLE_SECONDS = 0.02
# Recorded on a message that went stale unsent (English, as stored; a catalog msgid, so a client may
# translate it when it is the whole of ``last_error``).
STALE_NOTE = N_("its reminder went stale before it could be sent")
Progress = Callable[[int, int], None]  # (messages handled, messages to handle), after each message


class Stop(Protocol):
    """What ends a delivery pass between two messages: SIGTERM (a ``threading.Event``), or the daemon's
    heartbeat once its lease is lost (``workflow.services.daemon.Heartbeat``)."""

    def is_set(self) -> bool: ...


def message_id_local(reply_key: str, outbox_key: str) -> str:
    """The left side of the Message-ID of a message that carries a reply key: the key first (a reply's
    In-Reply-To or References finds it when a server drops the sub-address), then a digest of the outbox
    key, so two messages never share one. The same whenever the message is sent again."""
    return replykey.message_id_local(reply_key, hashlib.sha256(outbox_key.encode()).hexdigest())


def holder_name() -> str:
    """Who claims rows and holds the lease: host and process, unique while it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Delivery:
    """Sending what is pending, through the channels configured here."""

    ctx: Context

    def may_remind(self) -> Any:
        """Refuse, before anything is written, an actor who may not run reminders; else the programmes
        they may (a subquery of ids; None: all, an administrator)."""
        with self.ctx.store.read() as s:
            return self.ctx.visible_programmes(s, "remind")

    # ---- delivery ------------------------------------------------------------------------

    def _claim(self, holder: str, after: int, usable: set[str] | None = None, among: Any = None) -> list[Outbox]:
        at = self.ctx.clock.wall()
        with self.ctx.store.write() as s:
            return outbox_rows.claim(s, self.ctx.store.dialect, holder, after, at,
                                     at + timedelta(seconds=self.ctx.settings.delivery.lease_seconds), usable, BATCH,
                                     among)

    def _renew(self, holder: str, ids: list[int]) -> set[int]:
        """Extend our claim on rows not sent yet; return those still ours (a claim that lapsed may be taken)."""
        until = self.ctx.clock.wall() + timedelta(seconds=self.ctx.settings.delivery.lease_seconds)
        with self.ctx.store.write() as s:
            return outbox_rows.renew(s, holder, ids, until)

    def _unclaim(self, holder: str, ids: list[int]) -> None:
        """Give back rows claimed but not sent (on stop), so the next tick sends them at once."""
        if ids:
            with self.ctx.store.write() as s:
                outbox_rows.unclaim(s, holder, ids)

    def _outcome(self, row: Outbox, error: str | None, via: str | None = None,
                 permanent: bool = False) -> dict[str, Any]:
        """What an attempt on a claimed row leaves: sent, or its retry scheduled while its reminder is current,
        or failed: at once when the channel refused it for good (``permanent``), retrying being no use.

        A row retried by hand after its reminder went stale (no ``stale_at``) gets RETRY_MAX attempts.
        """
        at = self.ctx.clock.wall()
        attempts = row.attempts + 1
        if error is None:
            return {"attempts": attempts, "status": SENT, "sent_at": at, "last_error": None, "failing_since": None,
                    "sent_via": via or row.channel}
        if permanent or (row.stale_at <= self.ctx.clock.now() if row.stale_at is not None
                         else attempts >= self.ctx.settings.delivery.retry_max):
            return {"attempts": attempts, "status": FAILED, "last_error": error,
                    "failing_since": row.failing_since or at}
        delay = backoff(attempts, self.ctx.settings.delivery.retry_base_seconds)
        return {"attempts": attempts, "status": PENDING, "last_error": error, "failing_since": row.failing_since or at,
                "next_attempt_at": at + timedelta(seconds=delay)}

    def _settle(self, holder: str, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
        """Record the outcomes ``(row id, values)`` of the messages sent since the last call, in one transaction
        (one per message cost more than sending it); emptied. A crash before it sends them again: at least once."""
        if outcomes:
            with self.ctx.store.core_write() as conn:
                outbox_rows.settle_many(conn, holder, outcomes)
            outcomes.clear()

    def _expire(self, among: Any = None) -> int:
        """Fail what went stale unsent (on the business clock): no longer worth sending."""
        with self.ctx.store.core_write() as conn:
            return outbox_rows.expire(conn, self.ctx.clock.now(), STALE_NOTE, among)

    def _wait(self, usable: set[str], among: Any = None) -> int:
        """Give the messages on a channel not configured here their reason; return how many wait so.

        They stay pending under their own key (no fallback, no new key), deliverable at once by a
        process that has the channel; ``failing_since`` makes a long wait show in the health check.
        """
        from notifications.wiring import UNCONFIGURED, unconfigured_reason  # the channels: see above

        at, waiting = self.ctx.clock.wall(), 0
        for channel in sorted(set(UNCONFIGURED) - usable):
            with self.ctx.store.read() as s:
                n = outbox_rows.count_waiting(s, channel, at, among)
            if n:
                waiting += n
                with self.ctx.store.core_write() as conn:  # a reason a deliverer recorded is kept
                    outbox_rows.mark_waiting(conn, channel, at, unconfigured_reason(channel), among)
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
        from notifications.wiring import configured, open_channel  # the channels: see above

        self.ctx.settings.check_delivery()
        self.ctx.settings.inbox  # noqa: B018 - a bad PREINCUB_REPLY_ADDRESS is refused before anything is claimed
        among = self.may_remind()  # a coordinator delivers their programmes' messages; an administrator, all
        holder = holder or holder_name()
        usable = None if console else configured(self.ctx.settings)
        counts = {"sent": 0, "retry": 0, "failed": self._expire(among),
                  "waiting": 0 if usable is None else self._wait(usable, among)}
        total = done = 0
        if progress is not None:
            with self.ctx.store.read() as s:
                total = outbox_rows.count_ready(s, self.ctx.clock.wall(), usable, among)
        opened: dict[str, Any] = {}  # channel -> its open notifications.channels.Channel
        # The outcomes of the messages sent, recorded every SETTLE_SECONDS and before the next claim, a renewal, a
        # stop, and whatever ends the pass.
        unsettled: list[tuple[int, dict[str, Any]]] = []
        after = 0
        # When to renew the claims is real elapsed time (a send may take long whatever the clock says).
        half = self.ctx.settings.delivery.lease_seconds / 2
        try:
            while batch := self._claim(holder, after, usable, among):
                renew_at = time.monotonic() + half
                settle_at = time.monotonic() + SETTLE_SECONDS
                ours = {r.id for r in batch}
                # The one-click link of each e-mail its person may stop (its footer's, made again), and the
                # reply address of each weekly reminder a reply may answer (PREINCUB_REPLY_ADDRESS).
                mails = [r for r in batch if r.channel == "email"]
                unsubscribe = Mutes(self.ctx).message_links(mails)
                replies = Links(self.ctx).reply_addresses(mails)
                for i, row in enumerate(batch):
                    after = row.id
                    if stop is not None and stop.is_set():
                        self._settle(holder, unsettled)
                        self._unclaim(holder, [r.id for r in batch[i:]])
                        return counts
                    if time.monotonic() >= renew_at:
                        self._settle(holder, unsettled)
                        ours = self._renew(holder, [r.id for r in batch[i:]])
                        renew_at = time.monotonic() + half
                    if row.id not in ours:
                        continue
                    reply_to, reply_key = replies.get(row.id, (None, None))
                    msg = Message(row.key, row.recipient, row.recipient_name, row.subject, row.body_text,
                                  row.body_html, row.lang, unsubscribe.get(row.id), reply_to=reply_to,
                                  message_id_local=None if reply_key is None else message_id_local(reply_key, row.key),
                                  in_reply_to=row.in_reply_to)
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
                    values = self._outcome(row, error, via, permanent)
                    unsettled.append((row.id, values))
                    status = values["status"]
                    counts["sent" if status == SENT else "retry" if status == PENDING else "failed"] += 1
                    if time.monotonic() >= settle_at:
                        self._settle(holder, unsettled)
                        settle_at = time.monotonic() + SETTLE_SECONDS
                    if progress is not None:
                        done += 1
                        progress(done, max(total, done))
                self._settle(holder, unsettled)
        finally:
            try:
                self._settle(holder, unsettled)  # what was sent before an error
            finally:
                for ch in opened.values():
                    ch.close()
        return counts
