"""The reminders daemon: APScheduler only ticks; what is due always comes from the database.

Several daemons may run on one store: a lease row lets one tick at a time (:class:`Lease`), renewed
by its holder's :class:`Heartbeat` all through a tick, and records the last tick, which ``daemon
status`` reads. APScheduler is imported only to serve.

With ``PREINCUB_DS_SYNC_EVERY`` set, each tick also syncs the Démarches Simplifiées démarches of
``PREINCUB_DS_DEMARCHES`` that are due (:func:`sync_ds`): a hint from DS's webhook, or the last sync (or
failure) older than the interval. A failure is recorded for ``daemon status`` and retried an interval later.

With ``PREINCUB_IMAP_URL`` set, the daemon that holds the lease also polls that mailbox every
``PREINCUB_IMAP_EVERY`` seconds (:func:`poll_mailbox`): the replies to the reminders become check-ins.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflow.clock import PARIS, paris
from workflow.context import Context
from workflow.errors import N_, ChangedMeanwhile, Forbidden, Invalid, PreincubError, StoreError
from workflow.records import HealthRecord, PollerRecord, PollResult, TickRecord, TickResult, plain
from workflow.services.delivery import holder_name
from workflow.services.outbox import health_warning, tick_line
from workflow.store import lease as lease_rows


log = logging.getLogger("preincub.daemon")
LATE = timedelta(minutes=10)  # past its next scheduled tick by more, the daemon is not ticking


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """The daemon lease as it stands: who holds it, until when, when its holder last renewed it while
    ticking (``heartbeat_at``); ``live``: a daemon is ticking or ticked within the lease."""

    holder: str
    until: str
    heartbeat_at: str | None
    live: bool



@dataclass(frozen=True)
class Lease:
    """The one lease row: which daemon ticks (until when), and what its last tick did."""

    ctx: Context

    def acquire(self, holder: str) -> bool:
        """Take or renew the daemon lease (a heartbeat: ``daemon status`` shows it); False while another
        live daemon holds it."""
        at = self.ctx.clock.wall()
        until = at + timedelta(seconds=self.ctx.settings.delivery.lease_seconds)
        try:
            with self.ctx.store.write() as s:
                self.may_hold(s)  # before the lease row is written
                return lease_rows.take(s, self.ctx.store.dialect, holder, at, until)
        except ChangedMeanwhile:  # another daemon created the very first lease row at the same moment
            return False

    def may_hold(self, s: Any = None) -> None:
        """Refuse anyone but an instance administrator: one daemon sends every programme's reminders
        (its lease is the instance's)."""
        if s is None:
            with self.ctx.store.read() as s:
                return self.may_hold(s)
        if not self.ctx.require(s, "remind").everything:
            raise Forbidden(N_("acting as {actor}, you may not run the daemon: it sends the reminders of "
                               "every programme; run it as an instance administrator (role admin)"),
                            code="daemon_needs_admin", actor=self.ctx.actor)

    def renew(self, holder: str) -> bool:
        """Extend the lease ``holder`` holds, during its tick; False once another daemon took it (after
        it lapsed), so that ``holder`` stops ticking."""
        at = self.ctx.clock.wall()
        with self.ctx.store.write() as s:
            return lease_rows.extend(s, holder, at, at + timedelta(seconds=self.ctx.settings.delivery.lease_seconds))

    def current(self) -> LeaseRecord | None:
        """Who holds the lease, until when, and their last heartbeat; None before any daemon ran."""
        with self.ctx.store.read() as s:
            lease = lease_rows.get(s)
        if lease is None:
            return None
        return LeaseRecord(lease.holder, paris(lease.until).isoformat(timespec="seconds"),
                           paris(lease.heartbeat_at).isoformat(timespec="seconds") if lease.heartbeat_at else None,
                           lease.until > self.ctx.clock.wall())

    def release(self, holder: str) -> None:
        """Give the lease up (on stop), so another daemon may tick at once."""
        with self.ctx.store.write() as s:
            lease_rows.end(s, holder, lease_rows.RELEASED)

    def last_tick(self) -> TickRecord | None:
        """What the last recorded tick did, when, and who holds the lease (``daemon status``)."""
        with self.ctx.store.read() as s:
            lease = lease_rows.get(s)
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
            lease_rows.record_tick(s, holder, self.ctx.clock.wall(), stored)


class Heartbeat:
    """The lease renewed every third of its length while a tick runs, from a thread of its own: one SMTP
    send may block longer than the lease. The tick's delivery stops between two messages once it
    ``is_set``: on SIGTERM (``stop``), or once the lease is lost to another daemon, or has run out
    unrenewed (the store unreachable: another daemon may take it). Made just before the lease is
    taken, so the lease it counts on never outlasts the real one. Its pace and the lease's end it
    counts on are real elapsed time (monotonic): the lease's stamps follow the clock, which
    ``--now`` stops."""

    def __init__(self, lease: Lease, holder: str, stop: threading.Event | None = None) -> None:
        self.lease, self.holder, self.stop = lease, holder, stop
        self.seconds = lease.ctx.settings.delivery.lease_seconds
        self.lost = threading.Event()
        self._until = time.monotonic() + self.seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {holder}", daemon=True)

    def is_set(self) -> bool:
        """True once the tick must stop (delivery's ``stop``)."""
        return self.lost.is_set() or (self.stop is not None and self.stop.is_set())

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.seconds / 3):
            at = time.monotonic()
            try:
                renewed = self.lease.renew(self.holder)
            except Exception as exc:  # noqa: BLE001 - a beat missed is retried; only the lease's end counts
                log.warning("lease not renewed: %s", self.lease.ctx.settings.redact(str(exc)))
                if time.monotonic() < self._until:
                    continue
                log.warning("tick stopping: the lease ran out unrenewed")
                self.lost.set()
                return
            if not renewed:
                log.warning("tick stopping: another daemon took the lease")
                self.lost.set()
                return
            self._until = at + self.seconds


