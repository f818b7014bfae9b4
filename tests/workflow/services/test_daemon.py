"""The reminders daemon as real processes: idempotent runs, a SIGKILL mid-delivery, a clean stop, two daemons.

Each test talks to a real SMTP server (aiosmtpd on 127.0.0.1) and parses what it received.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import select

from notifications import Message
from tests.conftest import COORD, paris, ready_team, seed
from tests.delivery_fixtures import Wall
from tests.smtp import SmtpServer, smtp_server
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.errors import ChangedMeanwhile
from workflow.records import TickResult
from workflow.services.daemon import health, run_tick, serve, trigger
from workflow.store.models import DaemonLease, Outbox

pytestmark = pytest.mark.slow

PREINCUB = str(Path(sys.executable).with_name("preincub"))
PROG = "Pré-incubation 2020"
NOW = "2020-12-16T10:00"  # J-7 of the programme's deadline (2020-12-23), a Wednesday of week 51
AT_NOW = FixedClock(datetime(2020, 12, 16, 10, 0, tzinfo=PARIS))
LATER = "2020-12-16T10:00:02"  # past a claim of one second taken at NOW
HOST = socket.gethostname()
# The daemon ticks once at start; its cron ticks (minute granularity at best) must not interleave with a
# test's checks, so they are set for 1 January at midnight.
NEVER = "0 0 1 1 *"
TICK = re.compile(r"tick: enqueued (\d+), sent (\d+), to retry (\d+), failed (\d+)")
COUNTS = re.compile(r"enqueued (\d+), sent (\d+), to retry (\d+), failed (\d+)\n")

# The real CLI, held at a gate once imported, so that two processes really start their tick together.
GATE = """
import sys, time
from pathlib import Path
import cli, notifications, workflow.services.outbox, workflow.services.daemon  # the slow part happens before the gate
go = Path(sys.argv[1])
Path(sys.argv[2]).touch()
t0 = time.monotonic()
while not go.exists():
    if time.monotonic() - t0 > 120:
        sys.exit("no go")
    time.sleep(0.001)
sys.argv = ["preincub", *sys.argv[3:]]
cli.main()
"""


# ---- a store with many reminders due at NOW --------------------------------------------------------

def crowd(wf: Workflow, teams: int, per_team: int) -> tuple[Workflow, int]:
    """Team A in investigation (coach@, agent0) and ``teams`` teams still in the call for projects with
    ``per_team`` intrapreneurs each. At NOW: A's weekly ping (coach), its missed-coaching alert
    (coordinator), and J-7 to the coordinator, the coach and every intrapreneur. Returns the facade at
    NOW, and the e-mail count."""
    seed(wf)
    ready_team(wf, "A", 0)
    wf = wf.at(FixedClock(wf.clock.now().replace(month=7, day=6, hour=9)))
    wf.transitions.advance("A", "select")
    for t in range(teams):
        emails = []
        for i in range(per_team):
            emails.append(f"i{t}-{i}@example.org")
            wf.directory.add_person(f"Intra {t}-{i}", emails[-1], ["intrapreneur"])
        wf.teams.add(f"Team {t}", PROG, "Pas-de-Calais", intrapreneurs=emails)
    return wf.at(AT_NOW), 1 + 1 + (1 + 1 + 1 + teams * per_team)


def outbox_rows(wf: Workflow) -> list[Outbox]:
    with wf.store.read() as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)))


def check_delivered_once_each(wf: Workflow, rec, expected: int, *, duplicates_allowed: int = 0) -> Counter:
    """Every outbox row is 'sent' and reached the SMTP server under its own Message-ID."""
    rows = outbox_rows(wf)
    assert len(rows) == expected
    assert Counter(r.key for r in rows).most_common(1)[0][1] == 1  # one row per reminder, person and channel
    assert {r.channel for r in rows} == {"email"}
    assert Counter(r.status for r in rows) == {"sent": expected}
    received = rec.messages()
    ids = Counter(m["Message-ID"] for m in received)
    # At the default sender's domain (preincub@localhost).
    want = {Message(r.key, r.recipient, r.recipient_name, "", "", "").message_id("localhost"): r for r in rows}
    assert len(want) == expected  # one Message-ID per outbox row
    assert set(ids) == set(want), "received Message-IDs differ from the outbox's"
    for m in received:
        row = want[m["Message-ID"]]
        got = (m["X-Preincub-Key"], m["To"].addresses[0].addr_spec, m["Subject"])
        assert got == (row.key, row.recipient, row.subject)
    extra = sum(n - 1 for n in ids.values())
    twice = [k for k, n in ids.items() if n > 1]
    assert extra <= duplicates_allowed, f"{extra} messages received twice, e.g. {twice[:3]}"
    return ids


# ---- processes ------------------------------------------------------------------------------------

class Proc:
    """A real ``preincub`` process; its stdout and stderr go to files so the test can read them while it runs."""

    def __init__(self, tmp_path: Path, name: str, args: list[str], env: dict[str, str],
                 gate: bool = False) -> None:
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        self.ready = tmp_path / f"{name}.ready"
        if gate:
            (tmp_path / "gate.py").write_text(GATE)
            argv = [sys.executable, str(tmp_path / "gate.py"), str(tmp_path / "go"), str(self.ready), *args]
        else:
            argv = [PREINCUB, *args]
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=tmp_path)
        self.holder = f"{HOST}:{self.p.pid}"

    def log(self) -> str:
        return self.err.read_text()

    def stdout(self) -> str:
        return self.out.read_text()

    def wait_log(self, text: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while text not in self.log():
            assert self.p.poll() is None, f"exited {self.p.returncode} before logging {text!r}:\n{self.log()}"
            assert time.monotonic() < end, f"no {text!r} within {timeout} s:\n{self.log()}"
            time.sleep(0.02)

    def wait(self, timeout: float) -> int:
        return self.p.wait(timeout)

    def messages(self) -> list[str]:
        """The daemon's log messages, without their timestamps."""
        return [line.split(" preincub.daemon: ", 1)[1] for line in self.log().splitlines()
                if " preincub.daemon: " in line]


