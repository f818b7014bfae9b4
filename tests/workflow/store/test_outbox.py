"""The outbox's named queries on both stores: enqueuing once per key, claiming what is ready, renewing
and giving back claims, settling, expiring, and the counts people read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import paris
from workflow.clock import PARIS
from workflow.store import outbox

T0 = paris(2020, 7, 13, 10, 0)


def message(key: str, channel: str = "email", **more) -> dict:
    return {"key": key, "reminder": key.rsplit(":", 2)[0], "kind": "coaching", "channel": channel,
            "recipient": "coach@example.org", "recipient_name": "Coach Un", "lang": "fr", "subject": "S",
            "body_text": "t", "body_html": "<p>t</p>", "due_at": T0, "next_attempt_at": T0, "created_at": T0,
            # Every row of one insert names the same columns.
            "status": "pending", "sent_at": None, "stale_at": None, "last_error": None, **more}


@pytest.fixture
def queued(wf):
    """Three pending messages due at T0 (one on the console) and one sent."""
    with wf.store.write() as s:
        assert outbox.insert_new(s, wf.store.dialect, [
            message("coaching:1:2020-W29:p2:email"), message("coaching:1:2020-W29:p3:email"),
            message("coaching:1:2020-W29:p4:console", "console"),
            message("deadline:1:J-7:p2:email", status="sent", sent_at=T0)]) == 4
    return wf


def test_the_insert_of_a_tick_is_one_executemany_of_the_driver_on_sqlite(wf):
    """A tick's ~10,000 rows go through the driver's executemany (its row count: the rows inserted), not
    SQLAlchemy's per-row RETURNING batches."""
    if wf.store.dialect != "sqlite":
        pytest.skip("SQLite's driver path (PostgreSQL counts the ids RETURNING gives)")
    from workflow.store import driver

    prepared = driver._lookup(outbox._INSERT_NEW_SQLITE, message("coaching:1:2020-W29:p2:email", attempts=0),
                              wf.store.engine.dialect)
    assert prepared is not driver._NOT_PREPARABLE and "ON CONFLICT" in prepared.sql


def test_a_key_already_queued_is_skipped(queued):
    with queued.store.write() as s:
        assert outbox.insert_new(s, queued.store.dialect, [message("coaching:1:2020-W29:p2:email"),
                                                           message("coaching:1:2020-W29:p9:email")]) == 1
    with queued.store.read() as s:
        assert len(outbox.listed(s)) == 5
        assert sorted(outbox.queued_keys(s, T0))[0] == "coaching:1:2020-W29:p2:email"
        assert list(outbox.queued_keys(s, T0 + timedelta(seconds=1))) == []


def test_claim_takes_the_ready_rows_of_usable_channels_after_an_id(queued):
    d = queued.store.dialect
    with queued.store.write() as s:
        assert outbox.count_ready(s, T0 - timedelta(seconds=1), None) == 0
        assert outbox.count_ready(s, T0, None) == 3
        assert outbox.count_ready(s, T0, {"email"}) == 2
        first = outbox.claim(s, d, "a", 0, T0, T0 + timedelta(minutes=1), {"email"}, batch=1)
        assert [r.key for r in first] == ["coaching:1:2020-W29:p2:email"]
        rest = outbox.claim(s, d, "a", first[0].id, T0, T0 + timedelta(minutes=1), {"email"}, batch=10)
        assert [r.key for r in rest] == ["coaching:1:2020-W29:p3:email"]
    with queued.store.read() as s:
        assert [(r.status, r.claimed_by) for r in outbox.with_status(s, "sending")] == [("sending", "a")] * 2
        assert outbox.count_ready(s, T0 + timedelta(seconds=30), {"email"}) == 0  # claimed
        assert outbox.count_ready(s, T0 + timedelta(minutes=2), {"email"}) == 2  # its claim lapsed: a dead deliverer


def test_renew_and_unclaim_only_for_the_holder(queued):
    d = queued.store.dialect
    with queued.store.write() as s:
        ids = [r.id for r in outbox.claim(s, d, "a", 0, T0, T0 + timedelta(minutes=1), None, batch=10)]
    with queued.store.write() as s:
        assert outbox.renew(s, "b", ids, T0 + timedelta(minutes=5)) == set()
        assert outbox.renew(s, "a", ids[:2], T0 + timedelta(minutes=5)) == set(ids[:2])
        outbox.unclaim(s, "b", ids)
    with queued.store.read() as s:
        assert [r.claimed_until for r in outbox.with_status(s, "sending")] == [
            T0 + timedelta(minutes=5), T0 + timedelta(minutes=5), T0 + timedelta(minutes=1)]
    with queued.store.write() as s:
        outbox.unclaim(s, "a", ids)
    with queued.store.read() as s:
        assert outbox.with_status(s, "sending") == []
        assert len(outbox.with_status(s, "pending")) == 3


