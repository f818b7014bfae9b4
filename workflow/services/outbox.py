"""The outbox for people: list it, its health, retry or cancel messages; and the lines that report it.

The queue is store state: reminders enqueue into it (:mod:`workflow.services.reminders`), delivery empties
it (:mod:`workflow.services.delivery`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from notifications.i18n import text
from notifications.message import CHANNELS, OutboxStatus
from workflow.clock import PARIS, paris
from workflow.context import Context
from workflow.errors import N_, Invalid, Np_, NotFound
from workflow.records import OutboxHealth, OutboxMessage, TickRecord, TickResult
from workflow.rules import validate
from workflow.store import outbox as outbox_rows
from workflow.store.engine import Session
from workflow.store.models import Outbox as Row

__all__ = ["STATUSES", "Outbox", "Status", "channels_for", "health_warning", "tick_line"]


Status = OutboxStatus
STATUSES = tuple(s.value for s in Status)
RETRIABLE = (Status.FAILED.value, Status.CANCELLED.value)
RETRYING_TOO_LONG = timedelta(hours=1)  # a message failing for longer makes the outbox unhealthy


def channels_for(person: Any) -> list[str]:
    """The channels the person chose (``person.channels``: a Person, or a row of its columns), whatever
    is configured here: a reminder goes once on each.

    A channel not configured here never falls back to another: that would re-send, under a new
    key, what a process configured for it has sent or will send.
    """
    return list(_chosen(person.channels or ""))


@lru_cache(maxsize=256)
def _chosen(channels: str) -> tuple[str, ...]:
    """``channels_for`` of one stored text (a tick asks for the same few texts ~10,000 times)."""
    chosen = [c.strip() for c in channels.split(",") if c.strip() in CHANNELS]
    return tuple(dict.fromkeys(chosen)) or ("email",)


# A tick's counts, each a counted sentence (its number is ``n``), in the order tick_line says them.
TICK_COUNTS = (
    ("enqueued", Np_("enqueued {n}", "enqueued {n}")),
    ("sent", Np_("sent {n}", "sent {n}")),
    ("retry", Np_("to retry {n}", "to retry {n}")),
    ("failed", Np_("failed {n}", "failed {n}")),
    ("waiting", Np_("waiting {n} (channel not configured here)", "waiting {n} (channel not configured here)")),
)


def tick_line(r: TickResult | TickRecord, lang: str = "en") -> str:
    """A tick's counts as one line in ``lang``: `remind run` and `daemon --once` (in the person's
    language), the daemon's log (English). "waiting" only when some are."""
    return ", ".join(text(lang, message, {"n": getattr(r, key)}) for key, message in TICK_COUNTS
                     if key != "waiting" or r.waiting)


def health_warning(h: OutboxHealth) -> str | None:
    """One line when messages failed or have been retrying for over an hour (the daemon's log)."""
    if not (h.failed or h.retrying_over_an_hour):
        return None
    return (f"outbox: {h.failed} failed, {h.retrying_over_an_hour} retrying for over an hour"
            + (f" (failing since {h.failing_since})" if h.failing_since else "")
            + "; see 'preincub outbox list' and 'preincub outbox retry --status failed'")


def outbox_message(r: Row) -> OutboxMessage:
    """One message as the API returns it."""
    def at(dt: datetime | None) -> str | None:
        return paris(dt).isoformat(timespec="seconds") if dt else None

    return OutboxMessage(r.id, r.key, r.kind, r.channel, r.recipient, r.subject, r.status, r.attempts, r.last_error,
                         at(r.due_at), at(r.stale_at), at(r.next_attempt_at),
                         at(r.failing_since), at(r.sent_at), r.sent_via)