@pytest.fixture
def procs():
    """Starts processes; whatever is still running at the end of the test is killed."""
    started: list[Proc] = []

    def start(tmp_path: Path, name: str, args: list[str], env: dict[str, str], gate: bool = False) -> Proc:
        p = Proc(tmp_path, name, args, env, gate)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.p.poll() is None:
            p.p.kill()
            p.p.wait(10)


@pytest.fixture
def smtp():
    with smtp_server() as (url, rec):
        yield url, rec


def env_with(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update({f"PREINCUB_{k.upper()}": v for k, v in values.items()})
    return env


def base(db_url: str, now: str = NOW) -> list[str]:
    return ["--db", db_url, "--now", now, "--as", COORD, "--lang", "en"]


def run(db_url: str, env: dict[str, str], *args: str, timeout: float = 60, now: str = NOW) -> subprocess.CompletedProcess:
    return subprocess.run([PREINCUB, *base(db_url, now), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def release_together(tmp_path: Path, started: list[Proc], timeout: float = 120) -> None:
    """Open the gate once every gated process has done its imports."""
    end = time.monotonic() + timeout
    while not all(p.ready.exists() for p in started):
        assert all(p.p.poll() is None for p in started), [p.log() for p in started]
        assert time.monotonic() < end, "the processes never got ready"
        time.sleep(0.01)
    (tmp_path / "go").touch()


# ---- 1. idempotency: two `remind run` at once ----------------------------------------------------------

def test_two_remind_runs_at_once_enqueue_and_deliver_each_reminder_once(wf, db_url, procs, tmp_path):
    wf, total = crowd(wf, teams=21, per_team=10)  # more than one claim batch (200 rows)
    assert total == 215
    with smtp_server() as (url, rec):
        env = env_with(smtp_url=url)
        racers = [procs(tmp_path, f"run{i}", [*base(db_url), "remind", "run"], env, gate=True) for i in range(2)]
        release_together(tmp_path, racers)
        assert [r.wait(60) for r in racers] == [0, 0], [r.log() for r in racers]
        printed = [COUNTS.fullmatch(r.stdout()) for r in racers]
        assert all(printed), [r.stdout() for r in racers]
        assert sum(int(m[2]) for m in printed) == total  # each message sent by exactly one of them
        assert [(int(m[3]), int(m[4])) for m in printed] == [(0, 0), (0, 0)]
        check_delivered_once_each(wf, rec, total)
        assert Counter(r.reminder for r in outbox_rows(wf)) == {
            "coaching:1:2020-W51": 1, "missed:1:2020-W50": 1, "deadline:1:J-7": total - 2}


# ---- 2. crash safety: SIGKILL mid-delivery ---------------------------------------------------------

def test_a_daemon_killed_mid_delivery_loses_nothing(wf, db_url, procs, tmp_path):
    wf, total = crowd(wf, teams=12, per_team=10)
    assert total == 125
    with smtp_server(delay=0.04) as (url, rec):  # ~5 s to deliver everything
        env = env_with(smtp_url=url, lease_seconds="1", tick_cron=NEVER)
        daemon = procs(tmp_path, "daemon", [*base(db_url), "daemon"], env)
        assert rec.wait_for(30, timeout=60) >= 30, daemon.log()
        daemon.p.send_signal(signal.SIGKILL)
        assert daemon.wait(10) == -signal.SIGKILL
        # Marked sent only once the server accepted it: the server has every message marked sent, and
        # may get the one that was in flight.
        sent_at_kill = sum(r.status == "sent" for r in outbox_rows(wf))
        assert 25 <= sent_at_kill < total, "the daemon was not killed mid-delivery"
        assert rec.count() in (sent_at_kill, sent_at_kill + 1)
        assert "tick: enqueued" not in daemon.log()  # it never finished its tick
        rec.delay = 0
        # Its claims (1 s, on the clock of --now) have lapsed for a run two seconds later.
        r = run(db_url, env, "remind", "run", now=LATER)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"enqueued 0, sent {total - sent_at_kill}, to retry 0, failed 0\n"
        ids = check_delivered_once_each(wf, rec, total, duplicates_allowed=1)  # the one in flight, at most
        assert total <= rec.count() <= total + 1
        assert sum(ids.values()) - len(ids) == rec.count() - total


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the same code path on both
def test_a_batch_that_outlasts_its_claim_is_not_sent_twice(wf, db_url, procs, tmp_path):
    wf, total = crowd(wf, teams=12, per_team=10)
    with smtp_server(delay=0.04) as (url, rec):
        env = env_with(smtp_url=url, lease_seconds="1")
        first = procs(tmp_path, "first", [*base(db_url), "remind", "run"], env)
        assert rec.wait_for(30, timeout=60) >= 30  # its claims (1 s) renewed along the way
        second = procs(tmp_path, "second", [*base(db_url), "remind", "run"], env)
        end = time.monotonic() + 60
        while first.p.poll() is None and second.p.poll() is None and not any(
                r.claimed_by == second.holder for r in outbox_rows(wf)):  # until the second one claims rows
            assert time.monotonic() < end
            time.sleep(0.02)
        rec.delay = 0
        assert (first.wait(60), second.wait(60)) == (0, 0)
        check_delivered_once_each(wf, rec, total)


# ---- 3. a clean stop, --once, status ---------------------------------------------------------------

@pytest.mark.parametrize("db_url,sig", [("sqlite", signal.SIGTERM), ("sqlite", signal.SIGINT),
                                        ("postgresql", signal.SIGTERM)], indirect=["db_url"])
def test_a_signal_stops_the_daemon_cleanly_and_releases_the_lease(wf, db_url, smtp, procs, tmp_path, sig):
    url, rec = smtp
    wf, total = crowd(wf, teams=1, per_team=5)
    daemon = procs(tmp_path, "daemon", [*base(db_url), "daemon"], env_with(smtp_url=url, tick_cron=NEVER))
    daemon.wait_log("tick: ", timeout=30)  # started, then caught up at once
    assert wf.lease.acquire("other") is False  # the running daemon holds it
    daemon.p.send_signal(sig)
    assert daemon.wait(10) == 0, daemon.log()  # idle between ticks: it stops at once
    assert daemon.messages() == [
        f"daemon {daemon.holder} started; schedule '{NEVER}' (Europe/Paris)",
        "tick started",
        f"tick: enqueued {total}, sent {total}, to retry 0, failed 0",
        f"received {sig.name}: stopping",
        f"daemon {daemon.holder} stopped",
    ]
    assert "Traceback" not in daemon.log()
    check_delivered_once_each(wf, rec, total)
    tick = wf.lease.last_tick()
    assert (tick.holder, tick.enqueued, tick.sent, tick.at) == (daemon.holder, total, total,
                                                                           "2020-12-16T10:00:00+01:00")
    assert wf.lease.acquire("other") is True  # released: another daemon can take over at once


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_during_the_first_tick_still_stops_cleanly(wf, db_url, procs, tmp_path):
    wf, _ = crowd(wf, teams=12, per_team=10)
    with smtp_server(delay=0.04) as (url, rec):
        daemon = procs(tmp_path, "daemon", [*base(db_url), "daemon"],
                       env_with(smtp_url=url, tick_cron=NEVER))
        assert rec.wait_for(10, timeout=30) >= 10
        daemon.p.send_signal(signal.SIGTERM)
        rc = daemon.wait(10)
        stopped = f"daemon {daemon.holder} stopped" in daemon.log()
        assert (rc, stopped, wf.lease.acquire("other")) == (0, True, True)


def test_daemon_once_ticks_prints_the_counts_and_status_shows_the_last_tick(wf, db_url, smtp, procs, tmp_path):
    url, rec = smtp
    wf, total = crowd(wf, teams=1, per_team=3)
    env = env_with(smtp_url=url)
    assert wf.lease.last_tick() is None
    once = procs(tmp_path, "once", [*base(db_url), "daemon", "--once"], env)
    assert once.wait(30) == 0, once.log()
    assert once.stdout() == f"enqueued {total}, sent {total}, to retry 0, failed 0\n"
    assert once.messages() == ["tick started", f"tick: enqueued {total}, sent {total}, to retry 0, failed 0"]
    check_delivered_once_each(wf, rec, total)
    tick = wf.lease.last_tick()
    # Under --now, the tick's every time is that clock's: when it ran, and when it was recorded.
    assert (tick.holder, tick.at, tick.wall) == (once.holder, "2020-12-16T10:00:00+01:00", "2020-12-16T10:00:00+01:00")
    assert tick.next_tick == "2020-12-16T10:05:00+01:00"
    assert wf.lease.acquire("other") is True  # --once gave the lease back; "other" holds it now
    # While another daemon holds the lease, --once does not tick: that daemon is alive, and it says so.
    again = run(db_url, env, "daemon", "--once")
    assert again.returncode == 0, again.stderr
    assert wf.lease.last_tick().lease_until == "2020-12-16T10:02:00+01:00"  # the default lease: 120 s
    assert again.stdout == "daemon other is alive: it holds the lease until 2020-12-16 10:02; its last tick: " \
                           "2020-12-16 10:00\n"
    assert "tick skipped: another daemon holds the lease" in again.stderr
    # A manual tick is not the daemon's: status still shows the daemon's own last tick.
    assert run(db_url, env, "remind", "run").returncode == 0
    assert wf.lease.last_tick().wall == tick.wall
    status = run(db_url, env, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == f"Daemon's last tick: 2020-12-16 10:00 ({once.holder})"
    assert rec.count() == total


# ---- 4. two daemons on PostgreSQL -------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_daemons_one_ticks_each_reminder_delivered_once(wf, db_url, smtp, procs, tmp_path):
    url, rec = smtp
    wf, total = crowd(wf, teams=6, per_team=10)
    wf.lease.acquire("setup")  # the lease row exists, as it does after any first run
    wf.lease.release("setup")
    env = env_with(smtp_url=url, tick_cron=NEVER)
    daemons = [procs(tmp_path, f"d{i}", [*base(db_url), "daemon"], env, gate=True) for i in range(2)]
    release_together(tmp_path, daemons)
    for d in daemons:
        d.wait_log("tick", timeout=30)  # "tick started" or "tick skipped: ..."
        if "tick started" in d.log():
            d.wait_log("tick: ", timeout=30)
    ticked = [d for d in daemons if any(TICK.fullmatch(m) for m in d.messages())]
    skipped = [d for d in daemons if "tick skipped: another daemon holds the lease" in d.messages()]
    assert len(ticked) == 1 and len(skipped) == 1 and ticked[0] is not skipped[0], [d.log() for d in daemons]
    assert ticked[0].messages()[1:3] == ["tick started", f"tick: enqueued {total}, sent {total}, to retry 0, failed 0"]
    assert skipped[0].messages()[1] == "tick skipped: another daemon holds the lease"
    assert not any(TICK.fullmatch(m) for m in skipped[0].messages())
    check_delivered_once_each(wf, rec, total)
    assert wf.lease.last_tick().holder == ticked[0].holder
    assert wf.lease.acquire("other") is False
    for d in daemons:
        d.p.send_signal(signal.SIGTERM)
    assert [d.wait(10) for d in daemons] == [0, 0]
    assert all(d.messages()[-1] == f"daemon {d.holder} stopped" for d in daemons)
    assert wf.lease.acquire("other") is True
    assert rec.count() == total


# ---- 5. three daemons, a lease shorter than a tick ---------------------------------------------------

LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO preincub\.daemon: (tick started|tick: .*)")


def tick_intervals(d: Proc) -> list[tuple[datetime, datetime]]:
    """When each of the daemon's ticks started and ended, from its log ("tick started" ... "tick: <counts>")."""
    marks = [(datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f"), m[2] == "tick started")
             for m in map(LOG_LINE.fullmatch, d.log().splitlines()) if m]
    assert [started for _, started in marks] == [True, False] * (len(marks) // 2), d.log()  # each ended
    return [(marks[i][0], marks[i + 1][0]) for i in range(0, len(marks), 2)]


def test_three_daemons_and_a_lease_shorter_than_a_tick_never_tick_at_once(wf, db_url, procs, tmp_path):
    """A 2 s lease, ~11 s of delivery: daemons started during the first one's tick skip theirs, no two
    ticks overlap, and every message goes out once. (The lease's times follow --now, so here it never
    lapses; its renewal by the heartbeat on a moving clock: the lease tests below.)"""
    lease = 2.0
    wf, total = crowd(wf, teams=10, per_team=10)
    with smtp_server(delay=0.1) as (url, rec):
        env = env_with(smtp_url=url, lease_seconds=str(lease), tick_cron=NEVER)
        first = procs(tmp_path, "d0", [*base(db_url), "daemon"], env)
        first.wait_log("tick started", timeout=60)
        daemons = [first]
        for i, sent in ((1, 5), (2, 10)):  # each one while the first delivers
            assert rec.wait_for(sent, timeout=60) >= sent
            daemons.append(procs(tmp_path, f"d{i}", [*base(db_url), "daemon"], env))
        for d in daemons:
            d.wait_log("tick", timeout=60)
        first.wait_log("tick: ", timeout=120)
        assert rec.wait_for(total, timeout=30) == total
        for d in daemons:
            d.p.send_signal(signal.SIGTERM)
        assert [d.wait(10) for d in daemons] == [0, 0, 0], [d.log() for d in daemons]
        ticks = sorted((start, end, d.holder) for d in daemons for start, end in tick_intervals(d))
        for (_, end, holder), (start, _, other) in zip(ticks, ticks[1:]):
            assert end < start, f"{holder} and {other} ticked at once: {ticks}"
        assert ticks[0][2] == first.holder and ticks[0][1] - ticks[0][0] > timedelta(seconds=3 * lease)
        assert all("tick skipped: another daemon holds the lease" in d.messages() for d in daemons[1:])
        check_delivered_once_each(wf, rec, total)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_signal_just_before_the_scheduler_starts_still_stops_it(wf, db_url, monkeypatch):
    """The window between "no signal yet" and the scheduler running: the signal must not be lost."""
    add_job = BlockingScheduler.add_job

    def add_job_then_signal(self, *args, **kwargs):  # after serve's check, before start()
        job = add_job(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return job

    monkeypatch.setattr(BlockingScheduler, "add_job", add_job_then_signal)
    wf = wf.at(AT_NOW)
    wf = wf.with_settings(wf.settings.replace(tick_cron=NEVER))
    rescued = threading.Event()

    def rescue() -> None:  # a lost signal would block forever
        rescued.set()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(60, rescue)
    timer.start()
    try:
        assert serve(wf) is None
    finally:
        timer.cancel()
    assert not rescued.is_set(), "the signal was lost: only the rescue stopped the scheduler"
    assert wf.lease.acquire("other") is True  # released


# The daemon's lease in one process: renewed by a heartbeat all through a long tick, a tick that
# stops once its lease is lost, and ``daemon status`` while a tick is in progress.
#
# Delivery goes to a real SMTP server (aiosmtpd on 127.0.0.1) slowed down so that a tick outlasts the
# lease; the tick runs in a thread of the test, as the daemon's scheduler runs it. The lease's times
# follow the clock, here one the test moves by hand as it watches the tick.

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
    # Stopped once the lease (a second) ran out: well before the last of the messages, whatever the
    # machine's load (a loaded one may not even finish the first: sent 0 is fine).
    assert result.sent < total
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


def test_a_released_lease_is_free_at_any_clock_an_earlier_now_included(wf):
    """The lease is stamped on the business clock under --now; once given up it holds for no clock,
    not even a later command run with an earlier --now."""
    noon = wf.at(FixedClock(datetime(2020, 11, 16, 12, 0, tzinfo=PARIS)))
    assert noon.lease.acquire("first") is True
    assert noon.lease.acquire("second") is False  # held
    noon.lease.release("first")
    eleven = wf.at(FixedClock(datetime(2020, 11, 16, 11, 0, tzinfo=PARIS)))
    assert eleven.lease.current().live is False
    assert eleven.lease.acquire("second") is True
