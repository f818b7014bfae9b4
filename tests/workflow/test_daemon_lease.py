"""The daemon's lease in one process: renewed by a heartbeat all through a long tick, a tick that
stops once its lease is lost, and ``daemon status`` while a tick is in progress.

Delivery goes to a real SMTP server (aiosmtpd on 127.0.0.1) slowed down so that a tick outlasts the
lease; the tick runs in a thread of the test, as the daemon's scheduler runs it. The lease's times
follow the clock, here one the test moves by hand as it watches the tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import paris
from tests.notifications.conftest import Wall
from tests.smtp import SmtpServer, smtp_server
from tests.workflow.test_daemon import NEVER, crowd, outbox_rows
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import ChangedMeanwhile
from workflow.services.daemon import health, run_tick, trigger
from workflow.store.models import DaemonLease
from workflow.records import TickResult

LEASE_SECONDS = 1  # the shortest allowed: a heartbeat every third of a second


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    with smtp_server(delay=0.08) as (_url, box):
        yield box


@pytest.fixture
def hands() -> Wall:
    """A clock at 2020-12-16 10:00, moved by the test."""
    return Wall(paris(2020, 12, 16, 10, 0))


@pytest.fixture
def crowded(wf: Workflow, hands: Wall, slow_smtp: SmtpServer) -> tuple[Workflow, int]:
    """35 e-mails due on 2020-12-16 10:00: about three seconds to deliver, three times the lease."""
    _, total = crowd(wf, teams=3, per_team=10)
    wf = wf.at(hands).with_settings(wf.settings.replace(smtp_url=slow_smtp.url, lease_seconds=LEASE_SECONDS,
                                                        tick_cron=NEVER))
    return wf, total


class Ticking:
    """``run_tick`` in a thread of its own, as the daemon's scheduler runs it."""

    def __init__(self, wf: Workflow, holder: str) -> None:
        self.result: TickResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(wf, holder))
        self.thread.start()

    def _run(self, wf: Workflow, holder: str) -> None:
        try:
            self.result = run_tick(wf, holder, cron=trigger(NEVER))
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            self.error = exc

    def running(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float = 30) -> TickResult:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the tick never ended"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_holder_renews_its_lease_all_through_a_tick_longer_than_the_lease(crowded, hands, slow_smtp):
    wf, total = crowded
    assert health(wf).problems == ("never_ticked",)
    t0 = time.monotonic()
    tick = Ticking(wf, "d1")
    wait_until(lambda: slow_smtp.count() > 0)
    heartbeats, refused = set(), 0
    while tick.running():
        # Another daemon tries to take the lease all along: the holder's heartbeat keeps it.
        if not wf.lease.acquire("d2"):
            refused += 1
        else:
            assert not tick.running(), "another daemon took the lease in the middle of the tick"
        h = health(wf)  # the first tick has not ended: no last tick, but it is ticking, not unhealthy
        if tick.running():
            assert (h.holder, h.problems, h.healthy) == ("d1", (), True)
            heartbeats.add(h.heartbeat_at)
        # The clock moves with the tick: 0.1 s a round, as the heartbeat renews every third of a second.
        time.sleep(0.1)
        hands.advance(0.1)
    result = tick.join()
    assert time.monotonic() - t0 > 2 * LEASE_SECONDS  # the tick did outlast its lease
    assert (result.sent, result.retry, result.failed) == (total, 0, 0)
    assert refused > 5 and len(heartbeats) >= 2  # heartbeat_at (to the second) moved on during the tick
    assert sorted(heartbeats) == sorted(heartbeats, key=datetime.fromisoformat)
    assert [r.status for r in outbox_rows(wf)] == ["sent"] * total
    assert slow_smtp.count() == total


def take_lease(wf: Workflow, holder: str) -> None:
    """What another daemon does once it found the lease lapsed (acquire), done behind the holder's back."""
    with wf.store.write() as s:
        s.execute(sa.update(DaemonLease).values(holder=holder, until=wf.clock.wall() + timedelta(minutes=1)))


