"""Personal data in the store, on both stores: the person's row, every row referring to them by id or as
an actor, the free text naming them, their check-ins blanked, and what a purge counts."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import COORD, paris
from tests.workflow.store.conftest import PROG, TEAM, person_id, programme_id, team_id
from workflow.clock import FixedClock
from workflow.rules.scrub import Scrubber
from workflow.store import privacy


@pytest.fixture
def noted(world):
    """Two check-ins of the coordinator on TEAM, the second naming the coach, as of 17 July 2020."""
    w = world.at(FixedClock(paris(2020, 7, 17, 18, 0)))
    w.checkins.log(TEAM, on=date(2020, 7, 8), notes="Premier point", blockers="Aucun")
    w.checkins.log(TEAM, on=date(2020, 7, 15), notes="Vu avec Coach Un (coach@example.org)")
    return w


def test_the_person_row_and_primary_keys(world):
    with world.store.read() as s:
        me = privacy.person(s, "coach@example.org")
        assert (me["name"], me["email"], me["id"]) == ("Coach Un", "coach@example.org", person_id(world, "coach@example.org"))
        assert privacy.person(s, "nobody@example.org") is None
    assert privacy.primary_key("team_member") == ["team_id", "person_id", "role"]
    assert privacy.primary_key("person") == ["id"]


def test_referring_lists_every_table_also_when_empty(noted):
    coord = person_id(noted, COORD)
    with noted.store.read() as s:
        found = privacy.referring(s, coord, [COORD])
        assert set(found) == set(privacy.BY_ID) | set(privacy.BY_TEXT)
        assert found["person_role"] == []  # the coordinator's roles are grants now: admin, coordinator of one
        assert sorted(r["role"] for r in found["person_grant"]) == ["admin", "coordinator"]
        assert len(found["checkin"]) == 2 and found["outbox"] == []
        assert all(r["actor"] == COORD or r["actor_id"] == coord for r in found["event"])
        coach = privacy.referring(s, person_id(noted, "coach@example.org"), ["coach@example.org"])
        assert coach["checkin"] == [] and [r["role"] for r in coach["team_member"]] == ["coach"]


def test_mentions_find_the_name_and_email_in_free_text_only(noted):
    coach = person_id(noted, "coach@example.org")
    with noted.store.read() as s:
        found = privacy.mentions(s, Scrubber.of(coach, "Coach Un", "coach@example.org"))
        assert [r["notes"] for r in found["checkin"]] == ["Vu avec Coach Un (coach@example.org)"]
        nobody = privacy.mentions(s, Scrubber.of(999, "Personne Inconnue", "inconnue@example.org"))
        assert nobody == {}


def test_blank_checkins_and_the_events_about_them(noted):
    coord, tid = person_id(noted, COORD), team_id(noted)
    with noted.store.read() as s:
        assert len(privacy.checkin_events(s, [tid])) == 2
        assert [t["name"] for t in privacy.teams(s, [tid])] == [TEAM]
    with noted.store.write() as s:
        assert set(privacy.blank_checkins(s, coord).values()) == {tid}
    with noted.store.read() as s:
        rows = privacy.referring(s, coord, [COORD])["checkin"]
        assert [(r["notes"], r["blockers"]) for r in rows] == [(None, None), (None, None)]


def test_a_purge_counts_then_lists_the_rows_with_text(noted):
    pid = programme_id(noted)
    noted.funding.add_expense(PROG, "10", date(2020, 7, 3), "Salle")
    with noted.store.read() as s:
        assert [p[1] for p in privacy.programmes(s)] == [PROG]
        purge = privacy.Purge(s, [pid])
        assert (purge.count("checkin"), purge.count("expense"), purge.count("notice")) == (2, 1, 0)
        assert len(purge.ids("checkin")) == 2
        assert privacy.Purge(s, [pid + 1000]).count("checkin") == 0