def trigger(cron: str) -> Any:
    """The daemon's schedule (an APScheduler ``CronTrigger``), in Europe/Paris."""
    from apscheduler.triggers.cron import CronTrigger  # APScheduler: loaded to serve, not by `daemon status`

    try:
        return CronTrigger.from_crontab(cron, timezone=PARIS)
    except ValueError as exc:
        raise Invalid(N_("PREINCUB_TICK_CRON={cron!q} is not a crontab expression: {detail}"), cron=cron,
                      detail=str(exc)) from None


def run_tick(wf, holder: str, stop: threading.Event | None = None, cron: Any = None,
             console: bool = False) -> TickResult | None:
    """Tick if this daemon holds the lease (another live daemon may); log what happened, and warn
    while messages failed or have been retrying for over an hour."""
    if stop is not None and stop.is_set():
        return None
    wf.store.check_writable()  # a read-only store, or its file deleted or replaced: raised, the daemon stops
    cron = cron or trigger(wf.settings.tick_cron)
    try:
        beat = Heartbeat(wf.lease, holder, stop)
        if not wf.lease.acquire(holder):
            log.info("tick skipped: another daemon holds the lease")
            return TickResult(wf.clock.now().isoformat(timespec="seconds"), holder, skipped=True)
        log.info("tick started")
        # Recorded with the tick, so `daemon status` knows when the next one is late, whatever its own settings;
        # the next one after this tick's instant (a --now on the minute is not itself the next).
        following = cron.get_next_fire_time(None, wf.clock.wall().astimezone(PARIS) + timedelta(microseconds=1))
        with beat:
            summary = wf.reminders.tick(holder, beat, record=True, console=console,
                              next_tick=following.isoformat(timespec="seconds") if following else None)
            try:
                sync_ds(wf, beat)
            except StoreError:
                raise
            except PreincubError as exc:  # the reminders' tick is done and recorded: DS's trouble is its own
                log.error("DS syncs skipped: %s", wf.settings.redact(str(exc)))
        log.info("tick: %s", tick_line(summary, "en"))  # the log is English
        warning = health_warning(wf.outbox.health())
    except PreincubError as exc:
        log.error("tick failed: %s", wf.settings.redact(str(exc)))
        return None
    if warning:
        log.warning("%s", warning)
    return summary