def test_a_holder_whose_lease_was_taken_stops_between_two_messages_and_gives_back_the_rest(
        crowded, slow_smtp, caplog):
    wf, total = crowded
    caplog.set_level(logging.INFO, "preincub.daemon")
    tick = Ticking(wf, "d1")
    wait_until(lambda: slow_smtp.count() >= 5)
    take_lease(wf, "d2")
    result = tick.join()
    assert 5 <= result.sent < 5 + 12, result  # it stopped within a heartbeat or so, not at the end
    rows = outbox_rows(wf)
    assert sum(r.status == "sent" for r in rows) == result.sent == slow_smtp.count()
    rest = [r for r in rows if r.status != "sent"]
    assert len(rest) == total - result.sent
    assert {(r.status, r.claimed_by, r.attempts) for r in rest} == {("pending", None, 0)}  # given back
    assert "tick stopping: another daemon took the lease" in caplog.messages
    assert wf.lease.current().holder == "d2"  # the new holder's lease is left alone
    # The new holder sends the rest at once, each once.
    assert wf.delivery.deliver("d2")["sent"] == total - result.sent
    assert slow_smtp.count() == total
    assert len({m["Message-ID"] for m in slow_smtp.messages()}) == total


def test_a_holder_that_cannot_renew_stops_once_its_lease_ran_out(crowded, slow_smtp, caplog, monkeypatch):
    wf, total = crowded
    caplog.set_level(logging.INFO, "preincub.daemon")

    def busy(self, holder: str) -> bool:
        raise ChangedMeanwhile("the store is busy (locked by another writer), retry")

    monkeypatch.setattr(type(wf.lease), "renew", busy)
    result = Ticking(wf, "d1").join()
    assert 0 < result.sent < total  # stopped after about a lease (a second: ~12 messages)
    assert "tick stopping: the lease ran out unrenewed" in caplog.messages
    assert any(m.startswith("lease not renewed: ") for m in caplog.messages)
    assert {r.claimed_by for r in outbox_rows(wf)} == {None}


def test_renewal_is_the_holder_s_alone(wf):
    assert wf.lease.acquire("d1") is True
    first = wf.lease.current()
    assert (first.holder, first.live) == ("d1", True) and first.heartbeat_at is not None
    assert wf.lease.renew("d2") is False  # not its lease
    assert wf.lease.renew("d1") is True
    wf.lease.release("d1")
    assert wf.lease.current().live is False
    assert wf.lease.renew("d1") is True  # lapsed, but nobody took it: still d1's
    wf.lease.release("d1")
    assert wf.lease.acquire("d2") is True  # lapsed: another daemon takes it...
    assert wf.lease.renew("d1") is False  # ...and the former holder cannot renew it any more
    assert wf.lease.current().holder == "d2"


def test_status_while_a_daemon_holds_the_lease_it_is_ticking_neither_never_ticked_nor_late(wf):
    h = health(wf)
    assert (h.problems, h.holder, h.heartbeat_at) == (("never_ticked",), None, None)
    assert wf.lease.acquire("d1")  # its first tick starts
    lease = wf.lease.current()
    h = health(wf)
    assert (h.healthy, h.problems, h.last_tick, h.holder, h.heartbeat_at) == (True, (), None, "d1",
                                                                              lease.heartbeat_at)
    assert datetime.fromisoformat(lease.heartbeat_at) <= wf.clock.wall() < datetime.fromisoformat(lease.until)
    wf.lease.release("d1")  # it stopped before its first tick ended
    assert (health(wf).problems, health(wf).holder) == (("never_ticked",), "d1")
    # A last tick whose next one is long overdue: late, unless the daemon is ticking now (a long tick).
    wf.lease.record(TickResult("2020-12-16T10:00:00+01:00", "d1", next_tick="2020-12-16T10:05:00+01:00"), "d1")
    assert health(wf).problems == ()  # on the clock, 2020-07-01: not due yet
    wf = wf.at(FixedClock(paris(2020, 12, 16, 10, 16)))
    assert health(wf).problems == ("late",)
    assert wf.lease.acquire("d1")
    assert health(wf).problems == ()
