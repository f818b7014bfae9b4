"""The daemon's lease row on both stores: taken, refused while another holds it, extended, ended."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import paris
from workflow.store import lease

T0 = paris(2020, 7, 6, 9, 0)


def take(wf, holder, at, until):
    with wf.store.write() as s:
        return lease.take(s, wf.store.dialect, holder, at, until)


def test_no_lease_before_any_daemon(wf):
    with wf.store.read() as s:
        assert lease.get(s) is None


def test_a_live_lease_is_refused_to_another_holder_until_it_lapses(wf):
    assert take(wf, "a", T0, T0 + timedelta(minutes=1))
    assert not take(wf, "b", T0 + timedelta(seconds=59), T0 + timedelta(minutes=2))
    assert take(wf, "a", T0 + timedelta(seconds=30), T0 + timedelta(minutes=3))  # its holder renews it
    assert take(wf, "b", T0 + timedelta(minutes=3), T0 + timedelta(minutes=4))  # lapsed at the until
    with wf.store.read() as s:
        row = lease.get(s)
        assert (row.holder, row.until, row.heartbeat_at) == ("b", T0 + timedelta(minutes=4), T0 + timedelta(minutes=3))


def test_extend_only_for_its_holder_and_end_frees_it(wf):
    take(wf, "a", T0, T0 + timedelta(minutes=1))
    with wf.store.write() as s:
        assert lease.extend(s, "a", T0 + timedelta(seconds=20), T0 + timedelta(minutes=5))
        assert not lease.extend(s, "b", T0 + timedelta(seconds=20), T0 + timedelta(minutes=9))
    with wf.store.read() as s:
        assert lease.get(s).until == T0 + timedelta(minutes=5)
    with wf.store.write() as s:
        lease.end(s, "b", T0)  # not its lease: nothing changes
    assert not take(wf, "b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    with wf.store.write() as s:
        lease.end(s, "a", T0 + timedelta(minutes=1))
    assert take(wf, "b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))


def test_record_tick_creates_the_row_or_keeps_its_holder(wf):
    with wf.store.write() as s:
        lease.record_tick(s, "a", T0, '{"sent": 1}')
    with wf.store.read() as s:
        row = lease.get(s)
        assert (row.holder, row.last_tick_at, row.last_tick) == ("a", T0, '{"sent": 1}')
    take(wf, "b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    with wf.store.write() as s:
        lease.record_tick(s, "a", T0 + timedelta(minutes=1), '{"sent": 2}')
    with wf.store.read() as s:
        row = lease.get(s)
        assert (row.holder, row.last_tick) == ("b", '{"sent": 2}')