def test_settle_records_an_attempt_only_while_claimed(queued):
    d = queued.store.dialect
    with queued.store.write() as s:
        [row] = outbox.claim(s, d, "a", 0, T0, T0 + timedelta(minutes=1), {"console"}, batch=10)
    with queued.store.core_write() as conn:
        outbox.settle_many(conn, "b", [(row.id, {"status": "sent", "sent_at": T0})])  # not its claim: nothing
    with queued.store.read() as s:
        assert outbox.get(s, row.id).status == "sending"
    with queued.store.core_write() as conn:
        outbox.settle_many(conn, "a", [(row.id, {"status": "sent", "sent_at": T0, "attempts": 1})])
    with queued.store.read() as s:
        done = outbox.get(s, row.id)
        assert (done.status, done.claimed_by, done.claimed_until, done.attempts) == ("sent", None, None, 1)
        assert outbox.get(s, row.id + 1000) is None


def test_settle_many_records_each_outcome_in_one_call_only_on_the_holder_s_rows(queued):
    """A sent, a retry and a failure at once (one statement per set of columns); a row claimed by another
    deliverer is left alone."""
    d = queued.store.dialect
    with queued.store.write() as s:
        ids = [r.id for r in outbox.claim(s, d, "a", 0, T0, T0 + timedelta(minutes=1), None, batch=2)]
        [other] = [r.id for r in outbox.claim(s, d, "b", 0, T0, T0 + timedelta(minutes=1), None, batch=1)]
    with queued.store.core_write() as conn:
        outbox.settle_many(conn, "a", [
            (ids[0], {"status": "sent", "sent_at": T0, "attempts": 1, "last_error": None, "sent_via": "email"}),
            (ids[1], {"status": "pending", "attempts": 1, "last_error": "SMTP: down", "failing_since": T0,
                      "next_attempt_at": T0 + timedelta(minutes=5)}),
            (other, {"status": "failed", "attempts": 1, "last_error": "SMTP: 550"})])
    with queued.store.read() as s:
        got = [outbox.get(s, i) for i in (*ids, other)]
    assert [(r.status, r.claimed_by, r.attempts, r.last_error) for r in got] == [
        ("sent", None, 1, None), ("pending", None, 1, "SMTP: down"), ("sending", "b", 0, None)]
    assert (got[0].sent_at, got[0].sent_via, got[1].next_attempt_at, got[1].failing_since) == (
        T0, "email", T0 + timedelta(minutes=5), T0)


def test_expire_fails_only_stale_pending_rows_keeping_the_last_error(wf):
    with wf.store.write() as s:
        outbox.insert_new(s, wf.store.dialect, [
            message("a:1:x:p1:email", stale_at=T0, last_error="timeout"), message("a:1:x:p2:email", stale_at=T0),
            message("a:1:x:p3:email", stale_at=T0 + timedelta(days=1)), message("a:1:x:p4:email")])
    with wf.store.core_write() as conn:
        assert outbox.expire(conn, T0, "stale") == 2
    with wf.store.read() as s:
        assert [(r.key, r.last_error) for r in outbox.with_status(s, "failed")] == [
            ("a:1:x:p1:email", "stale; last error: timeout"), ("a:1:x:p2:email", "stale")]


def test_waiting_rows_marked_with_a_reason_and_the_health_counts(queued):
    with queued.store.read() as s:
        assert outbox.count_waiting(s, "email", T0) == 2
        assert outbox.health(s, T0) == ({"pending": 3, "sent": 1}, 0, 0, None)
    with queued.store.core_write() as conn:
        # A Paris time: failing_since, written through COALESCE, is still stored as the same instant in UTC.
        outbox.mark_waiting(conn, "email", T0.astimezone(PARIS), "no SMTP server")
    with queued.store.read() as s:
        assert {r.last_error for r in outbox.with_status(s, "pending") if r.channel == "email"} == {"no SMTP server"}
        by, failing, too_long, oldest = outbox.health(s, T0 - timedelta(days=1))
        assert (by, failing, too_long, oldest) == ({"pending": 3, "sent": 1}, 2, 0, T0)
        assert outbox.health(s, T0)[2] == 2
        assert [r.key for r in outbox.listed(s, "sent")] == ["deadline:1:J-7:p2:email"]
        assert len(outbox.listed(s, limit=2)) == 2
        assert outbox.with_status(s, "sent", due_from=T0 + timedelta(seconds=1)) == []