def sync_ds(wf, stop: Any = None) -> list[tuple[int, str | None]]:
    """Sync the démarches of ``PREINCUB_DS_DEMARCHES`` that are due (``PREINCUB_DS_SYNC_EVERY`` unset: none).
    One that fails is logged without the token, recorded for ``daemon status`` and retried an interval
    later (sooner on a hint from DS), and stops no other. Returns (démarche, error or None) for each tried."""
    every = wf.settings.ds.every
    if every is None:
        return []
    listed = wf.settings.ds.demarches
    now = wf.clock.now()
    rows = {st.demarche: st for st in ds_states(wf)}
    tried: list[tuple[int, str | None]] = []
    for demarche, programme in wf.ds.due(every, among=listed):
        if stop is not None and stop.is_set():
            break
        st = rows.get(demarche)  # None: never tried (a failure records the démarche with its programme)
        last_try = datetime.fromisoformat(st.failed_at) if st is not None and st.failed_at else None
        hinted = bool(st and st.wanted_at and last_try and datetime.fromisoformat(st.wanted_at) > last_try)
        if last_try is not None and timedelta(0) <= now - last_try < every and not hinted:
            continue
        try:
            r = wf.ds.sync(demarche, programme)
        except Exception as exc:  # noqa: BLE001 - one démarche failing (DS down, a bad token, a bug) stops no other
            detail = str(exc) if isinstance(exc, PreincubError) else f"{type(exc).__name__}: {exc}"
            error = " ".join(wf.settings.redact(detail).split())[:500]
            log.error("DS sync of démarche %s failed: %s", demarche, error)
            try:
                wf.ds.failed(demarche, error, programme)
            except PreincubError as again:
                log.error("DS sync of démarche %s: its failure was not recorded: %s", demarche,
                          wf.settings.redact(str(again)))
            tried.append((demarche, error))
            continue
        acts = sorted({t.action for t in r.teams})
        counts = ", ".join(f"{a} {sum(1 for t in r.teams if t.action == a)}" for a in acts)
        log.info("DS sync of démarche %s into %r: %s pages; %s", demarche, programme, r.pages, counts or "no change")
        tried.append((demarche, None))
    return tried


def ds_states(wf) -> list[Any]:
    """Where each démarche's sync stands (``daemon status``); none while the DS settings are unreadable."""
    try:
        return list(wf.ds.states())
    except Invalid:
        return []


def ds_failing(wf) -> list[Any]:
    """The démarches the daemon syncs whose last attempt failed, after their last sync that finished."""
    try:
        if wf.settings.ds.every is None:
            return []
    except Invalid:
        return []
    return [st for st in ds_states(wf) if st.failed_at is not None and (
        st.synced_at is None or datetime.fromisoformat(st.failed_at) > datetime.fromisoformat(st.synced_at))]


def health(wf) -> HealthRecord:
    """``daemon status``: the daemon's last tick, the lease's holder and last heartbeat, and the outbox's
    counts; unhealthy (for monitoring) when the daemon never ticked or is late, or messages failed or
    have been retrying for over an hour. A daemon whose lease is live is ticking (its first tick, or a
    long one): neither never ticked nor late."""
    h = wf.outbox.health()
    last = wf.lease.last_tick()
    lease = wf.lease.current()
    idle = lease is None or not lease.live
    poller = poller_state(wf)
    problems = [p for p, bad in (("failed", h.failed), ("retrying", h.retrying_over_an_hour),
                                 ("ds_failed", ds_failing(wf)), ("imap_failed", imap_failing(wf, poller))) if bad]
    if idle and last is None:
        problems.insert(0, "never_ticked")
    elif idle and last.next_tick and wf.clock.wall() > datetime.fromisoformat(last.next_tick) + LATE:
        problems.insert(0, "late")
    return HealthRecord(not problems, tuple(problems), last, h.pending, h.retrying, h.retrying_over_an_hour, h.failed,
                        h.failing_since, lease.holder if lease else None, lease.heartbeat_at if lease else None,
                        not idle, poller)


def poller_state(wf) -> PollerRecord | None:
    """The mailbox poller's last attempt, success and error (None before its first poll)."""
    return wf.poller.state()


