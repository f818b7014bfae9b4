"""The tables' own logic: aware UTC datetimes on both stores, naive ones refused, a team's commitment,
the coach's e-mail of each team in one correlated query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from tests.conftest import paris
from tests.workflow.store.conftest import TEAM
from workflow.store.models import DaemonLease, Team, coach_email, commitment


def test_commitment_is_the_smallest_once_every_one_is_known():
    assert commitment([2.0, 0.5, 1.0]) == 0.5
    assert commitment([2.0, None]) is None
    assert commitment([]) is None


def test_an_aware_datetime_comes_back_in_utc_the_same_instant(wf):
    at = paris(2020, 3, 29, 3, 30)  # just after the spring change in Paris
    with wf.store.write() as s:
        s.add(DaemonLease(name="daemon", holder="a", until=at, heartbeat_at=at))
    with wf.store.read() as s:
        until = s.get(DaemonLease, "daemon").until
    assert until == at and until.tzinfo == UTC and until.hour == 1


def test_a_naive_datetime_is_refused(wf):
    with pytest.raises(Exception, match="naive datetime"):
        with wf.store.write() as s:
            s.add(DaemonLease(name="daemon", holder="a", until=datetime(2020, 7, 1, 10, 0)))
            s.flush()


def test_coach_email_of_each_team(world):
    world.teams.add("Sans coach", "Pré-incubation 2020", "Pas-de-Calais")
    with world.store.read() as s:
        assert dict(s.execute(select(Team.name, coach_email()).order_by(Team.name)).all()) == {
            TEAM: "coach@example.org", "Sans coach": None}
