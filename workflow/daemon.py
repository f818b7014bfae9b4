"""The reminders daemon: APScheduler only ticks; what is due always comes from the database.

Several daemons may run on one store: a lease row lets one tick at a time (:class:`Lease`), and
records the last tick, which ``daemon status`` reads. APScheduler is imported only to serve.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import select

from workflow import delivery
from workflow.clock import PARIS, paris
from workflow.context import Context
from workflow.delivery import holder_name
from workflow.errors import N_, ChangedMeanwhile, Invalid, PreincubError, StoreError
from workflow.models import DaemonLease
from workflow.outbox import health_warning, tick_line
from workflow.records import HealthRecord, TickRecord, TickResult, plain

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("preincub.daemon")
LATE = timedelta(minutes=10)  # past its next scheduled tick by more, the daemon is not ticking
LEASE = "daemon"


@dataclass(frozen=True)
class Lease:
    """The one lease row: which daemon ticks (until when), and what its last tick did."""

    ctx: Context

    def acquire(self, holder: str) -> bool:
        """Take or renew the daemon lease; False while another live daemon holds it."""
        at = delivery.wall()
        until = at + timedelta(seconds=self.ctx.settings.lease_seconds)
        try:
            with self.ctx.store.write() as s:
                self.ctx.require(s, "remind")  # before the lease row is written
                q = select(DaemonLease).where(DaemonLease.name == LEASE)
                if self.ctx.store.dialect == "postgresql":
                    q = q.with_for_update()
                lease = s.exec(q).first()
                if lease is None:
                    s.add(DaemonLease(name=LEASE, holder=holder, until=until))
                    return True
                if lease.holder != holder and lease.until > at:
                    return False
                lease.holder, lease.until = holder, until
                s.add(lease)
                return True
        except ChangedMeanwhile:  # another daemon created the very first lease row at the same moment
            return False

    def release(self, holder: str) -> None:
        """Give the lease up (on stop), so another daemon may tick at once."""
        with self.ctx.store.write() as s:
            s.execute(sa.update(DaemonLease).where(DaemonLease.name == LEASE, DaemonLease.holder == holder)
                      .values(until=delivery.wall() - timedelta(seconds=1)).execution_options(synchronize_session=False))

    def last_tick(self) -> TickRecord | None:
        """What the last recorded tick did, when, and who holds the lease (``daemon status``)."""
        with self.ctx.store.read() as s:
            lease = s.get(DaemonLease, LEASE)
        if lease is None or lease.last_tick_at is None:
            return None
        t = json.loads(lease.last_tick or "{}")
        return TickRecord(t.get("at"), t.get("holder"), *(t.get(k, 0) for k in ("enqueued", "sent", "retry", "failed",
                                                                                 "waiting")),
                          t.get("next_tick"), paris(lease.last_tick_at).isoformat(timespec="seconds"),
                          lease.holder, paris(lease.until).isoformat(timespec="seconds"))

    def record(self, summary: TickResult, holder: str) -> None:
        """Record ``summary`` as the last tick (``daemon status`` reads it)."""
        stored = json.dumps({k: v for k, v in plain(summary).items() if k != "skipped"})
        with self.ctx.store.write() as s:
            lease = s.get(DaemonLease, LEASE)
            if lease is None:
                s.add(DaemonLease(name=LEASE, holder=holder, until=delivery.wall(), last_tick_at=delivery.wall(),
                                  last_tick=stored))
            else:
                lease.last_tick_at, lease.last_tick = delivery.wall(), stored
                s.add(lease)


def trigger(cron: str) -> CronTrigger:
    """The daemon's schedule, in Europe/Paris."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron, timezone=PARIS)
    except ValueError as exc:
        raise Invalid(N_("PREINCUB_TICK_CRON={cron!q} is not a crontab expression: {detail}"), cron=cron,
                      detail=str(exc)) from None