@dataclass(frozen=True)
class Outbox:
    """The outbox as people see and handle it (coordinators: the ``remind`` right)."""

    ctx: Context

    def __call__(self, status: str | None = None, limit: int | None = None) -> list[OutboxMessage]:
        """``wf.outbox(...)`` lists the messages, as ``wf.outbox.messages(...)``."""
        return self.messages(status, limit)

    def messages(self, status: str | None = None, limit: int | None = None) -> list[OutboxMessage]:
        """The outbox, oldest first (optionally one status, at most ``limit``)."""
        with self.ctx.store.read() as s:
            among = self.ctx.visible_programmes(s, "remind")
            if status is not None:
                status = validate.choice(status, STATUSES, "status")
            return [outbox_message(r) for r in outbox_rows.listed(s, status, limit, among)]

    def health(self) -> OutboxHealth:
        """For monitoring: messages pending (of which retrying, and for over an hour) and failed.

        Read from what deliverers recorded, not from this process's settings: a shell without
        PREINCUB_SMTP_URL sees the daemon's outbox as the daemon does.
        """
        long_ago = self.ctx.clock.wall() - RETRYING_TOO_LONG
        with self.ctx.store.read() as s:
            by, retrying, too_long, oldest = outbox_rows.health(s, long_ago, self.ctx.visible_programmes(s, "remind"))
        return OutboxHealth(by.get("pending", 0) + by.get("sending", 0), retrying, too_long, by.get("failed", 0),
                            paris(oldest).isoformat(timespec="seconds") if oldest else None,
                            not (too_long or by.get("failed", 0)))

    def _refuse_unconfigured(self, rows: list[Row], one: int | None = None) -> None:
        """A retry on a channel not configured here would wait forever: refuse it, with the reason."""
        # The channels (smtplib, http.client, email.mime): loaded by a retry, not by `status`'s health read.
        from notifications.wiring import UNCONFIGURED, configured

        missing = Counter(r.channel for r in rows if r.channel not in configured(self.ctx.settings))
        if not missing:
            return
        channel, n = missing.most_common(1)[0]
        label, var = UNCONFIGURED[channel]  # its name (a catalog msgid), the setting that configures it
        params = {"channel": channel, "channel_label": label, "var": var}
        if one is not None:
            raise Invalid(N_("message #{outbox} goes by {channel_label!t}, which is not configured here ({var}): "
                             "it would stay pending; set {var}, then retry"), code="channel_not_configured",
                          outbox=one, **params)
        raise Invalid(Np_("{n} of these {total} messages goes by {channel_label!t}, which is not configured here "
                          "({var}): nothing retried; set {var}, then retry",
                          "{n} of these {total} messages go by {channel_label!t}, which is not configured here "
                          "({var}): nothing retried; set {var}, then retry"), code="channel_not_configured",
                      n=n, total=len(rows), **params)

    def _outbox_row(self, s: Session, row_id: int, allowed: tuple[str, ...]) -> Row:
        """The message, once the actor may handle its programme's (one they may not is not found)."""
        reach = self.ctx.require(s, "remind")
        r = outbox_rows.get(s, row_id)
        if r is None or not (reach.everything or r.programme_id in reach.programmes):
            raise NotFound(N_("no outbox message #{outbox}"), code="unknown_outbox_message", outbox=row_id)
        if r.status not in allowed:
            # The statuses are ids (pending, failed…), as the outbox lists them.
            raise Invalid(Np_("message #{outbox} is {status}; only a {last} one can be changed so",
                              "message #{outbox} is {status}; only a {others} or {last} one can be changed so"),
                          code="wrong_status", outbox=row_id, status=r.status, allowed=list(allowed),
                          n=len(allowed), last=allowed[-1], others=", ".join(allowed[:-1]))
        return r

    def retry(self, row_id: int) -> OutboxMessage:
        """Send a failed (or cancelled) message again at the next tick, with a fresh count of attempts."""
        self.ctx.settings.check_delivery()
        with self.ctx.store.write() as s:
            r = self._outbox_row(s, row_id, RETRIABLE)
            self._refuse_unconfigured([r], one=row_id)
            outbox_rows.requeue(s, [r], self.ctx.clock.wall(), self.ctx.clock.now())
            self.ctx.event(s, "outbox.retry", data={"outbox": r.id, "key": r.key})
            return outbox_message(r)

    def retry_all(self, status: str = "failed", since: date | None = None) -> list[int]:
        """Retry every ``status`` message (failed or cancelled) due on or after ``since``, in one
        transaction (after an outage: ``outbox retry --status failed``); return their ids."""
        validate.choice(status, RETRIABLE, "status")
        self.ctx.settings.check_delivery()
        with self.ctx.store.write() as s:
            among = self.ctx.visible_programmes(s, "remind")
            if since is not None:
                validate.plausible_date(since, "--since")
            rows = outbox_rows.with_status(s, status, datetime.combine(since, time(0), tzinfo=PARIS)
                                           if since is not None else None, among)
            self._refuse_unconfigured(rows)
            outbox_rows.requeue(s, rows, self.ctx.clock.wall(), self.ctx.clock.now())
            if rows:
                self.ctx.event(s, "outbox.retry", data={"status": status, "since": since.isoformat() if since else None,
                                                     "count": len(rows), "outbox": [r.id for r in rows]})
            return [r.id for r in rows]

    def cancel(self, row_id: int) -> OutboxMessage:
        """Never send this message (pending or failed); audited."""
        with self.ctx.store.write() as s:
            r = self._outbox_row(s, row_id, (Status.PENDING.value, Status.FAILED.value))
            outbox_rows.cancel(s, r)
            self.ctx.event(s, "outbox.cancelled", data={"outbox": r.id, "key": r.key})
            return outbox_message(r)


