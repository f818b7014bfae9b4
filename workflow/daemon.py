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


def run_tick(wf, holder: str) -> dict[str, Any] | None:
    """Tick if this daemon holds the lease (another live daemon may); log what happened."""
    try:
        if not wf.acquire_lease(holder):
            log.info("tick skipped: another daemon holds the lease")
            return None
        summary = wf.tick(holder)
    except PreincubError as exc:
        log.error("tick failed: %s", exc.en)
        return None
    log.info("tick: enqueued %(enqueued)d, sent %(sent)d, to retry %(retry)d, failed %(failed)d", summary)
    return summary


def serve(wf, *, once: bool = False) -> dict[str, Any] | None:
    """Tick now (catching up whatever is due), then on the cron schedule until SIGTERM or SIGINT."""
    holder = holder_name()
    cron = trigger(wf.settings.tick_cron)
    first = run_tick(wf, holder)
    if once:
        wf.release_lease(holder)
        return first
    scheduler = BlockingScheduler(timezone=PARIS)
    # coalesce: missed runs collapse into one; a generous grace keeps a late tick rather than dropping it.
    scheduler.add_job(run_tick, cron, args=(wf, holder), id="tick", coalesce=True, max_instances=1,
                      misfire_grace_time=3600)
    stop = threading.Event()

    def _stop(signum, _frame) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()
        scheduler.shutdown(wait=False)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    log.info("daemon %s started; schedule %r (Europe/Paris)", holder, wf.settings.tick_cron)
    try:
        scheduler.start()
    finally:
        wf.release_lease(holder)
        log.info("daemon %s stopped", holder)
    return None