def run_tick(wf, holder: str, stop: threading.Event | None = None, cron: CronTrigger | None = None,
             console: bool = False) -> TickResult | None:
    """Tick if this daemon holds the lease (another live daemon may); log what happened, and warn
    while messages failed or have been retrying for over an hour."""
    if stop is not None and stop.is_set():
        return None
    wf.store.check_writable()  # a read-only store, or its file deleted or replaced: raised, the daemon stops
    cron = cron or trigger(wf.settings.tick_cron)
    try:
        if not wf.acquire_lease(holder):
            log.info("tick skipped: another daemon holds the lease")
            return TickResult(wf.clock.now().isoformat(timespec="seconds"), holder, skipped=True)
        # Recorded with the tick, so `daemon status` knows when the next one is late, whatever its own settings.
        following = cron.get_next_fire_time(None, delivery.wall().astimezone(PARIS))
        summary = wf.tick(holder, stop, record=True, console=console,
                          next_tick=following.isoformat(timespec="seconds") if following else None)
        log.info("tick: %s", tick_line(summary, "en"))  # the log is English
        warning = health_warning(wf.outbox_health())
    except PreincubError as exc:
        log.error("tick failed: %s", wf.settings.redact(str(exc)))
        return None
    if warning:
        log.warning("%s", warning)
    return summary


def health(wf) -> HealthRecord:
    """``daemon status``: the daemon's last tick and the outbox's counts; unhealthy (for monitoring)
    when the daemon never ticked or is late, or messages failed or have been retrying for over an hour."""
    h = wf.outbox_health()
    last = wf.last_tick()
    problems = [p for p, bad in (("failed", h.failed), ("retrying", h.retrying_over_an_hour)) if bad]
    if last is None:
        problems.insert(0, "never_ticked")
    elif last.next_tick and delivery.wall() > datetime.fromisoformat(last.next_tick) + LATE:
        problems.insert(0, "late")
    return HealthRecord(not problems, tuple(problems), last, h.pending, h.retrying, h.retrying_over_an_hour, h.failed,
                        h.failing_since)


def serve(wf, *, once: bool = False, console: bool = False) -> TickResult | None:
    """Tick now (catching up whatever is due), then on the cron schedule until SIGTERM or SIGINT.

    Settings, schedule and the actor's right are checked before anything is written (the lease).
    """
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.schedulers.blocking import BlockingScheduler

    wf.settings.check_delivery()
    cron = trigger(wf.settings.tick_cron)
    wf.may_remind()
    holder = holder_name()
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=PARIS)
    fatal: list[StoreError] = []

    def _scheduled() -> None:
        try:
            run_tick(wf, holder, stop, cron, console)
        except StoreError as exc:  # the store's file is gone: stop, rather than tick into the void
            log.error("stopping: %s", exc)
            fatal.append(exc)
            stop.set()
            scheduler.shutdown(wait=False)  # from the job's own thread: do not wait for itself

    def _stop(signum, _frame) -> None:
        # The running tick stops between two messages and gives back what it had not sent.
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)  # returns once a tick in progress reached its stop point

    def _started(_event: object) -> None:
        # A signal that landed after the check below but before start() found no running scheduler
        # to shut down: honour it now, or start() would block until the next signal.
        if stop.is_set():
            scheduler.shutdown(wait=False)

    scheduler.add_listener(_started, EVENT_SCHEDULER_STARTED)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if once:
            return run_tick(wf, holder, stop, cron, console)
        log.info("daemon %s started; schedule %r (Europe/Paris)", holder, wf.settings.tick_cron)
        try:
            run_tick(wf, holder, stop, cron, console)  # catch up at once
            if not stop.is_set():
                # coalesce: missed runs collapse into one; a generous grace keeps a late tick, not drops it.
                scheduler.add_job(_scheduled, cron, id="tick", coalesce=True, max_instances=1,
                                  misfire_grace_time=3600)
                scheduler.start()  # until a signal shuts it down
                if fatal:
                    raise fatal[0]
        finally:
            log.info("daemon %s stopped", holder)
        return None
    finally:
        wf.release_lease(holder)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