def imap_failing(wf, state: PollerRecord | None) -> bool:
    """The daemon polls a mailbox (PREINCUB_IMAP_URL) and its last attempt failed, after its last success."""
    try:
        polling = wf.settings.inbox.imap is not None
    except Invalid:  # unreadable inbox settings: the daemon refuses to start, `daemon status` says the rest
        polling = False
    return polling and state is not None and state.error is not None  # a success clears the error


def poll_mailbox(wf, holder: str, stop: threading.Event | None = None) -> PollResult | None:
    """One poll of the IMAP mailbox, by the daemon that holds the lease (another live daemon polls instead).
    A failure is logged (without the password) and recorded by the poller, and stops nothing."""
    if stop is not None and stop.is_set():
        return None
    try:
        if not wf.lease.acquire(holder):
            log.debug("mailbox poll skipped: another daemon holds the lease")
            return None
        return wf.poller.poll(stop)
    except Exception as exc:  # noqa: BLE001 - one poll failing (the server, a bug) stops neither the daemon nor the next
        log.error("mailbox poll failed: %s", wf.poller.error_text(exc))
        return None


def serve(wf, *, once: bool = False, console: bool = False) -> TickResult | None:
    """Tick now (catching up whatever is due), then on the cron schedule until SIGTERM or SIGINT.

    Settings, schedule and the actor's right are checked before anything is written (the lease).
    """
    from apscheduler.events import EVENT_SCHEDULER_STARTED  # APScheduler: loaded to serve only
    from apscheduler.schedulers.blocking import BlockingScheduler

    wf.settings.check_delivery()
    if wf.settings.ds.every is not None and not wf.settings.ds.token:  # every sync would fail: say so now
        raise Invalid(N_("PREINCUB_DS_SYNC_EVERY is set but PREINCUB_DS_TOKEN is not: give the token, or unset "
                         "PREINCUB_DS_SYNC_EVERY"), code="ds_no_token")
    cron = trigger(wf.settings.daemon.tick_cron)
    wf.lease.may_hold()
    imap_every = wf.settings.inbox.imap_every if wf.settings.inbox.imap else None
    if imap_every is not None:  # the mailbox poller: a reply address, the actor's right, the URL's shape
        wf.poller.check()
    holder = holder_name()
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=PARIS)
    fatal: list[StoreError] = []

    def _fatal(exc: StoreError) -> None:
        log.error("stopping: %s", exc)
        fatal.append(exc)
        stop.set()
        if scheduler.running:  # the tick and the watch may both find the file gone
            scheduler.shutdown(wait=False)  # from the job's own thread: do not wait for itself

    def _scheduled() -> None:
        try:
            run_tick(wf, holder, stop, cron, console)
        except StoreError as exc:  # the store's file is gone: stop, rather than tick into the void
            _fatal(exc)

    def _poll() -> None:
        poll_mailbox(wf, holder, stop)

    def _watch() -> None:
        # Between ticks: a store file deleted or replaced stops the daemon within seconds, its connections
        # to the old file closed (Store.check_file) before its stale -wal can meet the new file.
        try:
            wf.store.check_file()
        except StoreError as exc:
            _fatal(exc)

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
        log.info("daemon %s started; schedule %r (Europe/Paris)", holder, wf.settings.daemon.tick_cron)
        try:
            run_tick(wf, holder, stop, cron, console)  # catch up at once
            if not stop.is_set():
                # coalesce: missed runs collapse into one; a generous grace keeps a late tick, not drops it.
                scheduler.add_job(_scheduled, cron, id="tick", coalesce=True, max_instances=1,
                                  misfire_grace_time=3600)
                if imap_every is not None:  # replies in the IMAP mailbox, polled while this daemon holds the lease
                    scheduler.add_job(_poll, "interval", seconds=imap_every, id="imap", coalesce=True,
                                      max_instances=1, next_run_time=datetime.now(PARIS))
                if wf.store.path is not None:  # an SQLite file: watched every few seconds (a stat)
                    scheduler.add_job(_watch, "interval", seconds=5, id="watch", coalesce=True, max_instances=1)
                scheduler.start()  # until a signal shuts it down
                if fatal:
                    raise fatal[0]
        finally:
            log.info("daemon %s stopped", holder)
        return None
    finally:
        wf.lease.release(holder)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
