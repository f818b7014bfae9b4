"""The reminders daemon: APScheduler only ticks; what is due always comes from the database."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from workflow.clock import PARIS
from workflow.errors import Invalid, PreincubError
from workflow.outbox import holder_name

log = logging.getLogger("preincub.daemon")


def trigger(cron: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=PARIS)
    except ValueError as exc:
        raise Invalid(f"PREINCUB_TICK_CRON={cron!r} is not a crontab expression: {exc}",
                      f"PREINCUB_TICK_CRON={cron!r} n'est pas une expression crontab : {exc}") from None


def run_tick(wf, holder: str, stop: threading.Event | None = None) -> dict[str, Any] | None:
    """Tick if this daemon holds the lease (another live daemon may); log what happened."""
    if stop is not None and stop.is_set():
        return None
    try:
        if not wf.acquire_lease(holder):
            log.info("tick skipped: another daemon holds the lease")
            return {"skipped": True}
        summary = wf.tick(holder, stop, record=True)
    except PreincubError as exc:
        log.error("tick failed: %s", exc.en)
        return None
    log.info("tick: enqueued %(enqueued)d, sent %(sent)d, to retry %(retry)d, failed %(failed)d", summary)
    return summary


def serve(wf, *, once: bool = False) -> dict[str, Any] | None:
    """Tick now (catching up whatever is due), then on the cron schedule until SIGTERM or SIGINT."""
    holder = holder_name()
    cron = trigger(wf.settings.tick_cron)
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=PARIS)

    def _stop(signum, _frame) -> None:
        # The running tick stops between two messages and gives back what it had not sent.
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)  # returns once a tick in progress reached its stop point

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if once:
            return run_tick(wf, holder, stop)
        log.info("daemon %s started; schedule %r (Europe/Paris)", holder, wf.settings.tick_cron)
        try:
            run_tick(wf, holder, stop)  # catch up at once
            if not stop.is_set():
                # coalesce: missed runs collapse into one; a generous grace keeps a late tick, not drops it.
                scheduler.add_job(run_tick, cron, args=(wf, holder, stop), id="tick", coalesce=True,
                                  max_instances=1, misfire_grace_time=3600)
                scheduler.start()  # until a signal shuts it down
        finally:
            log.info("daemon %s stopped", holder)
        return None
    finally:
        wf.release_lease(holder)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
