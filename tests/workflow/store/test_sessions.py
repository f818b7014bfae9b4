"""The web's server-side sessions and spent single-use links, on both stores: found with their person,
stamped, ended one by one or all of a person's, and expired rows pruned when writing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from tests.conftest import paris
from tests.workflow.store.conftest import person_id
from workflow.store import sessions
from workflow.store.models import SpentLink, WebSession

T0 = paris(2020, 7, 6, 9, 0)


def count(w, model) -> int:
    with w.store.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_a_session_is_found_with_its_person_stamped_and_ended(world):
    coach, agent = person_id(world, "coach@example.org"), person_id(world, "agent0@example.org")
    with world.store.write() as s:
        sessions.open_session(s, "a" * 64, coach, T0, T0 - timedelta(hours=8))
        sessions.open_session(s, "b" * 64, coach, T0, T0 - timedelta(hours=8))
        sessions.open_session(s, "c" * 64, agent, T0, T0 - timedelta(hours=8))
    with world.store.read() as s:
        row = sessions.find(s.connection(), "a" * 64)
        assert (row.id, row.email, row.seen_at) == (coach, "coach@example.org", T0)
        assert sessions.find(s.connection(), "d" * 64) is None
    with world.store.write() as s:
        sessions.touch(s, "a" * 64, T0 + timedelta(minutes=6))
    with world.store.read() as s:
        assert sessions.find(s.connection(), "a" * 64).seen_at == T0 + timedelta(minutes=6)
    with world.store.write() as s:
        assert sessions.end(s, "a" * 64) and not sessions.end(s, "a" * 64)
        assert sessions.end_all(s, coach) == 1  # "b"; agent's stays
    with world.store.read() as s:
        assert [sessions.find(s.connection(), h) is None for h in ("a" * 64, "b" * 64, "c" * 64)] == [True, True, False]


def test_opening_a_session_prunes_the_idle_ones(world):
    coach = person_id(world, "coach@example.org")
    with world.store.write() as s:
        sessions.open_session(s, "a" * 64, coach, T0, T0 - timedelta(hours=8))
    later = T0 + timedelta(hours=9)
    with world.store.write() as s:
        sessions.open_session(s, "b" * 64, coach, later, later - timedelta(hours=8))
    with world.store.read() as s:
        assert sessions.find(s.connection(), "a" * 64) is None and sessions.find(s.connection(), "b" * 64)


def test_a_link_is_spent_once_and_its_row_goes_once_expired(world):
    until = T0 + timedelta(hours=1)
    with world.store.write() as s:
        assert sessions.spend(s, "x" * 64, until, T0)
    with world.store.write() as s:
        assert not sessions.spend(s, "x" * 64, until, T0 + timedelta(minutes=30))
    assert count(world, SpentLink) == 1
    with world.store.write() as s:  # past its expiry, the row goes when the next link is spent
        assert sessions.spend(s, "y" * 64, until + timedelta(hours=1), until + timedelta(seconds=1))
    with world.store.read() as s:
        assert s.exec(select(SpentLink.digest)).all() == ["y" * 64]
    assert count(world, WebSession) == 0
