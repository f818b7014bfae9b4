"""A real outage: SMTP down for three days, then back. Nothing current is dropped, each message goes once.

The daemon's ticks are simulated every 15 minutes by a clock moved by hand (business time, and the
wall time of retry delays and leases); SMTP is a closed port, then a real server (aiosmtpd) on that port.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from notifications import Message
from tests.conftest import COORD, paris, ready_team, seed
from tests.delivery_fixtures import Wall, configure
from tests.smtp import SmtpServer, free_port, start_smtp
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.services.daemon import health, run_tick, trigger
from workflow.services.delivery import STALE_NOTE
from workflow.store.engine import make_engine, upgrade
from workflow.store.models import Team
from workflow.records import HealthRecord

PROG = "Pré-incubation 2020"  # deadline 2020-12-23: J-14 on 12-09 (current until J-7 on 12-16 09:00)
DOWN = paris(2020, 12, 14, 8, 0)  # a Monday, before the weekly reminders of 2020-W51
UP = DOWN + timedelta(days=3)  # Thursday 08:00
STEP = timedelta(minutes=15)


def rows(wf: Workflow) -> list[dict]:
    return wf.outbox()


@pytest.fixture
def crowd(wf):
    """Teams A and B in investigation (coach@, agent0/1, never a check-in) and three teams in the call for
    projects with five intrapreneurs each: every deadline reminder goes to 19 people, by e-mail."""
    seed(wf)
    for name, i in (("A", 0), ("B", 1)):
        ready_team(wf, name, i)
    wf = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    for name in "AB":
        wf.transitions.advance(name, "select")
    for t in range(3):
        emails = []
        for i in range(5):
            emails.append(f"i{t}-{i}@example.org")
            wf.directory.add_person(f"Intra {t}-{i}", emails[-1], ["intrapreneur"])
        wf.teams.add(f"Team {t}", PROG, "Pas-de-Calais", intrapreneurs=emails)
    return wf


def test_three_days_without_smtp_lose_nothing_current_and_send_each_message_once(crowd, caplog):
    clock = Wall(DOWN)
    port = free_port()  # nobody listens: connection refused, as when the relay is down
    # The defaults otherwise: RETRY_MAX 5, first retry 60 s.
    wf = configure(crowd, smtp_url=f"smtp://127.0.0.1:{port}").at(clock)
    cron = trigger(wf.settings.daemon.tick_cron)
    caplog.set_level(logging.INFO, logger="preincub")

    t = DOWN
    while t < UP:
        clock.at = t
        assert run_tick(wf, "sim", cron=cron) is not None
        for r in rows(wf):
            stale = datetime.fromisoformat(r.stale_at)
            # Never failed while its reminder is current; the wait before the next attempt never exceeds an hour.
            assert r.status == ("failed" if stale <= t else "pending"), (t, r)
            if r.status == "pending":
                assert datetime.fromisoformat(r.next_attempt_at) - t <= timedelta(hours=1), (t, r)
        if t == DOWN + timedelta(minutes=105):  # 09:45
            h = health(wf)
            assert (h.healthy, h.problems, h.failed) == (False, ("retrying",), 0)
            assert (h.retrying_over_an_hour, h.pending) == (19, 23)  # J-14 since 08:00, the weekly ones 09:00
            warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
            assert warnings[-1].startswith("outbox: 0 failed, 19 retrying for over an hour (failing since "
                                           "2020-12-14T08:00:00+01:00)")
        t += STEP

    before = rows(wf)
    assert Counter(r.key.rsplit(":", 2)[0] for r in before) == {
        "deadline:1:J-14": 19, f"coaching:{_team(wf, 'A')}:2020-W51": 1, f"coaching:{_team(wf, 'B')}:2020-W51": 1,
        f"missed:{_team(wf, 'A')}:2020-W50": 1, f"missed:{_team(wf, 'B')}:2020-W50": 1, "deadline:1:J-7": 19}
    gone_stale = {r.id for r in before if datetime.fromisoformat(r.stale_at) <= UP}
    assert {r.id for r in before if r.status == "failed"} == gone_stale
    assert {r.key.split(":p")[0] for r in before if r.id in gone_stale} == {"deadline:1:J-14"}
    # Retried all along, hourly once the backoff reached its cap: J-7 (due 12-16 09:00) for 23 hours, the others 2 days.
    assert all(r.attempts >= (22 if "J-7" in r.key else 45) for r in before), [r.attempts for r in before]
    assert all(r.last_error.startswith(STALE_NOTE) for r in before if r.id in gone_stale)

    # SMTP is back on the same address: within the hour, every current message goes out, once.
    box = SmtpServer(port)
    controller = start_smtp(box)  # started
    try:
        t = UP
        while t <= UP + timedelta(hours=1):
            clock.at = t
            run_tick(wf, "sim", cron=cron)
            t += STEP
        after = {r.id: r for r in rows(wf)}
        current = [r for r in before if r.id not in gone_stale]
        assert {after[r.id].status for r in current} == {"sent"}
        assert {after[i].status for i in gone_stale} == {"failed"}
        assert health(wf).problems == ("failed",)

        # The stale ones, retried in bulk by a coordinator who wants them out anyway.
        assert sorted(wf.outbox.retry_all("failed")) == sorted(gone_stale)
        clock.at = t
        assert run_tick(wf, "sim", cron=cron).sent == len(gone_stale)
        assert {r.status for r in rows(wf)} == {"sent"}
        assert replace(health(wf), last_tick=None, holder=None, heartbeat_at=None, lease_held=False) == HealthRecord(
            healthy=True, problems=(), last_tick=None, pending=0, retrying=0, retrying_over_an_hour=0, failed=0,
            failing_since=None)
        received = Counter(r.msg["Message-ID"] for r in box.received)
        assert len(received) == len(before) == 42 and set(received.values()) == {1}  # each message exactly once
        assert set(received) == {Message(r.key, "", "", "", "", "").message_id("localhost") for r in before}
    finally:
        controller.stop()


def _team(wf: Workflow, name: str) -> int:
    with wf.store.read() as s:
        return s.exec(select(Team.id).where(Team.name == name)).one()


def test_an_upgraded_store_gets_staleness_for_its_queued_messages(db_url):
    """Rows queued before migration 0004 are backfilled: weekly ones until the end of their ISO week."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO programme (name, kind, signed_on, months, capacity, min_days_per_week, "
                              "created_at) VALUES ('P', 'preincubation', '2020-06-23', 6, 8, 1, '2020-06-23')"))
            for i, (kind, due) in enumerate((("coaching", "2020-12-14 08:00:00"), ("deadline", "2020-12-09 08:00:00"))):
                c.execute(sa.text(
                    "INSERT INTO outbox (key, reminder, kind, channel, recipient, recipient_name, lang, subject, "
                    "body_text, body_html, due_at, status, attempts, next_attempt_at, created_at) VALUES "
                    f"('k{i}', 'r{i}', '{kind}', 'email', 'a@example.org', 'A', 'fr', 's', 't', 'h', '{due}', "
                    f"'failed', 5, '{due}', '{due}')"))
        upgrade(engine)
    finally:
        engine.dispose()
    w = Workflow.open(db_url, actor=COORD, create=True)
    try:
        got = {r.key: (r.stale_at, r.status) for r in w.outbox()}
    finally:
        w.close()
    assert got == {"k0": ("2020-12-21T00:00:00+01:00", "failed"), "k1": ("2020-12-16T09:00:00+01:00", "failed")}
